/**
 * src/children.ts reads /proc to find this run's children by a marker in their environment and to
 * measure their I/O (the watchdog's sign of life). Issue 19: Stryker survivors of findChild and ioOf.
 * A real `sleep` is the child: that is what the code reads.
 */
import { spawn, type ChildProcess } from 'child_process'
import * as fs from 'fs'
import { findChild, ioOf } from '../../src/children'

let child: ChildProcess
let pid: number

/** The shell has written (wchar > 0) and become sleep, asleep in nanosleep: its I/O counters no longer move. */
function asleep(p: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8')
    return (
      fs.readFileSync(`/proc/${p}/comm`, 'utf8') === 'sleep\n' &&
      stat.slice(stat.lastIndexOf(')') + 2)[0] === 'S' &&
      fs.readFileSync(`/proc/${p}/environ`, 'utf8').includes('CHILDREN_TEST=')
    )
  } catch {
    return false
  }
}

beforeEach(async () => {
  child = spawn('sh', ['-c', 'echo written-by-the-shell >/dev/null; exec sleep 600'], {
    env: { PATH: process.env.PATH ?? '', CHILDREN_TEST: 'm1' },
    stdio: 'ignore'
  })
  pid = child.pid ?? -1
  while (!asleep(pid)) await new Promise(resolve => setTimeout(resolve, 20))
})
afterEach(() => {
  child.kill('SIGKILL')
})

describe('findChild', () => {
  test('finds the direct child whose environment holds the marker, and no other', () => {
    expect(findChild('CHILDREN_TEST=m1')).toBe(pid)
    expect(findChild('CHILDREN_TEST=m2')).toBeUndefined()
  })

  test('a process with the marker that is not a direct child is not ours', () => {
    expect(findChild('CHILDREN_TEST=m1', [{ pid, ppid: process.pid + 1 }])).toBeUndefined()
  })
})

describe('ioOf', () => {
  test('counts bytes read plus bytes written', () => {
    const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8')
    const rchar = Number(/rchar: (\d+)/.exec(io)?.[1])
    const wchar = Number(/wchar: (\d+)/.exec(io)?.[1])
    // Multi-digit and both non-zero, so that a count of one digit or of one field differs.
    expect(rchar).toBeGreaterThan(9)
    expect(wchar).toBeGreaterThan(9)
    expect(ioOf(pid, [{ pid, ppid: process.pid }])).toBe(rchar + wchar)
  })
})
