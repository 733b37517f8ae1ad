/**
 * Tests for mutants the mutation run (npm run mutate, Stryker) found alive in src/compare.ts: the
 * order of attestations and of planned entries does not matter, and a wrong attestation set is named
 * attestation by attestation.
 */
import type { Platform } from '../../src/arch'
import { checkServed, servesPlanned } from '../../src/compare'
import { ATTESTATION, MEDIA, parseManifest } from '../../src/manifest'
import type { Current, Entry, PlannedAttestation } from '../../src/model'

const digest = (c: string): string => `sha256:${c.repeat(64)}`
const [AMD, ARM, ATT_AMD, ATT_ARM] = [digest('a'), digest('b'), digest('c'), digest('d')]
const amd64: Platform = { os: 'linux', architecture: 'amd64' }
const arm64: Platform = { os: 'linux', architecture: 'arm64' }
const entry = (arch: string, platform: Platform, d: string): Entry => ({
  arch,
  platform,
  digest: d,
  mediaType: MEDIA.ociManifest,
  ref: `src.example/r@${d}`,
  kept: false
})
const attestation = (d: string, subject: string, arch: string): PlannedAttestation => ({
  digest: d,
  subject,
  arch,
  mediaType: MEDIA.ociManifest,
  annotations: { [ATTESTATION.type]: ATTESTATION.kind, [ATTESTATION.subject]: subject },
  ref: `src.example/r@${d}`
})
const ENTRIES = [entry('x86_64', amd64, AMD), entry('aarch64', arm64, ARM)]
const ATTESTATIONS = [attestation(ATT_AMD, AMD, 'x86_64'), attestation(ATT_ARM, ARM, 'aarch64')]

function served(entries: Entry[], attestations: PlannedAttestation[]) {
  return parseManifest(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.ociIndex,
        manifests: [
          ...entries.map(e => ({ mediaType: e.mediaType, digest: e.digest, size: 100, platform: e.platform })),
          ...attestations.map(a => ({
            mediaType: a.mediaType,
            digest: a.digest,
            size: 100,
            platform: { os: 'unknown', architecture: 'unknown' },
            annotations: a.annotations
          }))
        ]
      })
    )
  )
}

test('servesPlanned: the same attestations in another order are up to date', () => {
  const m = served(ENTRIES, [...ATTESTATIONS].reverse())
  const c: Current = {
    ref: 'r.example/x:1',
    repository: 'r.example/x',
    exists: true,
    ...m,
    entries: m.entries.map(e => ({ ...e, platform: e.platform! }))
  }
  expect([servesPlanned(c, ENTRIES, 'oci', {}, ATTESTATIONS), servesPlanned(c, ENTRIES, 'oci', {}, ATTESTATIONS.slice(1))]).toEqual([
    true,
    false
  ])
})

test('checkServed: entries planned in another order than served are what was planned', () => {
  expect(checkServed(served(ENTRIES, []), [...ENTRIES].reverse(), 'oci')).toBeUndefined()
})

test('checkServed: a wrong attestation set is named one attestation after the other', () => {
  expect(checkServed(served(ENTRIES, ATTESTATIONS), ENTRIES, 'oci', {}, ATTESTATIONS.slice(0, 1))).toBe(
    `its attestations are [${AMD}→${ATT_AMD}, ${ARM}→${ATT_ARM}], planned [${AMD}→${ATT_AMD}]`
  )
})
