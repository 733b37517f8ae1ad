import { Platform, platformKey } from './arch'
import type { Format } from './model'
import { Attestation, FORMAT_MEDIA, Manifest } from './manifest'
import type { Current, Entry, PlannedAttestation } from './model'

/**
 * Every check of what a list holds, in one place and without a read: the local list before it is
 * pushed, what a destination serves before (up to date?) and after the push (read back).
 */

/** Entries as sorted `platform@digest` strings, for comparing lists whatever their order. */
export function signature(entries: ReadonlyArray<{ digest: string; platform?: Platform }>): string {
  return entries
    .map(e => `${e.platform ? platformKey(e.platform) : 'no platform'}@${e.digest}`)
    .sort()
    .join(', ')
}

/** Attestations as sorted `subject→digest` strings. */
function attestationSignature(attestations: ReadonlyArray<Pick<Attestation, 'digest' | 'subject'>>): string {
  return attestations
    .map(a => `${a.subject}→${a.digest}`)
    .sort()
    .join(', ')
}

const UNKNOWN: Platform = { os: 'unknown', architecture: 'unknown' }

/** What is wrong with the local list before it is pushed, or undefined if it holds exactly the plan (attestations as unknown/unknown entries). */
export function checkLocal(
  local: Array<{ digest: string; platform?: Platform }>,
  entries: Entry[],
  attestations: PlannedAttestation[] = []
): string | undefined {
  const want = signature([...entries, ...attestations.map(a => ({ digest: a.digest, platform: UNKNOWN }))])
  const have = signature(local)
  return want === have ? undefined : `the local list holds [${have}] but the plan is [${want}]`
}

/** Whether a destination already serves a list of exactly these entries and annotations, in this format. */
export function servesPlanned(
  c: Current,
  entries: Entry[],
  format: Format,
  annotations: Record<string, string>,
  attestations: PlannedAttestation[] = []
): boolean {
  if (!c.exists || !c.isList || c.mediaType !== FORMAT_MEDIA[format].list) return false
  // Exactly these annotations: dropping one from the input must republish without it.
  const keys = Object.keys(annotations)
  if (keys.length !== Object.keys(c.annotations).length || keys.some(k => c.annotations[k] !== annotations[k])) return false
  return signature(entries) === signature(c.entries) && attestationSignature(attestations) === attestationSignature(c.attestations)
}

/**
 * What is wrong with a list as a registry served it after the push, or undefined if it is what was
 * planned. Entry digests are only compared when buildah had no reason to convert the entry.
 */
export function checkServed(
  served: Manifest | null,
  entries: Entry[],
  format: Format,
  annotations: Record<string, string> = {},
  attestations: PlannedAttestation[] = []
): string | undefined {
  if (!served) return 'it serves nothing'
  if (!served.isList || served.mediaType !== FORMAT_MEDIA[format].list)
    return `it serves ${served.mediaType}, not ${FORMAT_MEDIA[format].list}`
  const lacking = Object.keys(annotations).filter(k => served.annotations[k] !== annotations[k])
  if (lacking.length) return `its annotations lack ${lacking.join(', ')}`
  const want = entries.map(e => platformKey(e.platform)).sort()
  const have = served.entries.map(d => (d.platform ? platformKey(d.platform) : 'no platform')).sort()
  if (want.join(' ') !== have.join(' ')) return `it lists platforms [${have.join(', ')}], planned [${want.join(', ')}]`
  for (const e of entries) {
    if (e.mediaType !== FORMAT_MEDIA[format].entry) continue
    const d = served.entries.find(s => s.platform && platformKey(s.platform) === platformKey(e.platform))
    if (d?.digest !== e.digest) return `its ${e.arch} entry is ${d?.digest}, planned ${e.digest}`
  }
  const servedAttestations = attestationSignature(served.attestations)
  const plannedAttestations = attestationSignature(attestations)
  if (servedAttestations !== plannedAttestations) return `its attestations are [${servedAttestations}], planned [${plannedAttestations}]`
  return undefined
}
