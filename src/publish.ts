import * as log from './log'
import { prepareCredentials, removeCredentials } from './auth'
import { Buildah, checkSupported, detectVersion, localListName } from './buildah'
import { commit, MovedByOther } from './commit'
import { setConcurrency } from './exec'
import { concurrencyFor } from './pool'
import { destinations, Inputs } from './inputs'
import { observeCurrent, observeImages, repositoryOf } from './observe'
import { plan, Plan } from './plan'
import { Report } from './report'
import { explain } from './retry'
import { AccessOptions, checkSkopeo, Skopeo } from './skopeo'
import { imagesGoAhead, stage } from './stage'
import { saveState, STATE } from './state'
import { timings } from './timing'

/**
 * The flow, one log group per phase: inputs and versions → observe → plan (pure) → stage → commit
 * (with rollback) → verify (inside commit, per destination). Throws when the step must fail; `report`
 * says how far it got.
 */
export async function publish(inputs: Inputs, report: Report, signal: AbortSignal): Promise<void> {
  const credentials = prepareCredentials(inputs)
  saveState(STATE.authDir, credentials.tempDir ?? '')
  try {
    const t = timings()
    const access: AccessOptions = {
      tlsVerify: inputs.tlsVerify,
      authFile: credentials.authFile,
      certDir: inputs.certDir || undefined,
      env: credentials.env,
      retries: inputs.retries,
      baseDelayMs: t.baseDelayMs,
      maxDelayMs: t.maxDelayMs
    }
    const version = await log.group('Versions', async () => {
      const [buildahVersion, skopeoVersion] = await Promise.all([detectVersion(access.env), checkSkopeo(access.env)])
      report.buildah = buildahVersion.text
      log.info(`buildah ${buildahVersion.text}, ${skopeoVersion}`)
      checkSupported(buildahVersion, Object.keys(inputs.annotations).length > 0)
      return buildahVersion
    })
    const skopeo = new Skopeo(access)
    const buildah = new Buildah(version, access)
    const refs = destinations(inputs)
    report.destinations = refs.map(ref => ({ ref, status: 'not pushed' }))
    // The widest phase: one copy per image and destination repository, or one read per destination.
    const work = Math.max(refs.length, inputs.arches.length * new Set(refs.map(repositoryOf)).size)
    setConcurrency(concurrencyFor(work))
    log.debug(`At most ${concurrencyFor(work)} registry operations at once`)
    const images = await log.group('Observe: the new images', () => observeImages(skopeo, inputs))

    for (let round = 1; ; round++) {
      const current = await log.group(round === 1 ? 'Observe: what the destinations serve' : `Observe again (round ${round})`, () => observeCurrent(skopeo, refs))
      for (const c of current) Object.assign(report.destinations.find(d => d.ref === c.ref) ?? {}, { previous: c.exists ? c.digest : null })
      const p = await log.group('Plan', async () => {
        const decided = plan({
          arches: inputs.arches,
          table: inputs.archTable,
          images,
          current,
          policy: inputs.policy,
          format: inputs.format,
          annotations: inputs.annotations,
          attestations: inputs.attestations
        })
        log.info(decided.reason)
        return decided
      })
      report.plan = p
      if (decide(p, inputs, report, current[0])) return

      const listName = localListName(inputs.repo, inputs.tag)
      saveState(STATE.localList, listName)
      try {
        await log.group('Stage: images into every destination repository, and the local list', () =>
          stage({ skopeo, buildah, plan: p, refs: p.push, current, listName, format: inputs.format, annotations: inputs.annotations })
        )
        await log.group('Commit: move the tags, read each back', () =>
          commit({
            skopeo,
            buildah,
            listName,
            plan: p,
            current,
            format: inputs.format,
            annotations: inputs.annotations,
            withImages: !imagesGoAhead(p, inputs.format),
            atomic: inputs.atomic,
            wait: { waitMs: t.readBackMs, firstPauseMs: Math.min(500, t.readBackMs) },
            report,
            signal
          })
        )
        report.result = 'published'
        return
      } catch (e) {
        if (!(e instanceof MovedByOther) || round > t.replans) throw e
        log.info(`${e.message}; observing and planning again`)
      } finally {
        await buildah.remove(listName).catch((e: unknown) => log.warning(`Could not remove the local list ${listName}: ${explain(e)}`))
        saveState(STATE.localList, '')
      }
    }
  } finally {
    removeCredentials(credentials)
    saveState(STATE.authDir, '')
  }
}

/** Settles the run when the plan leaves nothing to push; true when it did. Throws on refusal. */
function decide(p: Plan, inputs: Inputs, report: Report, first: { exists: boolean; digest?: string }): boolean {
  for (const ref of p.upToDate) Object.assign(report.destinations.find(d => d.ref === ref) ?? {}, { status: 'up to date' })
  if (p.decision === 'refuse') throw new Error(p.reason)
  if (inputs.dryRun) {
    for (const ref of p.push) Object.assign(report.destinations.find(d => d.ref === ref) ?? {}, { status: 'would push' })
    report.result = 'dry-run'
    return true
  }
  if (p.decision === 'skip') {
    log.warning(p.reason)
    report.result = 'skipped'
    return true
  }
  if (p.decision === 'unchanged') {
    report.digest = first.exists ? (first.digest ?? '') : ''
    report.result = 'unchanged'
    return true
  }
  return false
}
