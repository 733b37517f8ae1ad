import * as log from './log'
import type { SummaryMode } from './inputs'
import { overallResult, renderRunSummary, results, type RunReport, serving } from './summary'

// The effects of the report: the outputs and the job summary. What they say is made in summary.ts (pure).

const union = (lists: string[][]): string[] => [...new Set(lists.flat())]

/** The outputs. One repository: as it always was. Several: the most severe result, unions, and `results`. */
export function setOutputs(run: RunReport): void {
  const reports = run.reports
  const one = reports.length === 1 ? reports[0] : undefined
  log.setOutput('result', run.error && reports.length === 0 ? 'failed' : overallResult(run))
  log.setOutput('digest', one?.digest ?? '')
  log.setOutput('arches', JSON.stringify(union(reports.map(r => r.plan?.entries.map(e => e.arch) ?? []))))
  log.setOutput('missing-arches', JSON.stringify(union(reports.map(r => r.plan?.missing ?? []))))
  log.setOutput('lost-arches', JSON.stringify(union(reports.map(r => r.plan?.lost ?? []))))
  log.setOutput('destinations', JSON.stringify(union(reports.map(serving))))
  log.setOutput('rolled-back', JSON.stringify(union(reports.map(r => r.rolledBack))))
  log.setOutput('results', JSON.stringify(results(run)))
}

/**
 * Why this runner will not show a job summary file, or undefined where it will. nektos/act and the
 * Forgejo runner (built on act) set GITHUB_STEP_SUMMARY to a file nobody shows. Gitea shows it from
 * 1.27 on, and only with a runner that uploads it: nothing in the environment tells which Gitea this
 * is, so Gitea counts as not showing it (a copy in the log costs less than a lost summary).
 */
export function summaryUnshown(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.GITHUB_STEP_SUMMARY) return 'this runner has no job summary file'
  if (env.ACT) return 'act does not show job summaries'
  if (env.FORGEJO_ACTIONS) return 'Forgejo does not show job summaries'
  if (env.GITEA_ACTIONS) return 'Gitea shows job summaries only from 1.27, with a runner that uploads them'
  return undefined
}

/**
 * The job summary, as input `summary` says: `true` writes the summary file, and the same Markdown
 * into the log, in a group, where the runner will not show the file; `log` only into the log.
 */
export async function writeSummary(run: RunReport, mode: SummaryMode): Promise<void> {
  if (mode === 'false') return
  const text = renderRunSummary(run)
  const unshown = summaryUnshown(process.env)
  if (mode === 'true' && process.env.GITHUB_STEP_SUMMARY) log.appendSummary(text)
  if (mode === 'true' && !unshown) return
  await log.group(mode === 'log' ? 'Summary' : `Summary (${unshown})`, async () => {
    for (const line of text.split('\n')) log.info(line)
  })
}
