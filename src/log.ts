/**
 * The one way text leaves the action: log lines, annotations, groups, outputs, secrets and the job
 * summary. Every message goes through inert(), so whatever it quotes (inputs, registry content, tool
 * errors) cannot start a workflow command or break a line. Lint forbids printing any other way.
 */
import * as core from './runner'
import * as fs from 'fs'
import { escapeControls, inert } from './text'

/** Longest line printed; values quoted inside a message are already cut much shorter (QUOTE_MAX). */
export const LINE_MAX = 4000

export function info(message: string): void {
  core.info(inert(message, LINE_MAX))
}

export function debug(message: string): void {
  core.debug(inert(message, LINE_MAX))
}

/** An annotation on GitHub; Forgejo and Gitea show the `::warning::` line raw. */
export function warning(message: string): void {
  core.warning(inert(message, LINE_MAX))
}

export function error(message: string): void {
  core.error(inert(message, LINE_MAX))
}

export function notice(message: string): void {
  core.notice(inert(message, LINE_MAX))
}

/** Sets the exit code to 1 and prints the message as an `::error::` line. */
export function setFailed(message: string): void {
  core.setFailed(inert(message, LINE_MAX))
}

/** Runs `fn` inside a collapsible log group, which is closed however `fn` ends. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  core.startGroup(inert(name))
  try {
    return await fn()
  } finally {
    core.endGroup()
  }
}

const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/

/**
 * An output: a plain value or JSON. Control characters become visible escapes, so a value is one
 * line whatever it holds (JSON keeps its meaning: the escapes are JSON's). @actions/core 2.x writes
 * it to GITHUB_OUTPUT as a heredoc with a random delimiter, so it cannot add outputs either.
 */
export function setOutput(name: string, value: string): void {
  if (!OUTPUT_NAME.test(name)) throw new Error(`not an output name: ${inert(name)}`)
  core.setOutput(name, escapeControls(value))
}

/**
 * Masks a secret in every later log line: the value as given, each of its lines (a runner may mask
 * a multi-line secret only whole), and the escaped form inert() would print.
 */
export function setSecret(secret: string): void {
  if (!secret.trim()) return
  const forms = new Set<string>()
  const add = (s: string): void => {
    if (s.trim()) forms.add(s)
  }
  add(secret)
  add(escapeControls(secret))
  for (const line of secret.split(/\r\n|\r|\n/)) {
    add(line)
    add(line.trim())
  }
  for (const form of forms) core.setSecret(form)
}

/**
 * Appends Markdown to the job summary. The caller escapes untrusted parts with markdown() from
 * src/text.ts; control characters other than line breaks are escaped here. Returns false when the
 * runner has no job summary file or it cannot be written; neither fails the step. Whether the runner
 * shows the file is report.ts's concern (act and Forgejo write it where nobody reads it).
 */
export function appendSummary(markdownText: string): boolean {
  const file = process.env.GITHUB_STEP_SUMMARY
  if (!file) {
    info('No GITHUB_STEP_SUMMARY on this runner; the summary is not written.')
    return false
  }
  try {
    fs.appendFileSync(
      file,
      `${markdownText
        .split(/\r\n|\n/)
        .map(escapeControls)
        .join('\n')}\n`
    )
    return true
  } catch (e) {
    warning(`Could not write the job summary: ${(e as Error).message}`)
    return false
  }
}
