import { ArchTable, formatPlatform, Platform } from './arch'
import type { Format, Policy } from './inputs'
import type { Attestation } from './manifest'
import { servesPlanned } from './verify'

/** A per-arch image found for this build. */
export interface NewImage {
  digest: string
  mediaType: string
  platform: Platform
  /** `<source>/<repo>` the image lives in. */
  repository: string
  /** The attestation manifests its source index holds for it (buildx provenance, SBOM). */
  attestations: Attestation[]
}

export interface CurrentEntry {
  platform: Platform
  digest: string
  mediaType: string
}

/** What a destination serves now. A single image counts as a list of one. */
export type Current =
  | { ref: string; repository: string; exists: false }
  | {
      ref: string
      repository: string
      exists: true
      digest: string
      mediaType: string
      isList: boolean
      entries: CurrentEntry[]
      attestations: Attestation[]
      annotations: Record<string, string>
    }

export interface Observed {
  arches: string[]
  table: ArchTable
  images: Map<string, NewImage | undefined>
  current: Current[]
  policy: Policy
  format: Format
  annotations: Record<string, string>
  /** `keep`: each image's attestation manifests go into the list with it. */
  attestations: 'drop' | 'keep'
}

/** An attestation manifest in the list to publish, with where buildah fetches it from. */
export interface PlannedAttestation extends Attestation {
  /** `<repository>@<digest>`. */
  ref: string
  /** The arch of the image it attests. */
  arch: string
}

/** One image in the list to publish. */
export interface Entry {
  arch: string
  platform: Platform
  digest: string
  mediaType: string
  /** Where buildah fetches it from: `<repository>@<digest>`. */
  ref: string
  kept: boolean
}

export type Decision = 'publish' | 'unchanged' | 'skip' | 'refuse'
export type ArchOutcome = 'new' | 'kept' | 'dropped' | 'lost' | 'missing'

export interface ArchRow {
  arch: string
  newDigest?: string
  /** How many destinations list this arch now. */
  inCurrent: number
  outcome: ArchOutcome
}

export interface Plan {
  decision: Decision
  /** The decision in one sentence. */
  reason: string
  entries: Entry[]
  missing: string[]
  lost: string[]
  kept: string[]
  dropped: string[]
  /** Destinations to push to. */
  push: string[]
  /** Destinations that already serve exactly these entries. */
  upToDate: string[]
  rows: ArchRow[]
  /** Attestation manifests that go into the list (none unless input `attestations` is `keep`). */
  attestations: PlannedAttestation[]
}

const list = (names: string[]): string => names.join(', ')

/** The heart of the action: from what was observed to what to do. Pure; no I/O. */
export function plan(o: Observed): Plan {
  const order = [...o.arches, ...o.table.names()]
  const byOrder = (a: string, b: string): number => order.indexOf(a) - order.indexOf(b)
  const sortArches = (names: Iterable<string>): string[] => [...new Set(names)].sort(byOrder)
  const missing = o.arches.filter(a => !o.images.get(a))
  const entry = (arch: string, { platform, digest, mediaType }: CurrentEntry, repository: string, kept: boolean): Entry => ({
    arch,
    platform,
    digest,
    mediaType,
    ref: `${repository}@${digest}`,
    kept
  })

  const fresh: Entry[] = o.arches.flatMap(arch => {
    const image = o.images.get(arch)
    return image ? [entry(arch, image, image.repository, false)] : []
  })

  // Which arch each current entry is, and where it was seen.
  const seen = new Map<string, Array<{ current: Current & { exists: true }; entry: CurrentEntry }>>()
  let unknown: string | undefined
  for (const current of o.current) {
    if (!current.exists) continue
    for (const entry of current.entries) {
      const arch = o.table.nameFor(entry.platform, o.arches)
      if (arch) {
        seen.set(arch, [...(seen.get(arch) ?? []), { current, entry }])
      } else if (!unknown) {
        const p = formatPlatform(entry.platform)
        unknown = `Refusing to publish: ${current.ref} serves an image for platform ${p}, which maps to no known arch; name it with input "arch-map" (e.g. {myarch: ${p}}) so it can be kept, dropped or rebuilt deliberately.`
      }
    }
  }
  const lost = sortArches([...seen.keys()].filter(a => !o.images.get(a)))
  const rows = (entries: Entry[], dropped: string[]): ArchRow[] =>
    sortArches([...o.arches, ...seen.keys()]).map(arch => {
      const entry = entries.find(e => e.arch === arch)
      const outcome: ArchOutcome = entry ? (entry.kept ? 'kept' : 'new') : dropped.includes(arch) ? 'dropped' : lost.includes(arch) ? 'lost' : 'missing'
      return { arch, newDigest: o.images.get(arch)?.digest, inCurrent: seen.get(arch)?.length ?? 0, outcome }
    })
  const refuse = (reason: string, extra: Partial<Plan> = {}): Plan => ({
    decision: 'refuse',
    reason,
    entries: [],
    missing,
    lost,
    kept: [],
    dropped: [],
    push: [],
    upToDate: [],
    rows: rows(fresh, []),
    attestations: [],
    ...extra
  })
  if (unknown) return refuse(unknown)

  const entries = [...fresh]
  let kept: string[] = []
  let dropped: string[] = []
  if (lost.length > 0) {
    const where = lost
      .map(a => {
        const at = [...new Set(seen.get(a)?.map(s => s.current.ref))]
        return `${a} (at ${at.length === o.current.length && at.length > 1 ? 'every destination' : list(at)})`
      })
      .join('; ')
    const one = lost.length === 1
    switch (o.policy) {
      case 'fail':
        return refuse(
          `Refusing to publish: ${where} ${one ? 'is' : 'are'} in the current list but ${one ? 'has' : 'have'} no new image, and missing-arch-policy is fail. Rebuild ${one ? 'it' : 'them'}, or set missing-arch-policy to hybrid (keep the previous image) or drop (publish without ${one ? 'it' : 'them'}).`
        )
      case 'skip':
        return { ...refuse(`Skipped: ${list(lost)} would be lost (in the current list, no new image) and missing-arch-policy is skip; nothing was pushed.`), decision: 'skip' }
      case 'hybrid':
        for (const arch of lost) {
          const sightings = seen.get(arch) ?? []
          const digests = [...new Set(sightings.map(s => s.entry.digest))]
          if (digests.length > 1) {
            return refuse(
              `Refusing to publish: the destinations disagree on the previous ${arch} image (${sightings.map(s => `${s.current.ref} has ${s.entry.digest}`).join(', ')}), so there is no single image to keep.`
            )
          }
          entries.push(entry(arch, sightings[0].entry, sightings[0].current.repository, true))
        }
        kept = lost
        break
      case 'drop':
        dropped = lost
        break
    }
  }
  entries.sort((a, b) => byOrder(a.arch, b.arch))
  const attestations = o.attestations === 'keep' ? entries.flatMap(e => attestationsOf(e, o, seen)) : []
  const done = { missing, lost, kept, dropped, entries, rows: rows(entries, dropped), attestations }
  if (entries.length === 0) {
    return refuse(`Refusing to publish an empty list: no per-arch image was found for ${list(o.arches)}${dropped.length ? ` and ${list(dropped)} would be dropped` : ''}.`, done)
  }

  const upToDate = o.current.filter(c => servesPlanned(c, entries, o.format, o.annotations, attestations))
  const digests = new Set(upToDate.map(c => (c.exists ? c.digest : '')))
  const names = list(entries.map(e => e.arch))
  if (upToDate.length === o.current.length && digests.size === 1) {
    return { ...done, decision: 'unchanged', reason: `Every destination already serves this list (${names}); nothing was pushed.`, push: [], upToDate: upToDate.map(c => c.ref) }
  }
  // Up-to-date lists that disagree among themselves are rewritten, so that one digest is served everywhere.
  const skip = digests.size === 1 ? upToDate : []
  const push = o.current.filter(c => !skip.includes(c)).map(c => c.ref)
  const neverListed = missing.filter(m => !lost.includes(m))
  const notes = [
    kept.length ? `keeping the previous image for ${list(kept)}` : '',
    dropped.length ? `dropping ${list(dropped)}` : '',
    neverListed.length ? `without ${list(neverListed)} (asked for, no image, not in any current list)` : ''
  ].filter(Boolean)
  return {
    ...done,
    decision: 'publish',
    reason: `Publishing ${names} to ${push.length} destination${push.length === 1 ? '' : 's'}${notes.length ? `, ${notes.join('; ')}` : ''}.`,
    push,
    upToDate: skip.map(c => c.ref)
  }
}

/** A new image's attestations from its source index; a kept image's from the current list that has it. */
function attestationsOf(e: Entry, o: Observed, seen: Map<string, Array<{ current: Current & { exists: true }; entry: CurrentEntry }>>): PlannedAttestation[] {
  const found = e.kept
    ? (seen.get(e.arch) ?? []).flatMap(s => s.current.attestations.filter(a => a.subject === e.digest).map(a => ({ ...a, repository: s.current.repository })))
    : (o.images.get(e.arch)?.attestations ?? []).map(a => ({ ...a, repository: e.ref.slice(0, e.ref.lastIndexOf('@')) }))
  const byDigest = new Map(found.map(({ repository, ...a }) => [a.digest, { ...a, ref: `${repository}@${a.digest}`, arch: e.arch }]))
  return [...byDigest.values()]
}
