import * as core from './runner'
import * as log from './log'
import { Cancelled } from './commit'
import { stopChildren } from './exec'
import { getInputs, SummaryMode } from './inputs'
import { publish } from './publish'
import { setOutputs, writeSummary } from './report'
import { outcomeLine, type RunReport } from './summary'
import { quote } from './text'

/**
 * The main step (also what `npx @github/local-action run . src/main.ts .env` calls). The post step
 * has its own entry (post.ts), so nothing here can run twice.
 */
export async function run(): Promise<void> {
  const run: RunReport = { reports: [] }
  const cancel = new AbortController()
  // A cancelled job gets SIGINT, then SIGTERM: stop every child at once (nothing may write after the
  // step ends), then let the commit put back what it moved, and report.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (cancel.signal.aborted) return
    log.info(`Received ${signal}: stopping`)
    cancel.abort()
    void stopChildren()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let summary: SummaryMode = 'true'
  const started = Date.now()
  try {
    const inputs = getInputs((name: string, options?: core.InputOptions) => core.getInput(name, options))
    summary = inputs.summary
    if (inputs.ignoredAnnotations.length > 0) log.notice(ignoredAnnotationsNotice(inputs.ignoredAnnotations))
    await publish(inputs, run, cancel.signal)
  } catch (e) {
    const message =
      cancel.signal.aborted && !(e instanceof Cancelled)
        ? `The run was cancelled: ${(e as Error).message}`
        : e instanceof Error
          ? e.message
          : String(e)
    // The repositories' own reports say what failed; an error before any (bad input) is the run's.
    if (run.reports.length !== 1) run.error = message
    else run.reports[0].error ??= message
    // Forgejo and Gitea show `::error::` lines raw or not at all: say it plainly too.
    log.info(`Error: ${message}`)
    log.setFailed(message)
  } finally {
    run.durationMs = Date.now() - started
    setOutputs(run)
    await writeSummary(run, summary)
    log.info(outcomeLine(run))
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** One notice for every annotation a list cannot carry (metadata-action writes `manifest:` lines by default). */
export function ignoredAnnotationsNotice(names: string[]): string {
  const shown = names.slice(0, 5).map(n => quote(n, 100))
  const more = names.length > shown.length ? ` and ${names.length - shown.length} more` : ''
  return (
    `Input "annotations": not applied to the list: ${shown.join(', ')}${more}. A list takes unprefixed and index: lines; ` +
    'manifest: and manifest-descriptor: ones are for the per-arch images, which build-push-action annotates when it builds.'
  )
}
