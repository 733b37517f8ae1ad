/**
 * The watchdog of src/exec.ts kills a hung command together with everything it started (issue 19:
 * no test killed the mutant that kills only the command). A helper's child left running could finish
 * a tag PUT after the run has rolled back. A real shell stands in for the hung tool: it starts a
 * child of its own and waits, neither printing nor reading nor writing.
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { execute } from '../../src/exec'

jest.mock('../../src/log', () => ({ info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

/** Running, as opposed to gone or a zombie nobody has reaped yet (this container's pid 1 may not reap). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

let dir: string
let grandchild: number | undefined
const savedTimings = process.env.MULTIARCH_PUBLISH_TIMINGS
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watchdog-test-'))
  // Idle long enough that the shell has started its child and written its pid before it counts as hung.
  process.env.MULTIARCH_PUBLISH_TIMINGS = JSON.stringify({ idleMs: 1000, tickMs: 50 })
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
  await expect(execute('sh', ['-c', script], { env: { PATH: process.env.PATH ?? '' } })).rejects.toThrow(/no progress for 1 s.*\(killed\)/)
  grandchild = Number(fs.readFileSync(pidFile, 'utf8'))
  // SIGKILL has been sent; waits until it has taken effect (the test's timeout bounds it).
  while (running(grandchild)) await new Promise(resolve => setTimeout(resolve, 20))
  expect(running(grandchild)).toBe(false)
})
