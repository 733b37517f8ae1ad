import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { prepareCredentials, removeCredentials } from './auth'
import { LocalLayout } from './layout'
import { Buildah, checkSupported, detectVersion, localListName, Version } from './buildah'
import { commit, MovedByOther } from './commit'
import { setConcurrency } from './exec'
import type { Inputs } from './inputs'
import { destinations } from './inputs/destinations'
import * as log from './log'
import { imageRefs, observeCurrent, observeImages } from './observe'
import { referenceKey, repositoryOf } from './reference'
import { Reads } from './registry/reader'
import { Relay } from './registry/relay'
import type { Current, NewImage, Plan } from './model'
import { plan } from './plan'
import { concurrencyFor } from './pool'
import { newReport, type Report, type RunReport } from './summary'
import { explain } from './retry'
import { AccessOptions, checkSkopeo, Skopeo } from './skopeo'
import { imagesGoAhead, stage } from './stage'
import { saveState, STATE } from './state'
import { timings } from './timing'

/** One repository's way through the phases; each is observed, planned and committed on its own. */
interface RepositoryRun {
  inputs: Inputs
  report: Report
  refs: string[]
  /** The new images, read in the first round only. */
  images?: Map<string, NewImage | undefined>
  /** Settled: published, unchanged, skipped, dry run or failed; nothing more to do. */
  settled: boolean
}

/** What each phase of a round hands to the next. */
interface Observed {
  images: Map<string, NewImage | undefined>
  current: Current[]
}
interface Planned extends Observed {
  plan: Plan
}
interface Staged extends Planned {
  listName: string
  layout: LocalLayout
}

/**
 * The flow, one log group per phase: versions → observe → plan (pure) → stage → commit (with
 * rollback, and the read-back that verifies) for every repository at once. A repository that fails
 * or is refused drops out; the others go on. A repository whose tag another writer moved goes round
 * again from observe. Fills `run.reports`; throws when the step must fail.
 */
export async function publish(inputs: Inputs, run: RunReport, signal: AbortSignal): Promise<void> {
  const credentials = prepareCredentials(inputs)
  saveState(STATE.authDir, credentials.tempDir ?? '')
  const t = timings()
  const access: AccessOptions = {
    tlsVerify: inputs.tlsVerify,
    authFile: credentials.authFile,
    certDir: inputs.certDir || undefined,
    registries: inputs.registryAuth,
    env: credentials.env,
    retries: inputs.retries,
    baseDelayMs: t.baseDelayMs,
    maxDelayMs: t.maxDelayMs
  }
  const repos: RepositoryRun[] = inputs.repos.map(repo => {
    const mine = { ...inputs, repo, repos: [repo] }
    const report = { ...newReport(), name: `${repo}:${inputs.tag}`, format: inputs.format, policy: inputs.policy }
    const refs = destinations(mine)
    report.destinations = refs.map(ref => ({ ref, status: 'not pushed' }))
    return { inputs: mine, report, refs, settled: false }
  })
  run.reports = repos.map(r => r.report)
  const skopeo = new Skopeo(access)
  const sources = new Set(imageRefs(inputs).map(ref => referenceKey(repositoryOf(ref))))
  const reader = new Reads(skopeo, {
    mode: inputs.reads,
    access,
    isSource: ref => sources.has(referenceKey(repositoryOf(ref))),
    client: { idleMs: t.idleMs }
  })
  const layoutDir = fs.mkdtempSync(path.join(credentials.env.RUNNER_TEMP || os.tmpdir(), 'multiarch-publish-layouts-'))
  saveState(STATE.layoutDir, layoutDir)
  // Started for the first copy: copies read their images through it, over the reader's connections.
  let relay: Relay | undefined
  try {
    // The versions matter from staging on, and a rerun with nothing new never stages: they are read
    // once a plan has work (two start-ups of Go binaries, at the time they are needed), not up front.
    let versioned: Buildah | undefined
    const withVersions = async (): Promise<Buildah> => {
      if (!versioned) {
        const found = await readVersions(access)
        const version = await log.group('Versions', async () => versions(found, inputs))
        for (const r of repos) r.report.buildah = version.text
        versioned = new Buildah(version, access)
      }
      return versioned
    }
    // Annotations need a buildah that writes them: without one, the input is refused before any read.
    // A dry run shows the tools a real run would use.
    if (Object.keys(inputs.annotations).length > 0 || inputs.dryRun) await withVersions()
    // The widest phase: one copy per image and destination repository, or one read per destination.
    const work = repos.reduce((n, r) => n + Math.max(r.refs.length, inputs.arches.length * new Set(r.refs.map(repositoryOf)).size), 0)
    setConcurrency(concurrencyFor(work))
    log.debug(`At most ${concurrencyFor(work)} registry operations at once`)

    for (let round = 1; repos.some(r => !r.settled) && !signal.aborted; round++) {
      // The new images are read once; what the destinations serve, afresh each round. Both at once.
      const observed = await phase(
        repos,
        new Map(repos.filter(r => !r.settled).map(r => [r, undefined])),
        round === 1 ? 'Observe: the new images and what the destinations serve' : `Observe again (round ${round})`,
        async (r): Promise<Observed> => {
          const currentRead = observeCurrent(reader, r.refs)
          const [images, current] = await Promise.all([
            r.images
              ? undefined
              : observeImages(
                  reader,
                  r.inputs,
                  currentRead.then(c => c.value)
                ),
            currentRead
          ])
          for (const line of [...(images?.lines ?? []), ...current.lines]) log.info(line)
          r.images ??= images?.value
          for (const c of current.value)
            Object.assign(r.report.destinations.find(d => d.ref === c.ref) ?? {}, { previous: c.exists ? c.digest : null })
          return { images: r.images ?? new Map(), current: current.value }
        }
      )
      const planned = await phase(repos, observed, 'Plan', async (r, o) => planOne(r, o, repos.length > 1))
      if (planned.size === 0) continue
      const buildah = await withVersions()
      const staged = new Map(
        [...planned].map(([r, p]): [RepositoryRun, Staged] => [
          r,
          { ...p, listName: localListName(r.inputs.repo, inputs.tag), layout: LocalLayout.create(layoutDir) }
        ])
      )
      saveState(STATE.localList, [...staged.values()].map(s => s.listName).join('\n'))
      try {
        if (signal.aborted) break
        if (inputs.reads === 'auto') relay ??= await Relay.start(reader, layoutDir)
        const ready = await phase(repos, staged, 'Stage: images into every destination repository, and the local list', async (_, s) => {
          await stage({
            skopeo,
            reader,
            buildah,
            plan: s.plan,
            refs: s.plan.push,
            current: s.current,
            listName: s.listName,
            format: inputs.format,
            annotations: inputs.annotations,
            layout: s.layout,
            via: relay
          })
          return s
        })
        await phase(
          repos,
          ready,
          'Commit: move the tags, read each back',
          async (r, s) => {
            const p = s.plan
            await commit({
              skopeo,
              reader,
              buildah,
              listName: s.listName,
              plan: p,
              current: s.current,
              format: inputs.format,
              annotations: inputs.annotations,
              withImages: !imagesGoAhead(p, inputs.format),
              atomic: inputs.atomic,
              wait: { waitMs: t.readBackMs, firstPauseMs: Math.min(500, t.readBackMs) },
              report: r.report,
              signal
            })
            settle(r, 'published')
            return undefined
          },
          e => e instanceof MovedByOther && round <= t.replans
        )
      } finally {
        await Promise.all(
          [...staged.values()].map(s =>
            buildah.remove(s.listName).catch((e: unknown) => log.warning(`Could not remove the local list ${s.listName}: ${explain(e)}`))
          )
        )
        saveState(STATE.localList, '')
        for (const s of staged.values()) s.layout.remove()
      }
    }
  } finally {
    await relay?.close()
    reader.close()
    fs.rmSync(layoutDir, { recursive: true, force: true })
    saveState(STATE.layoutDir, '')
    removeCredentials(credentials)
    saveState(STATE.authDir, '')
  }
  for (const r of repos.filter(r => !r.settled)) Object.assign(r.report, { result: 'failed', error: 'The run was cancelled' })
  const failed = repos.filter(r => r.report.result === 'failed')
  if (failed.length === 1 && repos.length === 1) throw new Error(failed[0].report.error)
  if (failed.length > 0)
    throw new Error(
      `${failed.length} of ${repos.length} repositories failed: ${failed.map(r => `${r.inputs.repo} (${r.report.error})`).join('; ')}`
    )
}

interface Versions {
  buildah: Version
  skopeo: string
}

async function readVersions(access: AccessOptions): Promise<Versions> {
  const [buildah, skopeo] = await Promise.all([detectVersion(access.env), checkSkopeo(access.env)])
  return { buildah, skopeo }
}

function versions(found: Versions, inputs: Inputs): Version {
  log.info(`buildah ${found.buildah.text}, ${found.skopeo}`)
  checkSupported(found.buildah, Object.keys(inputs.annotations).length > 0)
  return found.buildah
}

/**
 * Runs `step` for every repository the previous phase handed on, all at once, inside one log group,
 * and hands on what each step returns (undefined: settled, nothing more this round). A repository
 * whose step throws is settled as failed (the others go on), unless `again(error)` says it is to go
 * round once more.
 */
async function phase<In, Out>(
  repos: RepositoryRun[],
  given: Map<RepositoryRun, In>,
  name: string,
  step: (r: RepositoryRun, input: In) => Promise<Out | undefined>,
  again: (e: unknown) => boolean = () => false
): Promise<Map<RepositoryRun, Out>> {
  const out = new Map<RepositoryRun, Out>()
  if (given.size === 0) return out
  await log.group(name, async () => {
    await Promise.all(
      [...given].map(async ([r, input]) => {
        try {
          const result = await step(r, input)
          if (result !== undefined && !r.settled) out.set(r, result)
        } catch (e) {
          if (again(e)) {
            log.info(`${r.inputs.repo}: ${explain(e)}; observing and planning again`)
            return
          }
          settle(r, 'failed')
          r.report.error = e instanceof Error ? e.message : String(e)
          if (repos.length > 1) log.info(`${r.inputs.repo}: failed: ${r.report.error}`)
        }
      })
    )
  })
  // A phase's order is the run's order, whatever finished first.
  return new Map([...given.keys()].filter(r => out.has(r)).map(r => [r, out.get(r) as Out]))
}

/** Plans one repository; settles it (and hands on nothing) when there is nothing to push. Throws on refusal. */
function planOne(r: RepositoryRun, o: Observed, many: boolean): Planned | undefined {
  const i = r.inputs
  const p = plan({
    arches: i.arches,
    table: i.archTable,
    images: o.images,
    current: o.current,
    policy: i.policy,
    format: i.format,
    annotations: i.annotations,
    attestations: i.attestations
  })
  r.report.plan = p
  log.info(many ? `${i.repo}: ${p.reason}` : p.reason)
  const report = r.report
  const destination = (ref: string): object => report.destinations.find(d => d.ref === ref) ?? {}
  for (const ref of p.upToDate) Object.assign(destination(ref), { status: 'up to date' })
  if (p.decision === 'refuse') throw new Error(p.reason)
  if (i.dryRun) {
    for (const ref of p.push) Object.assign(destination(ref), { status: 'would push' })
    settle(r, 'dry-run')
  } else if (p.decision === 'skip') {
    log.warning(p.reason)
    settle(r, 'skipped')
  } else if (p.decision === 'unchanged') {
    const first = o.current[0]
    report.digest = first.exists ? first.digest : ''
    settle(r, 'unchanged')
  }
  return r.settled ? undefined : { ...o, plan: p }
}

function settle(r: RepositoryRun, result: Report['result']): void {
  r.report.result = result
  r.settled = true
}
