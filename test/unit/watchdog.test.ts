/**
 * The watchdog of src/exec.ts kills a hung command together with everything it started (issue 19:
 * no test killed the mutant that kills only the command). A helper's child left running could finish
 * a tag PUT after the run has rolled back. A real shell stands in for the hung tool: it starts a
 * child of its own and waits, neither printing nor reading nor writing.
 * And it kills nothing else: a command moving bytes without printing (a big blob) lives on past the
 * idle time, a quiet one is not killed before it, and a command still running when another ends
 * stays watched (the watchdog's timer runs while any command does, and only then).
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { execute } from '../../src/exec'
import { gone, running } from './procs'

jest.mock('../../src/log', () => ({ info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

let dir: string
let grandchild: number | undefined
const savedTimings = process.env.MULTIARCH_PUBLISH_TIMINGS
const idle = (idleMs: number): void => {
  process.env.MULTIARCH_PUBLISH_TIMINGS = JSON.stringify({ idleMs, tickMs: 50 })
}
const env = { PATH: process.env.PATH ?? '' }
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watchdog-test-'))
  // Idle long enough that the shell has started its child and written its pid before it counts as hung.
  idle(1000)
})
afterEach(() => {
  // Without the tree kill, the grandchild outlives the test.
  if (grandchild !== undefined && running(grandchild)) process.kill(grandchild, 'SIGKILL')
  fs.rmSync(dir, { recursive: true, force: true })
  if (savedTimings === undefined) delete process.env.MULTIARCH_PUBLISH_TIMINGS
  else process.env.MULTIARCH_PUBLISH_TIMINGS = savedTimings
})

test('a hung command is killed with its children: none of them runs on', async () => {
  const pidFile = path.join(dir, 'grandchild')
  const script = `sleep 600 </dev/null >/dev/null 2>&1 & echo $! > "${pidFile}"; wait`
  await expect(execute('sh', ['-c', script], { env })).rejects.toThrow(/no progress for 1 s.*\(killed\)/)
  grandchild = Number(fs.readFileSync(pidFile, 'utf8'))
  await gone(grandchild)
  expect(running(grandchild)).toBe(false)
})

test('a command that reads and writes without printing lives on past the idle time: bytes moved are progress', async () => {
  // At least 3 s of reading (30 rounds of 0.1 s) against an idle time of 1 s, and never a line printed.
  const script = 'i=0; while [ $i -lt 30 ]; do read -r line < /proc/self/stat; sleep 0.1; i=$((i+1)); done'
  await expect(execute('sh', ['-c', script], { env })).resolves.toEqual({ stdout: Buffer.alloc(0), stderr: '' })
})

test('a quiet command is not killed before the idle time has passed', async () => {
  idle(30_000)
  await expect(execute('sleep', ['1'], { env })).resolves.toEqual({ stdout: Buffer.alloc(0), stderr: '' })
})

test('a hung command is still killed after another command, started with it, has ended', async () => {
  const hung = execute('sleep', ['20'], { env })
  await execute('true', [], { env })
  await expect(hung).rejects.toThrow(/no progress for 1 s.*\(killed\)/)
}, 15_000)

test('two commands at once are each watched by their own marker: the busy one lives, the hung one is killed', async () => {
  // The busy one starts first, so it is the first child a marker matching every child (an empty one) would find.
  const busyScript = 'i=0; while [ $i -lt 30 ]; do read -r line < /proc/self/stat; sleep 0.1; i=$((i+1)); done'
  const busy = execute('sh', ['-c', busyScript], { env })
  const hung = execute('sleep', ['20'], { env })
  await expect(hung).rejects.toThrow(/no progress for 1 s.*\(killed\)/)
  await expect(busy).resolves.toEqual({ stdout: Buffer.alloc(0), stderr: '' })
}, 15_000)

test('the watchdog ticks while a command runs, and stops when the last one ends', async () => {
  const started = jest.spyOn(global, 'setInterval')
  const stopped = jest.spyOn(global, 'clearInterval')
  try {
    await Promise.all([execute('true', [], { env }), execute('true', [], { env })])
    expect(started).toHaveBeenCalledTimes(1)
    expect(stopped).toHaveBeenCalledTimes(1)
    expect(stopped).toHaveBeenCalledWith(started.mock.results[0].value)
    // A later command starts it again (and is watched: the test above).
    await execute('true', [], { env })
    expect(started).toHaveBeenCalledTimes(2)
    expect(stopped).toHaveBeenCalledTimes(2)
  } finally {
    started.mockRestore()
    stopped.mockRestore()
  }
})
