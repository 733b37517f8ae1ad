import { formatPlatform } from './arch'
import type { ArchOutcome, Plan } from './model'
import { inert, markdown, markdownCode } from './text'

// The run's report and what it reads as: the job summary, the log's last line, the `results` output.
// Pure: report.ts writes them out.

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

/** The whole run: one report per repository, and what went wrong before any (an input error). */
export interface RunReport {
  reports: Report[]
  error?: string
  durationMs?: number
}

/** Most severe first: the step's `result` with several repositories is the first one any of them has. */
const SEVERITY: Result[] = ['failed', 'skipped', 'published', 'unchanged', 'dry-run']

export function overallResult(run: RunReport): Result {
  // One repository: its own result; all dry runs: dry-run (the least severe).
  const results = run.reports.map(r => r.result)
  return SEVERITY.find(s => results.includes(s)) ?? 'failed'
}

export function newReport(): Report {
  return { result: 'failed', digest: '', destinations: [], rolledBack: [] }
}

/** References that really serve the list now. */
export function serving(report: Report): string[] {
  return report.destinations.filter(d => d.status === 'published' || d.status === 'up to date').map(d => d.ref)
}

/** `fedora` of `fedora:40`; the empty name for a report made before the name was known. */
function repositoryName(r: Report): string {
  const name = r.name ?? ''
  return name.slice(0, name.lastIndexOf(':'))
}

/** A complete record of what was published, per repository: fit for an announcement or a signing step. */
export function results(run: RunReport): Record<string, unknown> {
  return Object.fromEntries(
    run.reports.map(r => [
      repositoryName(r),
      {
        result: r.result,
        digest: r.digest,
        arches: (r.plan?.rows ?? []).map(row => {
          const entry = r.plan?.entries.find(e => e.arch === row.arch)
          return {
            arch: row.arch,
            platform: entry ? formatPlatform(entry.platform) : null,
            digest: entry?.digest ?? row.newDigest ?? null,
            outcome: row.outcome
          }
        }),
        destinations: r.destinations.map(d => ({ ref: d.ref, previous: d.previous ?? null, status: d.status }))
      }
    ])
  )
}

const OUTCOME: Record<ArchOutcome, string> = {
  new: 'yes, new image',
  kept: 'yes, previous image kept (hybrid)',
  dropped: 'no, dropped',
  lost: 'no: lost, has no new image',
  missing: 'no: no image found'
}

/** `sha256:` and 12 hex digits: enough to tell digests apart in a table; the full ones are in the details. */
export function shortDigest(digest: string): string {
  const m = /^([a-z0-9]+):([0-9a-f]{12})[0-9a-f]*$/.exec(digest)
  return m ? `${m[1]}:${m[2]}` : digest
}

const code = (digest: string | null | undefined): string => (digest ? markdownCode(shortDigest(digest)) : 'none')

/** Untrusted text inside a fenced code block: one inert line that cannot close the fence. */
const fenced = (text: string): string => inert(text, 1000).replace(/`/g, "'")

/** The plan's sentence is written before anything happened; the summary tells what did. */
function decision(report: Report): string | undefined {
  const reason = report.plan?.reason
  if (!reason?.startsWith('Publishing ')) return reason
  const rest = reason.slice('Publishing '.length)
  if (report.result === 'published') return `Published ${rest}`
  if (report.result === 'dry-run') return `Would publish ${rest}`
  return `Tried to publish ${rest}`
}

function formatDuration(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

/** Markdown on purpose: GitHub renders it, Forgejo prints it raw into the log, where it stays readable. */
export function renderSummary(report: Report): string {
  const lines = [`## multiarch-publish: ${report.result}${report.name ? ` ${markdownCode(report.name)}` : ''}`, '']
  if (report.error) lines.push(`**Error:** ${markdown(report.error, 2000)}`, '')
  const sentence = decision(report)
  if (sentence && sentence !== report.error) lines.push(markdown(sentence, 2000), '')
  const plan = report.plan
  const entryDigest = new Map(plan?.entries.map(e => [e.arch, e.digest]))
  if (plan && plan.rows.length > 0) {
    const known = report.destinations.length
    lines.push('| arch | new image | in current list | in new list |', '|---|---|---|---|')
    for (const row of plan.rows) {
      const current = row.inCurrent ? `yes (${row.inCurrent} of ${known} destinations)` : 'no'
      const image = row.newDigest ? code(row.newDigest) : row.outcome === 'kept' ? `none; kept ${code(entryDigest.get(row.arch))}` : 'none'
      lines.push(`| ${markdown(row.arch)} | ${image} | ${current} | ${OUTCOME[row.outcome]} |`)
    }
    lines.push('')
  }
  if (report.destinations.length > 0) {
    const after = (status: DestinationStatus, previous: string | null | undefined): string =>
      status === 'published' || status === 'up to date'
        ? code(report.digest || previous)
        : status === 'would push'
          ? 'would be the new list'
          : code(previous)
    lines.push('| destination | before | after | status |', '|---|---|---|---|')
    for (const d of report.destinations) {
      const status = `${d.status}${d.detail ? `: ${markdown(d.detail, 1000)}` : ''}`
      lines.push(
        `| ${markdownCode(d.ref)} | ${d.previous === undefined ? '?' : code(d.previous)} | ${after(d.status, d.previous)} | ${status} |`
      )
    }
    lines.push('')
  }
  const pullable = serving(report)[0]
  // A fenced block: a long reference does not wrap mid-command, and GitHub offers a copy button.
  if (report.digest && pullable)
    lines.push(
      'Pull it:',
      '',
      '```sh',
      `podman pull ${fenced(`${pullable.slice(0, pullable.lastIndexOf(':'))}@${report.digest}`)}`,
      '```',
      ''
    )
  const facts = [
    report.digest ? `digest ${code(report.digest)}` : '',
    report.format ? `format ${report.format}` : '',
    report.policy ? `missing-arch-policy ${report.policy}` : '',
    plan?.attestations.length ? `${plan.attestations.length} attestation${plan.attestations.length === 1 ? '' : 's'} kept` : '',
    report.buildah ? `buildah ${report.buildah}` : '',
    report.durationMs !== undefined ? `took ${formatDuration(report.durationMs)}` : ''
  ].filter(Boolean)
  if (facts.length) lines.push(facts.join(' · '), '')
  // Digest first, what it is after: the lines stay short enough to read without scrolling.
  const digests = [
    ...(report.digest ? [`${report.digest}  the list`] : []),
    ...(plan?.rows ?? []).filter(r => r.newDigest).map(r => `${r.newDigest}  ${r.arch}, new image`),
    ...(plan?.entries ?? []).filter(e => e.kept).map(e => `${e.digest}  ${e.arch}, kept`),
    ...(plan?.attestations ?? []).map(a => `${a.digest}  ${a.arch} attestation`),
    ...report.destinations.filter(d => d.previous).map(d => `${d.previous}  before, at ${d.ref}`)
  ]
  if (digests.length > 0)
    lines.push('<details><summary>Full digests</summary>', '', '```', ...digests.map(fenced), '```', '', '</details>', '')
  return lines.join('\n')
}

/** The log's last line: the outcome, plainly, after the groups. */
export function outcomeLine(run: RunReport): string {
  const result = overallResult(run)
  const one = run.reports.length === 1 ? run.reports[0] : undefined
  if (one) {
    const serves = serving(one).length
    return `multiarch-publish: ${result} ${one.name}${one.digest ? ` ${one.digest}` : ''}; ${serves} of ${one.destinations.length} destinations serve it`
  }
  if (run.reports.length === 0) return `multiarch-publish: ${result}`
  const count = (r: Result): number => run.reports.filter(x => x.result === r).length
  const parts = SEVERITY.filter(r => count(r) > 0).map(r => `${count(r)} ${r}`)
  return `multiarch-publish: ${result}; ${run.reports.length} repositories: ${parts.join(', ')}`
}

/** The whole run: one repository as it always was; several get an overview table first, then each in detail. */
export function renderRunSummary(run: RunReport): string {
  const reports = run.reports
  if (reports.length <= 1) {
    const only = reports[0] ?? newReport()
    return renderSummary({ ...only, error: only.error ?? run.error, durationMs: run.durationMs })
  }
  const lines = [`## multiarch-publish: ${overallResult(run)}, ${reports.length} repositories`, '']
  if (run.error) lines.push(`**Error:** ${markdown(run.error, 2000)}`, '')
  lines.push('| repository | result | arches | digest | destinations |', '|---|---|---|---|---|')
  for (const r of reports) {
    const arches = r.plan?.entries.map(e => e.arch).join(', ') || 'none'
    lines.push(
      `| ${markdownCode(r.name ?? '?')} | ${r.result} | ${markdown(arches)} | ${code(r.digest)} | ${serving(r).length} of ${r.destinations.length} |`
    )
  }
  lines.push('')
  if (run.durationMs !== undefined) lines.push(`took ${formatDuration(run.durationMs)}`, '')
  for (const r of reports) lines.push(renderSummary(r).replace(/^## multiarch-publish: /, '### '))
  return lines.join('\n')
}
