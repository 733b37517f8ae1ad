/**
 * What the action asks of the runner (inputs, state, workflow and file commands), as @actions/core
 * does it and through its own `lib/command` and `lib/file-command`. Its index is not loaded: that
 * also loads its OIDC client (an HTTP client with a proxy tunnel) and `platform` (@actions/exec)
 * at start-up, which no run here uses (BENCHMARKS.md: what that cost a rerun).
 * Only src/log.ts prints through this module (lint); it makes the text inert first.
 */
import { issue, issueCommand } from '@actions/core/lib/command'
import { issueFileCommand, prepareKeyValueMessage } from '@actions/core/lib/file-command'
import * as os from 'os'

export interface InputOptions {
  required?: boolean
  trimWhitespace?: boolean
}

/** `INPUT_<NAME>` (spaces as `_`), trimmed unless told not to: @actions/core's getInput. */
export function getInput(name: string, options?: InputOptions): string {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || ''
  if (options?.required && !value) throw new Error(`Input required and not supplied: ${name}`)
  return options?.trimWhitespace === false ? value : value.trim()
}

export function info(message: string): void {
  process.stdout.write(message + os.EOL)
}

export function debug(message: string): void {
  issueCommand('debug', {}, message)
}

export function warning(message: string): void {
  issueCommand('warning', {}, message)
}

export function error(message: string): void {
  issueCommand('error', {}, message)
}

export function notice(message: string): void {
  issueCommand('notice', {}, message)
}

export function setFailed(message: string): void {
  process.exitCode = 1
  error(message)
}

export function startGroup(name: string): void {
  issue('group', name)
}

export function endGroup(): void {
  issue('endgroup')
}

export function setSecret(secret: string): void {
  issueCommand('add-mask', {}, secret)
}

/** GITHUB_OUTPUT (a heredoc with a random delimiter), or the old `set-output` command without it. */
export function setOutput(name: string, value: string): void {
  if (process.env.GITHUB_OUTPUT) return issueFileCommand('OUTPUT', prepareKeyValueMessage(name, value))
  process.stdout.write(os.EOL)
  issueCommand('set-output', { name }, value)
}

/** GITHUB_STATE, read back by the post step as `STATE_<name>`; the old `save-state` command without it. */
export function saveState(name: string, value: string): void {
  if (process.env.GITHUB_STATE) return issueFileCommand('STATE', prepareKeyValueMessage(name, value))
  issueCommand('save-state', { name }, value)
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] || ''
}
