/**
 * src/runner.ts does what @actions/core's index does for the functions the action uses: each row
 * runs both on the same environment and compares what reached stdout, the command files and the
 * exit code.
 */
import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as runner from '../../src/runner'

let tmp: string
let stdout: string
const saved = { ...process.env }

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-runner-'))
  stdout = ''
  jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    stdout += String(chunk)
    return true
  })
})
afterEach(() => {
  jest.restoreAllMocks()
  process.env = { ...saved }
  process.exitCode = undefined
  fs.rmSync(tmp, { recursive: true, force: true })
})

/** What one call left behind: stdout, GITHUB_OUTPUT and GITHUB_STATE (delimiters made equal), the exit code. */
function effects(
  files: string[],
  call: () => unknown
): { result: unknown; stdout: string; output: string; state: string; exitCode: unknown } {
  for (const name of ['GITHUB_OUTPUT', 'GITHUB_STATE']) {
    const file = path.join(tmp, name)
    fs.writeFileSync(file, '')
    if (files.includes(name)) process.env[name] = file
    else delete process.env[name]
  }
  stdout = ''
  process.exitCode = undefined
  const result = call()
  const read = (name: string): string => fs.readFileSync(path.join(tmp, name), 'utf8').replace(/ghadelimiter_[0-9a-f-]+/g, 'DELIMITER')
  return { result, stdout, output: read('GITHUB_OUTPUT'), state: read('GITHUB_STATE'), exitCode: process.exitCode }
}

const multiline = 'line one\nline two\r\n::warning::three'
const rows: Array<[string, (m: typeof runner) => unknown]> = [
  ['info', m => m.info(multiline)],
  ['debug', m => m.debug(multiline)],
  ['warning', m => m.warning(multiline)],
  ['error', m => m.error('100% %25 done: a,b')],
  ['notice', m => m.notice(multiline)],
  ['setFailed', m => m.setFailed(multiline)],
  ['startGroup and endGroup', m => (m.startGroup('Observe: a::b'), m.endGroup())],
  ['setSecret', m => m.setSecret('s3cr3t\nline')],
  ['setOutput', m => m.setOutput('digest', multiline)],
  ['saveState', m => m.saveState('local-list', multiline)]
]

describe.each([
  ['with the command files', ['GITHUB_OUTPUT', 'GITHUB_STATE']],
  ['with GITHUB_OUTPUT only', ['GITHUB_OUTPUT']],
  ['with GITHUB_STATE only', ['GITHUB_STATE']],
  ['without them (old runners)', []]
])('%s', (_name, files) => {
  test.each(rows)('%s', (_fn, call) => {
    expect(effects(files, () => call(runner))).toEqual(effects(files, () => call(core)))
  })
})

test.each([
  ['repo', undefined, '  fedora  '],
  ['arch images', undefined, ' a\n b '],
  ['tag', { trimWhitespace: false }, '  40  '],
  ['aliases', { required: false }, '']
])('getInput(%j, %j) reads what @actions/core reads', (name, options, value) => {
  process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  expect(runner.getInput(name, options)).toBe(core.getInput(name, options))
})

test('getInput of a required input that is empty throws as @actions/core does', () => {
  process.env.INPUT_REPO = ''
  expect(() => runner.getInput('repo', { required: true })).toThrow(new Error('Input required and not supplied: repo'))
  expect(() => core.getInput('repo', { required: true })).toThrow(new Error('Input required and not supplied: repo'))
})

test('getState reads STATE_<name> as @actions/core does, and the empty string without it', () => {
  process.env['STATE_local-list'] = 'mp-local-1'
  expect([runner.getState('local-list'), runner.getState('layout-dir')]).toEqual([core.getState('local-list'), core.getState('layout-dir')])
  expect(runner.getState('local-list')).toBe('mp-local-1')
})
