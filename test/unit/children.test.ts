/**
 * src/children.ts reads /proc to find this run's children by a marker in their environment and to
 * measure their I/O (the watchdog's sign of life). Issue 19: Stryker survivors of findChild and ioOf.
 * A real `sleep` is the child: that is what the code reads. stopMarked (a cancelled job) stops
 * every process of this run, children of children too, and nothing else.
 */
import { spawn, type ChildProcess } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { findChild, ioOf, statFields, stopMarked, treesWithin, type Proc } from '../../src/children'
import { gone, running } from './procs'

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

describe('stopMarked', () => {
  let dir: string
  const started: ChildProcess[] = []
  const grandchildren: number[] = []
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'children-test-'))
  })
  afterEach(() => {
    for (const c of started.splice(0)) c.kill('SIGKILL')
    for (const p of grandchildren.splice(0)) if (running(p)) process.kill(p, 'SIGKILL')
    fs.rmSync(dir, { recursive: true, force: true })
  })

  /**
   * A shell with MARK=`mark` (or, `sleepOnly`, without it) that starts a sleep of its own with the
   * marker and waits; its pid and the sleep's, once the sleep runs with the marker.
   */
  async function tree(mark: string, shellPrefix = '', sleepOnly = false): Promise<[number, number]> {
    const pidFile = path.join(dir, mark)
    const sleep = sleepOnly ? `MARK=${mark} sleep` : 'sleep'
    const c = spawn(
      'sh',
      // Builtins only after the sleep (no `mv`): a helper process still exiting would count as one of the tree's.
      ['-c', `${shellPrefix}${sleep} 600 </dev/null >/dev/null 2>&1 & echo $! > "${pidFile}"; wait`],
      {
        env: sleepOnly ? { PATH: process.env.PATH ?? '' } : { PATH: process.env.PATH ?? '', MARK: mark },
        stdio: 'ignore'
      }
    )
    started.push(c)
    // echo writes the pid and its newline in one write: a file without the newline is not written yet.
    const written = (): boolean => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').endsWith('\n')
    while (!written()) await new Promise(resolve => setTimeout(resolve, 20))
    const sleeper = Number(fs.readFileSync(pidFile, 'utf8'))
    grandchildren.push(sleeper)
    // The environment is read, not assumed: until it has exec'd sleep, the forked shell has the shell's.
    const marked = (): boolean => fs.readFileSync(`/proc/${sleeper}/environ`, 'utf8').split('\0').includes(`MARK=${mark}`)
    while (!marked()) await new Promise(resolve => setTimeout(resolve, 20))
    return [c.pid ?? -1, sleeper]
  }

  test('stops the children whose marker has the prefix, with their children; others and unmarked ones run on', async () => {
    const ours = await tree('run1-0')
    const alsoOurs = await tree('run1-1')
    const otherRun = await tree('run2-0')
    expect(await stopMarked('MARK=run1-')).toBe(4)
    for (const p of [...ours, ...alsoOurs]) await gone(p)
    expect([...ours, ...alsoOurs].filter(running)).toEqual([])
    // The other run's processes and this test's own child (no MARK) were left alone.
    expect(otherRun.filter(running)).toEqual(otherRun)
    expect(running(pid)).toBe(true)
  })

  test('asks with SIGTERM first, which a tool can clean up on, and waits no longer once all are gone', async () => {
    const said = path.join(dir, 'said')
    // The clean-up takes a moment (0.2 s): a SIGKILL sent along with the SIGTERM would cut it short.
    const polite = await tree('run4-0', `trap 'sleep 0.2; echo term > "${said}"; exit 0' TERM; `)
    expect(await stopMarked('MARK=run4-', 60_000)).toBe(2)
    expect(polite.filter(running)).toEqual([])
    expect(fs.readFileSync(said, 'utf8')).toBe('term\n')
  })

  test('what ignores SIGTERM gets SIGKILL once the grace time is over', async () => {
    const stubborn = await tree('run3-0', 'trap "" TERM; ')
    expect(await stopMarked('MARK=run3-', 100)).toBe(2)
    for (const p of stubborn) await gone(p)
    expect(stubborn.filter(running)).toEqual([])
  })

  test("only direct children are looked at: a marked process below an unmarked child is not this run's", async () => {
    const [shell, sleeper] = await tree('run5-0', '', true)
    expect(await stopMarked('MARK=run5-')).toBe(0)
    expect([shell, sleeper].filter(running)).toEqual([shell, sleeper])
  })

  test('nothing marked: nothing signalled', async () => {
    expect(await stopMarked('MARK=none-')).toBe(0)
    expect(running(pid)).toBe(true)
  })
})

describe('statFields', () => {
  // A command name with spaces and parentheses, even one that looks like fields, does not shift them.
  test.each([
    ['42 (sleep) S 7 42 42 0', ['S', '7', '42', '42', '0']],
    ['43 (a) Z (b) R 8 43', ['R', '8', '43']],
    ['44 (x) ) Z 9 44', ['Z', '9', '44']]
  ])('%s', (stat, fields) => {
    expect(statFields(stat)).toEqual(fields)
  })
})

describe('treesWithin', () => {
  // 100 is this process: 101 and 102 are its children, 103 a grandchild; 200 and its child 201 are
  // someone else's, 1 their ancestor.
  const procs: Proc[] = [
    { pid: 1, ppid: 0 },
    { pid: 100, ppid: 1 },
    { pid: 101, ppid: 100 },
    { pid: 102, ppid: 100 },
    { pid: 103, ppid: 101 },
    { pid: 200, ppid: 1 },
    { pid: 201, ppid: 200 }
  ]

  test("a root's tree, children first", () => {
    expect(treesWithin(procs, [101], 100)).toEqual([101, 103])
  })

  test('roots that are not below this process, or are it, or its ancestor, are left out, with their trees; each process once', () => {
    expect(treesWithin(procs, [200, 100, 1, 102], 100)).toEqual([101, 102, 103])
  })
})
