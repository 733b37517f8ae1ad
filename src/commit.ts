import * as log from './log'
import { Buildah } from './buildah'
import type { Format } from './model'
import { Manifest, parseManifest } from './manifest'
import { repositoryOf } from './reference'
import type { Current, Plan } from './model'
import type { DestinationReport, Report } from './summary'
import { explain } from './retry'
import type { Reader } from './registry/reader'
import { Skopeo } from './skopeo'
import { checkServed } from './compare'
import { sleep } from './timing'
import { readBack, unservable, Wait } from './verify'

/**
 * Commit: move each tag to the staged list, one manifest PUT per destination, and read each back.
 * Registries have no compare-and-swap, so each tag is re-read just before it moves: if another
 * writer moved it since it was observed, the commit stops and the caller plans again. With `atomic`,
 * any failure puts every tag this run moved back to the list it served before. Destinations that
 * had no list cannot be put back (deleting tags is not portable), so they move last.
 */

/** Another writer moved `ref` after this run observed it. */
export class MovedByOther extends Error {
  constructor(
    readonly ref: string,
    expected: string | null,
    found: string | null
  ) {
    super(
      `${ref} changed while this run was publishing (it served ${expected ?? 'nothing'}, now ${found ?? 'nothing'}): another run or person is writing to it`
    )
    this.name = 'MovedByOther'
  }
}

/** The run was cancelled (SIGINT/SIGTERM). */
export class Cancelled extends Error {
  constructor() {
    super('The run was cancelled')
    this.name = 'Cancelled'
  }
}

export interface CommitOptions {
  /** Writes: the rollback's copy. */
  skopeo: Pick<Skopeo, 'copy'>
  reader: Reader
  buildah: Buildah
  listName: string
  plan: Plan
  current: Current[]
  format: Format
  annotations: Record<string, string>
  /** `push --all`: the images travel with the list (the format converts them). */
  withImages: boolean
  atomic: boolean
  wait: Wait
  report: Report
  signal: AbortSignal
}

function destination(report: Report, ref: string): DestinationReport {
  return report.destinations.find(d => d.ref === ref) as DestinationReport
}

export async function commit(o: CommitOptions): Promise<void> {
  const byRef = new Map(o.current.map(c => [c.ref, c]))
  /** Tags a push of this run may have moved, in the order they were tried. */
  const attempted: string[] = []
  const served = new Map<string, string>()
  const failures = new Map<string, string>()
  let movedByOther: MovedByOther | undefined

  const fail = (ref: string, detail: string): void => {
    failures.set(ref, detail)
    Object.assign(destination(o.report, ref), { status: 'failed', detail })
  }

  // Every entry read from every destination repository: the last word before `published`. Once per
  // repository, as soon as its first tag has moved and read back, so it overlaps the other moves.
  const items = [...o.plan.entries, ...o.plan.attestations.map(a => ({ arch: `${a.arch} attestation`, digest: a.digest }))]
  const servable = new Map<string, Promise<string[]>>()
  const checkServable = async (repository: string): Promise<void> => {
    if (!servable.has(repository)) servable.set(repository, unservable(o.reader, repository, items))
    const missing = await (servable.get(repository) as Promise<string[]>)
    if (missing.length > 0) throw new Error(`${repository} cannot serve entries of the list: ${missing.join('; ')}`)
  }

  const isPlanned = (m: Manifest | null): boolean =>
    checkServed(m, o.plan.entries, o.format, o.annotations, o.plan.attestations) === undefined

  /** Re-check, push, read back until it serves the pushed list, check it. Returns the served digest. */
  const move = async (ref: string): Promise<string> => {
    const previous = byRef.get(ref) as Current
    const expected = previous.exists ? previous.digest : null
    const now = await o.reader.digest(ref)
    if (now !== expected) throw new MovedByOther(ref, expected, now)
    if (o.signal.aborted) throw new Cancelled()
    attempted.push(ref)
    const pushed = await o.buildah.push(o.listName, ref, o.format, o.withImages)
    // The entries are read from the repository while the tag is read back: both only after the move.
    const servableCheck = checkServable(repositoryOf(ref))
    servableCheck.catch(() => undefined)
    const m = await readBack(o.reader, ref, s => (pushed ? s?.digest === pushed : isPlanned(s)), o.wait)
    const wrong = checkServed(m, o.plan.entries, o.format, o.annotations, o.plan.attestations)
    if (wrong || !m) throw new Error(`after the push ${wrong}`)
    if (pushed && pushed !== m.digest) throw new Error(`buildah pushed ${pushed} but the registry serves ${m.digest}`)
    await servableCheck
    return m.digest
  }

  const wave = async (refs: string[]): Promise<void> => {
    if (refs.length === 0) return
    if (o.signal.aborted) throw new Cancelled()
    const settle = async (ref: string): Promise<void> => {
      try {
        const digest = await move(ref)
        served.set(ref, digest)
        Object.assign(destination(o.report, ref), { status: 'published', detail: undefined })
        log.info(`${ref}: moved to ${digest}`)
      } catch (e) {
        if (e instanceof MovedByOther) movedByOther ??= e
        else fail(ref, explain(e))
        log.info(`${ref}: ${explain(e)}`)
      }
    }
    if (o.withImages) {
      // `push --all` uploads images: concurrent uploads into one repository race ("manifest blob unknown").
      const byRepository = new Map<string, string[]>()
      for (const ref of refs) byRepository.set(repositoryOf(ref), [...(byRepository.get(repositoryOf(ref)) ?? []), ref])
      await Promise.all(
        [...byRepository.values()].map(async ([first, ...rest]) => {
          await settle(first)
          await Promise.all(rest.map(settle))
        })
      )
    } else {
      await Promise.all(refs.map(settle))
    }
    // One digest everywhere: the first destination's is the reference.
    const reference = [...served.values()][0]
    for (const [ref, digest] of served) if (digest !== reference) fail(ref, `serves ${digest}, other destinations ${reference}`)
    if (movedByOther) throw movedByOther
    if (failures.size > 0 && o.atomic) throw new Error(failureText())
  }

  const failureText = (): string =>
    `Published to ${o.report.destinations.length - failures.size} of ${o.report.destinations.length} destinations; failed: ${[...failures].map(([ref, detail]) => `${ref} (${detail})`).join('; ')}`

  /** Lists that already hold these images under another digest are rewritten, so one digest is served everywhere. */
  const stale = (): string[] => {
    const reference = [...served.values()][0]
    if (!reference) return []
    return o.current
      .filter(c => o.plan.upToDate.includes(c.ref) && c.exists && c.digest !== reference && !attempted.includes(c.ref))
      .map(c => c.ref)
  }

  try {
    const existing = o.plan.push.filter(ref => byRef.get(ref)?.exists)
    const firstPublish = o.plan.push.filter(ref => !byRef.get(ref)?.exists)
    await wave(existing)
    await wave(stale())
    await wave(firstPublish)
    await wave(stale())
    // Destinations that were up to date are checked too, where no moved tag has checked their repository.
    for (const ref of o.plan.upToDate) {
      await checkServable(repositoryOf(ref)).catch((e: unknown) => fail(ref, explain(e)))
    }
    if (failures.size > 0) throw new Error(failureText())
    o.report.digest = [...served.values()][0] ?? o.report.digest
  } catch (e) {
    if (o.atomic || e instanceof MovedByOther) await rollBack(o, byRef, attempted, served)
    throw e
  }
}

/**
 * Puts every tag this run moved back to the digest it served before, unless someone else has moved
 * it since (then it is left alone). A tag that had no list cannot be put back; it is reported.
 */
async function rollBack(o: CommitOptions, byRef: Map<string, Current>, attempted: string[], served: Map<string, string>): Promise<void> {
  const ours = new Set(served.values())
  await Promise.all(
    attempted.map(async ref => {
      const d = destination(o.report, ref)
      const previous = byRef.get(ref) as Current
      try {
        const read = async (): Promise<Manifest | null> => {
          const raw = await o.reader.manifest(ref, { fresh: true })
          return raw ? parseManifest(raw) : null
        }
        const unmoved = (m: Manifest | null): boolean => (previous.exists ? m?.digest === previous.digest : m === null)
        let now = await read()
        // A push stopped (a cancel) or failed before it was confirmed may still land: a registry
        // completes a request it received whole after its client died. Such a tag is read once more.
        if (unmoved(now) && !served.has(ref)) {
          await sleep(o.wait.firstPauseMs)
          now = await read()
        }
        if (unmoved(now)) return
        const mine =
          now !== null &&
          (ours.size > 0
            ? ours.has(now.digest)
            : checkServed(now, o.plan.entries, o.format, o.annotations, o.plan.attestations) === undefined)
        if (!mine) {
          Object.assign(d, { status: 'failed', detail: `not put back: it now serves ${now?.digest ?? 'nothing'}, written by someone else` })
          return
        }
        if (!previous.exists) {
          Object.assign(d, {
            status: 'published',
            detail: 'could not be undone: it had no list before, and registries offer no portable tag delete'
          })
          return
        }
        await o.skopeo.copy(`${previous.repository}@${previous.digest}`, ref, { indexOnly: previous.isList })
        const back = await readBack(o.reader, ref, s => s?.digest === previous.digest, o.wait)
        if (back?.digest !== previous.digest) throw new Error(`it serves ${back?.digest ?? 'nothing'} after the copy`)
        Object.assign(d, { status: 'rolled back', detail: `put back to ${previous.digest}${d.detail ? `; ${d.detail}` : ''}` })
        o.report.rolledBack.push(ref)
        log.info(`${ref}: put back to ${previous.digest}`)
      } catch (e) {
        Object.assign(d, {
          status: 'failed',
          detail: `could not be put back to ${previous.exists ? previous.digest : 'its previous state'}: ${explain(e)}`
        })
      }
    })
  )
}
