import { ArchTable, formatPlatform } from './arch'
import type { ArchOutcome, ArchRow, Current, CurrentEntry, Entry, Format, NewImage, Plan, PlannedAttestation, Policy } from './model'
import { names, SENTENCES } from './sentences'
import { servesPlanned } from './compare'

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

/** Where each arch of the current lists was seen: the destination, and its entry there. */
type Sightings = Map<string, Array<{ current: Current & { exists: true }; entry: CurrentEntry }>>

/** Step 1: name every entry of the current lists by arch; a platform no arch name maps to refuses the plan. */
function classifyCurrent(o: Observed): { seen: Sightings; unknown?: string } {
  const seen: Sightings = new Map()
  let unknown: string | undefined
  for (const current of o.current) {
    if (!current.exists) continue
    for (const entry of current.entries) {
      const arch = o.table.nameFor(entry.platform, o.arches)
      if (arch) seen.set(arch, [...(seen.get(arch) ?? []), { current, entry }])
      else unknown ??= SENTENCES.unknownPlatform(current.ref, formatPlatform(entry.platform))
    }
  }
  return { seen, unknown }
}

const entryOf = (arch: string, { platform, digest, mediaType }: CurrentEntry, repository: string, kept: boolean): Entry => ({
  arch,
  platform,
  digest,
  mediaType,
  ref: `${repository}@${digest}`,
  kept
})

/**
 * Step 2: what the missing-arch policy makes of the lost arches: the entries to publish (the new
 * images, plus the previous ones hybrid keeps), or a refusal or skip sentence.
 */
function applyPolicy(
  o: Observed,
  fresh: Entry[],
  lost: string[],
  seen: Sightings
): { entries: Entry[]; kept: string[]; dropped: string[] } | { refusal: string; skip?: true } {
  if (lost.length === 0) return { entries: fresh, kept: [], dropped: [] }
  switch (o.policy) {
    case 'fail': {
      const where = lost
        .map(a => {
          const at = [...new Set(seen.get(a)?.map(s => s.current.ref))]
          return `${a} (at ${at.length === o.current.length && at.length > 1 ? 'every destination' : names(at)})`
        })
        .join('; ')
      return { refusal: SENTENCES.lostFail(where, lost.length) }
    }
    case 'skip':
      return { refusal: SENTENCES.lostSkip(lost), skip: true }
    case 'hybrid': {
      const kept: Entry[] = []
      for (const arch of lost) {
        const sightings = seen.get(arch) ?? []
        if (new Set(sightings.map(s => s.entry.digest)).size > 1) {
          return { refusal: SENTENCES.hybridDisagree(arch, sightings.map(s => `${s.current.ref} has ${s.entry.digest}`).join(', ')) }
        }
        kept.push(entryOf(arch, sightings[0].entry, sightings[0].current.repository, true))
      }
      return { entries: [...fresh, ...kept], kept: lost, dropped: [] }
    }
    case 'drop':
      return { entries: fresh, kept: [], dropped: lost }
  }
}

/**
 * Step 3: which destinations to push. Every one that does not already serve exactly this list; and
 * if the up-to-date ones disagree among themselves, those too, so one digest is served everywhere.
 */
function choosePushes(
  o: Observed,
  entries: Entry[],
  attestations: PlannedAttestation[]
): { unchanged: boolean; push: string[]; upToDate: string[] } {
  const upToDate = o.current.filter(c => servesPlanned(c, entries, o.format, o.annotations, attestations))
  const agree = new Set(upToDate.map(c => (c.exists ? c.digest : ''))).size === 1
  const skipped = agree ? upToDate : []
  return {
    unchanged: agree && upToDate.length === o.current.length,
    push: o.current.filter(c => !skipped.includes(c)).map(c => c.ref),
    upToDate: skipped.map(c => c.ref)
  }
}

/** The heart of the action: from what was observed to what to do. Pure; no I/O. */
export function plan(o: Observed): Plan {
  const order = [...o.arches, ...o.table.names()]
  const byOrder = (a: string, b: string): number => order.indexOf(a) - order.indexOf(b)
  const sortArches = (items: Iterable<string>): string[] => [...new Set(items)].sort(byOrder)
  const missing = o.arches.filter(a => !o.images.get(a))
  const fresh: Entry[] = o.arches.flatMap(arch => {
    const image = o.images.get(arch)
    return image ? [entryOf(arch, image, image.repository, false)] : []
  })

  const { seen, unknown } = classifyCurrent(o)
  const lost = sortArches([...seen.keys()].filter(a => !o.images.get(a)))
  const rows = (entries: Entry[], dropped: string[]): ArchRow[] =>
    sortArches([...o.arches, ...seen.keys()]).map(arch => {
      const entry = entries.find(e => e.arch === arch)
      const outcome: ArchOutcome = entry
        ? entry.kept
          ? 'kept'
          : 'new'
        : dropped.includes(arch)
          ? 'dropped'
          : lost.includes(arch)
            ? 'lost'
            : 'missing'
      return { arch, newDigest: o.images.get(arch)?.digest, inCurrent: seen.get(arch)?.length ?? 0, outcome }
    })
  const nothing = { entries: [], missing, lost, kept: [], dropped: [], push: [], upToDate: [], rows: rows(fresh, []), attestations: [] }
  if (unknown) return { ...nothing, decision: 'refuse', reason: unknown }

  const policy = applyPolicy(o, fresh, lost, seen)
  if ('refusal' in policy) return { ...nothing, decision: policy.skip ? 'skip' : 'refuse', reason: policy.refusal }
  const entries = [...policy.entries].sort((a, b) => byOrder(a.arch, b.arch))
  const attestations = o.attestations === 'keep' ? entries.flatMap(e => attestationsOf(e, o, seen)) : []
  const decided = {
    missing,
    lost,
    kept: policy.kept,
    dropped: policy.dropped,
    entries,
    rows: rows(entries, policy.dropped),
    attestations,
    push: [],
    upToDate: []
  }
  if (entries.length === 0) return { ...decided, decision: 'refuse', reason: SENTENCES.emptyList(o.arches, policy.dropped) }

  const arches = entries.map(e => e.arch)
  const pushes = choosePushes(o, entries, attestations)
  if (pushes.unchanged) return { ...decided, decision: 'unchanged', reason: SENTENCES.unchanged(arches), upToDate: pushes.upToDate }
  const neverListed = missing.filter(m => !lost.includes(m))
  return {
    ...decided,
    decision: 'publish',
    reason: SENTENCES.publishing(arches, pushes.push.length, { kept: policy.kept, dropped: policy.dropped, neverListed }),
    push: pushes.push,
    upToDate: pushes.upToDate
  }
}

/** A new image's attestations from its source index; a kept image's from the current list that has it. */
function attestationsOf(e: Entry, o: Observed, seen: Sightings): PlannedAttestation[] {
  const found = e.kept
    ? (seen.get(e.arch) ?? []).flatMap(s =>
        s.current.attestations.filter(a => a.subject === e.digest).map(a => ({ ...a, repository: s.current.repository }))
      )
    : (o.images.get(e.arch)?.attestations ?? []).map(a => ({ ...a, repository: e.ref.slice(0, e.ref.lastIndexOf('@')) }))
  const byDigest = new Map(found.map(({ repository, ...a }) => [a.digest, { ...a, ref: `${repository}@${a.digest}`, arch: e.arch }]))
  return [...byDigest.values()]
}
