/**
 * src/verify.ts: every check of what a list holds, with fake skopeo reads where it reads a registry.
 * The checks are also proven against lying registries in test/integration/transaction.test.ts; here
 * each branch is pinned down on its own.
 */
import type { Platform } from '../../src/arch'
import { MEDIA, parseManifest, sha256 } from '../../src/manifest'
import type { Current, Entry, PlannedAttestation } from '../../src/model'
import type { Reader } from '../../src/registry/reader'
import { Skopeo } from '../../src/skopeo'
import { checkLocal, checkServed, servesPlanned, signature } from '../../src/compare'
import { readBack, unservable } from '../../src/verify'

const digest = (c: string): string => `sha256:${c.repeat(64)}`
const AMD = digest('a')
const ARM = digest('b')
const OTHER = digest('c')
const amd64: Platform = { os: 'linux', architecture: 'amd64' }
const arm64: Platform = { os: 'linux', architecture: 'arm64' }

const entry = (arch: string, platform: Platform, d: string, mediaType: string = MEDIA.ociManifest): Entry => ({
  arch,
  platform,
  digest: d,
  mediaType,
  ref: `src.example/r@${d}`,
  kept: false
})
const ENTRIES = [entry('x86_64', amd64, AMD), entry('aarch64', arm64, ARM)]

/** A list as a registry would serve it. */
function listRaw(
  manifests: Array<{ digest: string; platform?: Platform; mediaType?: string }>,
  o: { mediaType?: string; annotations?: Record<string, string> } = {}
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: o.mediaType ?? MEDIA.ociIndex,
      manifests: manifests.map(m => ({
        mediaType: m.mediaType ?? MEDIA.ociManifest,
        digest: m.digest,
        size: 100,
        ...(m.platform ? { platform: m.platform } : {})
      })),
      ...(o.annotations ? { annotations: o.annotations } : {})
    })
  )
}
const list = (...args: Parameters<typeof listRaw>) => parseManifest(listRaw(...args))
const PLANNED = [
  { digest: AMD, platform: amd64 },
  { digest: ARM, platform: arm64 }
]
const imageRaw = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: AMD, size: 2 },
    layers: []
  })
)

/** A skopeo whose manifest() answers from `answers` in turn (the last one repeats); an Error is thrown. */
function fakeSkopeo(...answers: Array<Buffer | null | Error>) {
  const manifest = jest.fn<Promise<Buffer | null>, [string, { fresh?: boolean }?]>(async () => {
    const a = answers.length > 1 ? answers.shift() : answers[0]
    if (a instanceof Error) throw a
    return a ?? null
  })
  // As Skopeo.digest does it: a fresh read of the bytes.
  const digest = async (ref: string): Promise<string | null> => {
    const raw = await manifest(ref, { fresh: true })
    return raw ? sha256(raw) : null
  }
  return { skopeo: { manifest, digest } as unknown as Reader, manifest }
}

describe('signature and checkLocal: the local list against the plan', () => {
  test('order does not matter; an entry without a platform is named so', () => {
    expect(
      signature([
        { digest: ARM, platform: arm64 },
        { digest: AMD, platform: amd64 }
      ])
    ).toBe(signature(ENTRIES))
    expect(signature([{ digest: AMD }])).toBe(`no platform@${AMD}`)
  })

  test('exactly the plan passes; a lost, stray or unplatformed entry is named', () => {
    expect(checkLocal(PLANNED, ENTRIES)).toBeUndefined()
    expect(checkLocal([PLANNED[0]], ENTRIES)).toBe(
      `the local list holds [linux/amd64@${AMD}] but the plan is [linux/amd64@${AMD}, linux/arm64@${ARM}]`
    )
    expect(checkLocal([...PLANNED, { digest: OTHER, platform: { os: 'linux', architecture: 's390x' } }], ENTRIES)).toMatch(/linux\/s390x@/)
    expect(checkLocal([PLANNED[0], { digest: ARM }], ENTRIES)).toMatch(/no platform@/)
  })
})

/** A destination serving the planned entries; `o` changes what differs. */
const current = (o: Partial<Extract<Current, { exists: true }>> = {}): Current => ({
  ref: 'r.example/x:1',
  repository: 'r.example/x',
  exists: true,
  digest: OTHER,
  mediaType: MEDIA.ociIndex,
  isList: true,
  entries: PLANNED.map(p => ({ ...p, mediaType: MEDIA.ociManifest })),
  attestations: [],
  annotations: {},
  ...o
})

describe('servesPlanned: is a destination already up to date?', () => {
  test.each<[string, Current, Record<string, string>, boolean]>([
    ['exactly these entries', current(), {}, true],
    ['exactly these entries and annotations', current({ annotations: { k: 'v' } }), { k: 'v' }, true],
    ['nothing there', { ref: 'r.example/x:1', repository: 'r.example/x', exists: false }, {}, false],
    ['a single image', current({ isList: false }), {}, false],
    ['a Docker list when oci is asked for', current({ mediaType: MEDIA.dockerList }), {}, false],
    ['an annotation fewer', current(), { k: 'v' }, false],
    ['an annotation more (dropped from the input)', current({ annotations: { k: 'v' } }), {}, false],
    ['an annotation with another value', current({ annotations: { k: 'w' } }), { k: 'v' }, false],
    ['an entry fewer', current({ entries: [{ ...PLANNED[0], mediaType: MEDIA.ociManifest }] }), {}, false],
    [
      'another image for an arch',
      current({
        entries: [
          { ...PLANNED[0], mediaType: MEDIA.ociManifest },
          { digest: OTHER, platform: arm64, mediaType: MEDIA.ociManifest }
        ]
      }),
      {},
      false
    ]
  ])('%s → %s', (_name, c, annotations, expected) => {
    expect(servesPlanned(c, ENTRIES, 'oci', annotations)).toBe(expected)
  })
})

describe('checkServed: what a destination serves after the push', () => {
  test.each<[string, ReturnType<typeof list> | null, string | undefined]>([
    ['exactly the plan', list(PLANNED), undefined],
    [
      'exactly the plan, other order, annotations the input did not ask for',
      list([...PLANNED].reverse(), { annotations: { extra: 'x' } }),
      undefined
    ],
    ['nothing', null, 'it serves nothing'],
    ['a single image', parseManifest(imageRaw), `it serves ${MEDIA.ociManifest}, not ${MEDIA.ociIndex}`],
    ['a Docker list', list(PLANNED, { mediaType: MEDIA.dockerList }), `it serves ${MEDIA.dockerList}, not ${MEDIA.ociIndex}`],
    ['an entry lost', list([PLANNED[0]]), 'it lists platforms [linux/amd64], planned [linux/amd64, linux/arm64]'],
    [
      'an entry more',
      list([...PLANNED, { digest: OTHER, platform: { os: 'linux', architecture: 's390x' } }]),
      'it lists platforms [linux/amd64, linux/arm64, linux/s390x], planned [linux/amd64, linux/arm64]'
    ],
    [
      'an entry without a platform (not a platform entry, like an attestation)',
      list([PLANNED[0], { digest: ARM }]),
      'it lists platforms [linux/amd64], planned [linux/amd64, linux/arm64]'
    ],
    ['another image for an arch', list([PLANNED[0], { digest: OTHER, platform: arm64 }]), `its aarch64 entry is ${OTHER}, planned ${ARM}`]
  ])('%s', (_name, served, problem) => {
    expect(checkServed(served, ENTRIES, 'oci')).toBe(problem)
  })

  test('annotations asked for must be served, each with its value', () => {
    const want = { 'org.example.a': '1', 'org.example.b': '2' }
    expect(checkServed(list(PLANNED, { annotations: want }), ENTRIES, 'oci', want)).toBeUndefined()
    expect(checkServed(list(PLANNED), ENTRIES, 'oci', want)).toBe('its annotations lack org.example.a, org.example.b')
    expect(checkServed(list(PLANNED, { annotations: { 'org.example.a': '1', 'org.example.b': 'other' } }), ENTRIES, 'oci', want)).toBe(
      'its annotations lack org.example.b'
    )
  })

  test('an entry buildah had to convert (OCI image into a v2s2 list) is compared by platform only', () => {
    const converted = list(
      [
        { digest: OTHER, platform: amd64, mediaType: MEDIA.dockerManifest },
        { digest: ARM, platform: arm64, mediaType: MEDIA.dockerManifest }
      ],
      { mediaType: MEDIA.dockerList }
    )
    const entries = [entry('x86_64', amd64, AMD), entry('aarch64', arm64, ARM, MEDIA.dockerManifest)]
    expect(checkServed(converted, entries, 'v2s2')).toBeUndefined()
    // The Docker entry was not converted: its digest must be the planned one.
    const wrong = list(
      [
        { digest: AMD, platform: amd64, mediaType: MEDIA.dockerManifest },
        { digest: OTHER, platform: arm64, mediaType: MEDIA.dockerManifest }
      ],
      { mediaType: MEDIA.dockerList }
    )
    expect(checkServed(wrong, entries, 'v2s2')).toBe(`its aarch64 entry is ${OTHER}, planned ${ARM}`)
  })
})

describe('Skopeo.digest', () => {
  test('the digest of the bytes served, read afresh; null when there is nothing', async () => {
    const raw = listRaw(PLANNED)
    const skopeo = new Skopeo({ tlsVerify: true, env: {}, retries: 0 })
    const manifest = jest.spyOn(skopeo, 'manifest').mockResolvedValueOnce(raw).mockResolvedValueOnce(null)
    expect(await skopeo.digest('r.example/x:1')).toBe(sha256(raw))
    expect(await skopeo.digest('r.example/x:1')).toBeNull()
    expect(manifest).toHaveBeenCalledWith('r.example/x:1', { fresh: true })
  })
})

describe('readBack: waits for a lagging registry, within a bound', () => {
  const old = listRaw([PLANNED[0]])
  const pushed = listRaw(PLANNED)
  const isPushed = (m: ReturnType<typeof list> | null): boolean => m?.digest === sha256(pushed)

  test('what it wants at the first read: one read', async () => {
    const { skopeo, manifest } = fakeSkopeo(pushed)
    expect((await readBack(skopeo, 'r.example/x:1', isPushed, { waitMs: 1000, firstPauseMs: 1 }))?.digest).toBe(sha256(pushed))
    expect(manifest).toHaveBeenCalledTimes(1)
  })

  test('the old list (or nothing) for a while: read again until the pushed list is served', async () => {
    const { skopeo, manifest } = fakeSkopeo(old, null, old, pushed)
    expect((await readBack(skopeo, 'r.example/x:1', isPushed, { waitMs: 10_000, firstPauseMs: 1 }))?.digest).toBe(sha256(pushed))
    expect(manifest).toHaveBeenCalledTimes(4)
    for (const call of manifest.mock.calls) expect(call[1]).toEqual({ fresh: true })
  })

  test('the wait runs out: what was served last is returned, for the caller to name', async () => {
    const stale = fakeSkopeo(old)
    expect((await readBack(stale.skopeo, 'r.example/x:1', isPushed, { waitMs: 30, firstPauseMs: 2 }))?.digest).toBe(sha256(old))
    expect(stale.manifest.mock.calls.length).toBeGreaterThan(1)
    const gone = fakeSkopeo(null)
    expect(await readBack(gone.skopeo, 'r.example/x:1', isPushed, { waitMs: 0, firstPauseMs: 1 })).toBeNull()
    expect(gone.manifest).toHaveBeenCalledTimes(1)
  })
})

describe('unservable: the last word before published', () => {
  test('each entry read by digest in the repository, afresh; nothing missing', async () => {
    const { skopeo, manifest } = fakeSkopeo(imageRaw)
    expect(await unservable(skopeo, 'r.example/x', ENTRIES)).toEqual([])
    expect(manifest.mock.calls).toEqual([
      [`r.example/x@${AMD}`, { fresh: true }],
      [`r.example/x@${ARM}`, { fresh: true }]
    ])
  })

  test('an entry the repository does not have, and one it fails to serve, are named', async () => {
    const { skopeo } = fakeSkopeo(null, new Error('received unexpected HTTP status: 500 Internal Server Error'))
    expect(await unservable(skopeo, 'r.example/x', ENTRIES)).toEqual([
      'x86_64',
      'aarch64 (received unexpected HTTP status: 500 Internal Server Error)'
    ])
  })
})

describe('attestations (input attestations: keep): part of every comparison', () => {
  const ATT = digest('d')
  const attestation: PlannedAttestation = {
    digest: ATT,
    mediaType: MEDIA.ociManifest,
    subject: AMD,
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': AMD },
    ref: `src.example/r@${ATT}`,
    arch: 'x86_64'
  }
  const unknown: Platform = { os: 'unknown', architecture: 'unknown' }
  const served = (attestations: PlannedAttestation[]) =>
    parseManifest(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.ociIndex,
          manifests: [
            ...PLANNED.map(p => ({ mediaType: MEDIA.ociManifest, digest: p.digest, size: 100, platform: p.platform })),
            ...attestations.map(a => ({
              mediaType: a.mediaType,
              digest: a.digest,
              size: 100,
              platform: unknown,
              annotations: a.annotations
            }))
          ]
        })
      )
    )

  test('checkLocal: an attestation is an unknown/unknown entry of the local list', () => {
    expect(checkLocal([...PLANNED, { digest: ATT, platform: unknown }], ENTRIES, [attestation])).toBeUndefined()
    expect(checkLocal(PLANNED, ENTRIES, [attestation])).toMatch(/but the plan is \[.*unknown\/unknown@sha256:d{64}/)
  })

  test('checkServed: the attestations served must be the planned ones', () => {
    expect(checkServed(served([attestation]), ENTRIES, 'oci', {}, [attestation])).toBeUndefined()
    expect(checkServed(served([]), ENTRIES, 'oci', {}, [attestation])).toBe(`its attestations are [], planned [${AMD}→${ATT}]`)
    expect(checkServed(served([attestation]), ENTRIES, 'oci')).toBe(`its attestations are [${AMD}→${ATT}], planned []`)
  })

  test('servesPlanned: a list without the planned attestations (or with others) is not up to date', () => {
    expect(servesPlanned(current({ attestations: [attestation] }), ENTRIES, 'oci', {}, [attestation])).toBe(true)
    expect(servesPlanned(current({ attestations: [] }), ENTRIES, 'oci', {}, [attestation])).toBe(false)
    expect(servesPlanned(current({ attestations: [attestation] }), ENTRIES, 'oci', {})).toBe(false)
  })
})
