/**
 * The committed bundles load and fail cleanly on every Node.js the action meets: 20 (the oldest it
 * supports), 22 (a default forgejo-runner job image) and 24 (GitHub's `node24`). Forgejo and act run
 * whatever `node` the job image has, so `runs.using` does not pin it.
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { NODE_VERSIONS, nodeBinary } from './nodes'

const ROOT = path.resolve(__dirname, '..', '..')
const MAIN = path.join(ROOT, 'dist', 'index.js')
const POST = path.join(ROOT, 'dist', 'post', 'index.js')

/** A stack frame, as Node.js prints them: `    at fn (file:line:col)`. */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m

const binaries = new Map<string, string>()

beforeAll(() => {
  for (const version of NODE_VERSIONS) binaries.set(version, nodeBinary(version))
}, 600_000)

let work: string
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'multiarch-publish-node-'))
})
afterEach(() => {
  fs.rmSync(work, { recursive: true, force: true })
})

/** Run a bundle as a runner would, with no inputs: empty GITHUB_OUTPUT and GITHUB_STATE files, no summary. */
function runBundle(node: string, bundle: string): { status: number | null; stdout: string; stderr: string; outputs: string } {
  const outputs = path.join(work, 'output')
  const state = path.join(work, 'state')
  fs.writeFileSync(outputs, '')
  fs.writeFileSync(state, '')
  const inherited = Object.entries(process.env).filter(([k]) => !/^(INPUT_|STATE_|GITHUB_|RUNNER_|NODE_OPTIONS$)/.test(k))
  const env = { ...Object.fromEntries(inherited), GITHUB_OUTPUT: outputs, GITHUB_STATE: state, RUNNER_TEMP: work }
  const run = spawnSync(node, [bundle], { cwd: work, env, encoding: 'utf8', timeout: 60_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, outputs: fs.readFileSync(outputs, 'utf8') }
}

describe.each(NODE_VERSIONS)('Node.js %s', version => {
  test('is the binary asked for', () => {
    const run = spawnSync(binaries.get(version) as string, ['--version'], { encoding: 'utf8' })
    expect(run.stdout.trim()).toBe(`v${version}`)
  })

  test('main step without inputs: exit 1, the missing input named, result failed, no stack trace', () => {
    const run = runBundle(binaries.get(version) as string, MAIN)
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 1, stderr: '' })
    expect(run.stdout).toMatch(/^::error::.*\brepo\b/m)
    expect(run.stdout).toMatch(/^Error: .*\brepo\b/m)
    expect(run.stdout).not.toMatch(STACK_FRAME)
    expect(run.outputs).toMatch(/^result<<(\S+)\nfailed\n\1$/m)
  })

  test('post step without state: nothing to clean up, exit 0, nothing on stderr', () => {
    const run = runBundle(binaries.get(version) as string, POST)
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' })
    expect(run.stdout).not.toMatch(/::error::|::warning::/)
    expect(run.stdout).not.toMatch(STACK_FRAME)
  })
})
