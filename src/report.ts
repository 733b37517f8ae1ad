import * as core from '@actions/core'
import * as fs from 'fs'
import type { ArchOutcome, Plan } from './plan'

export type Result = 'published' | 'unchanged' | 'skipped' | 'dry-run' | 'failed'
export type DestinationStatus = 'published' | 'up to date' | 'would push' | 'not pushed' | 'failed' | 'rolled back'

export interface DestinationReport {
  ref: string
  status: DestinationStatus
  detail?: string
  /** The digest it served before this run; null: nothing. */
  previous?: string | null
}

/** Everything the outputs and the summary tell; filled in as the run goes, so a failure reports what is known. */
export interface Report {
  result: Result
  name?: string
  digest: string
  buildah?: string
  format?: string
  policy?: string
  plan?: Plan
  destinations: DestinationReport[]
  /** Tags this run moved and then put back (a failed or cancelled commit). */
  rolledBack: string[]
  error?: string
  durationMs?: number
}

export function newReport(): Report {
  return { result: 'failed', digest: '', destinations: [], rolledBack: [] }
}

/** References that really serve the list now. */
export function serving(report: Report): string[] {
  return report.destinations.filter(d => d.status === 'published' || d.status === 'up to date').map(d => d.ref)
}

export function setOutputs(report: Report): void {
  const plan = report.plan
  core.setOutput('result', report.result)
  core.setOutput('digest', report.digest)
  core.setOutput('arches', JSON.stringify(plan ? plan.entries.map(e => e.arch) : []))
  core.setOutput('missing-arches', JSON.stringify(plan?.missing ?? []))
  core.setOutput('lost-arches', JSON.stringify(plan?.lost ?? []))
  core.setOutput('destinations', JSON.stringify(serving(report)))
  core.setOutput('rolled-back', JSON.stringify(report.rolledBack))
}

const OUTCOME: Record<ArchOutcome, string> = {
  new: 'yes, new image',
  kept: 'yes, previous image kept (hybrid)',
  dropped: 'no, dropped',
  lost: 'no: lost, has no new image',
  missing: 'no: no image found'
}

/** Error text must not break the table or smuggle HTML into a rendered summary. */
const cell = (text: string): string =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')

/** Markdown on purpose: GitHub renders it, Forgejo prints it raw into the log, where it stays readable. */
export function renderSummary(report: Report): string {
  const lines = [`## multiarch-publish: ${report.result}${report.name ? ` \`${report.name}\`` : ''}`, '']
  const sentence = report.error ?? report.plan?.reason
  if (sentence) lines.push(report.error ? `**Error:** ${cell(sentence)}` : sentence, '')
  const plan = report.plan
  if (plan && plan.rows.length > 0) {
    const known = report.destinations.length
    lines.push('| arch | new image | in current list | in new list |', '|---|---|---|---|')
    for (const row of plan.rows) {
      const current = row.inCurrent ? `yes (${row.inCurrent} of ${known} destinations)` : 'no'
      lines.push(`| ${row.arch} | ${row.newDigest ? `\`${row.newDigest}\`` : 'none'} | ${current} | ${OUTCOME[row.outcome]} |`)
    }
    lines.push('')
  }
  if (report.destinations.length > 0) {
    lines.push('| destination | status |', '|---|---|')
    for (const d of report.destinations) lines.push(`| \`${d.ref}\` | ${d.status}${d.detail ? `: ${cell(d.detail)}` : ''} |`)
    lines.push('')
  }
  const facts = [
    report.digest ? `digest \`${report.digest}\`` : '',
    report.format ? `format ${report.format}` : '',
    report.policy ? `missing-arch-policy ${report.policy}` : '',
    report.buildah ? `buildah ${report.buildah}` : ''
  ].filter(Boolean)
  if (facts.length) lines.push(facts.join(' · '), '')
  return lines.join('\n')
}

/** A runner without job summaries (older Gitea, act) is not an error. */
export function writeSummary(report: Report): void {
  const file = process.env.GITHUB_STEP_SUMMARY
  if (!file) {
    core.info('No GITHUB_STEP_SUMMARY on this runner; the summary is not written.')
    return
  }
  try {
    fs.appendFileSync(file, `${renderSummary(report)}\n`)
  } catch (e) {
    core.warning(`Could not write the job summary: ${(e as Error).message}`)
  }
}
