import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { prepareCredentials, removeCredentials } from './auth'
import { LocalLayout } from './layout'
import { Buildah, checkSupported, detectVersion, localListName, Version } from './buildah'
import { commit, MovedByOther } from './commit'
import { setConcurrency } from './exec'
import { destinations, Inputs } from './inputs'
import * as log from './log'
import { imageRefs, observeCurrent, observeImages } from './observe'
import { referenceKey, repositoryOf } from './reference'
import { Reads } from './registry/reader'
import { Current, NewImage, plan, Plan } from './plan'
import { concurrencyFor } from './pool'
import { newReport, Report, RunReport } from './report'
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
  images?: Map<string, NewImage | undefined>
  current?: Current[]
  plan?: Plan
  listName?: string
  /** Settled: published, unchanged, skipped, dry run or failed; nothing more to do. */
  settled: boolean
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
  let reads: Reads | undefined
  const layoutDir = fs.mkdtempSync(path.join(credentials.env.RUNNER_TEMP || os.tmpdir(), 'multiarch-publish-layouts-'))
  saveState(STATE.layoutDir, layoutDir)
  try {
    const skopeo = new Skopeo(access)
    const sources = new Set(imageRefs(inputs).map(ref => referenceKey(repositoryOf(ref))))
    reads = new Reads(skopeo, {
      mode: inputs.reads,
      access,
      isSource: ref => sources.has(referenceKey(repositoryOf(ref))),
      client: { idleMs: t.idleMs }
    })
    const reader = reads
    // The versions matter from staging on: read alongside the first observe, they cost no round of
    // start-ups of their own.
    const versionsRead = readVersions(access)
    versionsRead.catch(() => undefined) // awaited below; a failure meanwhile is not unhandled
    let versioned: Buildah | undefined
    const withVersions = async (): Promise<Buildah> => {
      if (!versioned) {
        const found = await versionsRead
        const version = await log.group('Versions', async () => versions(found, inputs))
        for (const r of repos) r.report.buildah = version.text
        versioned = new Buildah(version, access)
      }
      return versioned
    }
    // Annotations need a buildah that writes them: without one, the input is refused before any read.
    if (Object.keys(inputs.annotations).length > 0) await withVersions()
    // The widest phase: one copy per image and destination repository, or one read per destination.
    const work = repos.reduce((n, r) => n + Math.max(r.refs.length, inputs.arches.length * new Set(r.refs.map(repositoryOf)).size), 0)
    setConcurrency(concurrencyFor(work))
    log.debug(`At most ${concurrencyFor(work)} registry operations at once`)

    for (let round = 1; repos.some(r => !r.settled) && !signal.aborted; round++) {
      // The new images are read once; what the destinations serve, afresh each round. Both at once.
      await phase(
        repos,
        round === 1 ? 'Observe: the new images and what the destinations serve' : `Observe again (round ${round})`,
        async r => {
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
          r.current = current.value
          for (const c of r.current)
            Object.assign(r.report.destinations.find(d => d.ref === c.ref) ?? {}, { previous: c.exists ? c.digest : null })
        }
      )
      const buildah = await withVersions()
      await phase(repos, 'Plan', async r => planOne(r, repos.length > 1))
      const staged = repos.filter(r => !r.settled)
      for (const r of staged) r.listName = localListName(r.inputs.repo, inputs.tag)
      const layouts = new Map(staged.map(r => [r, LocalLayout.create(layoutDir)]))
      saveState(STATE.localList, staged.map(r => r.listName).join('\n'))
      try {
        if (signal.aborted) break
        await phase(repos, 'Stage: images into every destination repository, and the local list', r =>
          stage({
            skopeo,
            reader,
            buildah,
            plan: r.plan as Plan,
            refs: (r.plan as Plan).push,
            current: r.current as Current[],
            listName: r.listName as string,
            format: inputs.format,
            annotations: inputs.annotations,
            layout: layouts.get(r)
          })
        )
        await phase(
          repos,
          'Commit: move the tags, read each back',
          async r => {
            const p = r.plan as Plan
            await commit({
              skopeo,
              reader,
              buildah,
              listName: r.listName as string,
              plan: p,
              current: r.current as Current[],
              format: inputs.format,
              annotations: inputs.annotations,
              withImages: !imagesGoAhead(p, inputs.format),
              atomic: inputs.atomic,
              wait: { waitMs: t.readBackMs, firstPauseMs: Math.min(500, t.readBackMs) },
              report: r.report,
              signal
            })
            r.report.result = 'published'
            r.settled = true
          },
          e => e instanceof MovedByOther && round <= t.replans
        )
      } finally {
        await Promise.all(
          staged.map(r =>
            buildah
              .remove(r.listName as string)
              .catch((e: unknown) => log.warning(`Could not remove the local list ${r.listName}: ${explain(e)}`))
          )
        )
        saveState(STATE.localList, '')
        for (const layout of layouts.values()) layout.remove()
      }
    }
  } finally {
    reads?.close()
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
 * Runs `step` for every repository still in play, all at once, inside one log group. A repository
 * whose step throws is settled as failed (the others go on), unless `again(error)` says it is to go
 * round once more. With one repository, its failure ends the phase at once, as it always has.
 */
async function phase(
  repos: RepositoryRun[],
  name: string,
  step: (r: RepositoryRun) => Promise<void>,
  again: (e: unknown) => boolean = () => false
): Promise<void> {
  const active = repos.filter(r => !r.settled)
  if (active.length === 0) return
  await log.group(name, async () => {
    await Promise.all(
      active.map(async r => {
        try {
          await step(r)
        } catch (e) {
          if (again(e)) {
            log.info(`${r.inputs.repo}: ${explain(e)}; observing and planning again`)
            return
          }
          r.settled = true
          r.report.result = 'failed'
          r.report.error = e instanceof Error ? e.message : String(e)
          if (repos.length > 1) log.info(`${r.inputs.repo}: failed: ${r.report.error}`)
        }
      })
    )
  })
}

/** Plans one repository and settles it when there is nothing to push. Throws on refusal. */
function planOne(r: RepositoryRun, many: boolean): void {
  const i = r.inputs
  const p = plan({
    arches: i.arches,
    table: i.archTable,
    images: r.images as Map<string, NewImage | undefined>,
    current: r.current as Current[],
    policy: i.policy,
    format: i.format,
    annotations: i.annotations,
    attestations: i.attestations
  })
  r.plan = p
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
    const first = (r.current as Current[])[0]
    report.digest = first.exists ? first.digest : ''
    settle(r, 'unchanged')
  }
}

function settle(r: RepositoryRun, result: Report['result']): void {
  r.report.result = result
  r.settled = true
}
