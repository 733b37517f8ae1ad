import * as log from '../../src/log'
import { spawn } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { CommandError, errorLine, execute, setConcurrency, stopChildren } from '../../src/exec'
import { CONCURRENCY } from '../../src/pool'
import { gone, running } from './procs'

jest.mock('../../src/log', () => ({ info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

const env = { PATH: process.env.PATH ?? '' }

describe('errorLine: the line that says what went wrong', () => {
  test.each([
    [
      'buildah: the last Error: line, after progress noise',
      'Getting image source signatures\nCopying blob sha256:ab\nError: writing manifest: denied: access denied\n',
      'writing manifest: denied: access denied'
    ],
    [
      'skopeo < 1.10: logrus fatal, quotes unescaped, the misleading prefix gone',
      'time="2026-11-23T21:23:27Z" level=fatal msg="Error parsing image name \\"docker://127.0.0.1:5000/x:1\\": pinging container registry 127.0.0.1:5000: invalid status code from registry 503 (Service Unavailable)"\n',
      'pinging container registry 127.0.0.1:5000: invalid status code from registry 503 (Service Unavailable)'
    ],
    [
      'a 1.28 warning before the error is not the error',
      'level=warning msg="falling back"\nError: reading manifest 40 in x: manifest unknown\n',
      'reading manifest 40 in x: manifest unknown'
    ],
    ['no Error: line: the last line', 'something odd happened\nand then this\n', 'and then this'],
    ['nothing', '', ''],
    // A registry's text inside logrus quotes: its escapes stay escapes, never real line breaks.
    [
      'logrus escapes stay as they are',
      'level=fatal msg="reading manifest: denied: x\\n::set-output name=a::b"\n',
      'reading manifest: denied: x\\n::set-output name=a::b'
    ],
    // Issue 19 survivors: each case below fails with one mutant of errorLine.
    ['lines are trimmed before the Error: test', '  Error: boom  \n', 'boom'],
    ['an Error: line that is not the last still wins', 'Error: denied\nprogress after it\n', 'denied'],
    ['the last Error: line, not the first', 'Error: first\nError: second\n', 'second'],
    ['Error: only at the start of a line', 'warning: no error: here\nthe last line\n', 'the last line'],
    ['the Error: prefix is cut only at the start', 'failed: error: inner\n', 'failed: error: inner'],
    ['all spaces after Error: are cut', 'Error:   spaced\n', 'spaced'],
    ['the image-name prefix is cut only at the start', 'Error: x: error parsing image name "y": z\n', 'x: error parsing image name "y": z'],
    ['all spaces after the image-name prefix are cut', 'Error: Error parsing image name "a":   b\n', 'b']
  ])('%s', (_name, stderr, line) => {
    expect(errorLine(stderr)).toBe(line)
  })
})

describe('CommandError', () => {
  test('a command killed by a signal says so; no stderr says so too', () => {
    const e = new CommandError('skopeo copy', null, '')
    expect(e.message).toBe('skopeo copy exited with a signal: (no error output)')
    expect(e.name).toBe('CommandError')
  })
})

describe('execute: a real child, its output and what is printed', () => {
  test('stdout comes back as bytes, stderr as text, and the command line goes to the debug log only', async () => {
    const debug = jest.mocked(log.debug)
    debug.mockClear()
    const r = await execute('sh', ['-c', 'printf "\\001out"; printf err >&2', 'extra'], { env })
    expect(r).toEqual({ stdout: Buffer.from([1, 0x6f, 0x75, 0x74]), stderr: 'err' })
    expect(debug.mock.calls).toEqual([['$ sh -c printf "\\001out"; printf err >&2 extra']])
  })

  test('nothing the tool prints reaches the job log itself: a line of it could be a workflow command', async () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
    try {
      await execute('sh', ['-c', 'echo "::warning::from the tool"; echo "::error::from the tool" >&2'], { env })
      expect(write).not.toHaveBeenCalled()
    } finally {
      write.mockRestore()
    }
  })

  test('onLine: each line once complete, trimmed, blank ones left out; each stream keeps its own unfinished line', async () => {
    const lines: string[] = []
    // stdout's "ab" waits for its "c"; stderr's whole line comes in between. Sorted: which pipe is read
    // first is up to the event loop.
    const script = 'printf ab; sleep 0.2; printf "  err  \\n" >&2; sleep 0.2; printf "c\\n  d  \\n\\n \\ne\\n"'
    await execute('sh', ['-c', script], { env, onLine: line => lines.push(line) })
    expect([...lines].sort()).toEqual(['abc', 'd', 'e', 'err'])
  })

  test('a non-zero exit: CommandError naming the tool and its first two arguments, with the error line', async () => {
    const failing = execute('sh', ['-c', 'echo progress >&2; echo "Error: it broke" >&2; exit 3', 'more'], { env })
    await expect(failing).rejects.toThrow('sh -c echo progress >&2; echo "Error: it broke" >&2; exit 3 exited with 3: it broke')
    await expect(failing).rejects.toMatchObject({ name: 'CommandError', exitCode: 3, stderr: 'progress\nError: it broke\n' })
  })
})

describe('how many children at once, and stopping them', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-test-'))
  })
  afterEach(() => {
    setConcurrency(CONCURRENCY)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  test('setConcurrency(1): a second command starts only when the first has ended', async () => {
    setConcurrency(1)
    const mark = path.join(dir, 'second-ran')
    // The first looks, after a moment, for what the second leaves: with room for both, it would be there.
    const first = execute('sh', ['-c', `sleep 0.5; if [ -e "${mark}" ]; then echo overlapped; fi`], { env })
    const second = execute('touch', [mark], { env })
    expect((await first).stdout.toString()).toBe('')
    await second
    expect(fs.existsSync(mark)).toBe(true)
  })

  /** This process's direct children whose environment holds this run's marker. */
  function markedChildren(): number[] {
    return fs
      .readdirSync('/proc')
      .filter(name => /^\d+$/.test(name))
      .filter(name => {
        try {
          const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
          return ppid === process.pid && fs.readFileSync(`/proc/${name}/environ`, 'utf8').includes('MULTIARCH_PUBLISH_CHILD=')
        } catch {
          return false
        }
      })
      .map(Number)
  }

  test("stopChildren stops this run's commands and leaves the process's other children alone", async () => {
    const other = spawn('sleep', ['600'], { env, stdio: 'ignore' })
    try {
      const ours = execute('sleep', ['600'], { env })
      while (markedChildren().length === 0) await new Promise(resolve => setTimeout(resolve, 20))
      const [command] = markedChildren()
      // Its rejection is handled from now on: it may come while stopChildren still waits.
      const outcome = ours.then(
        () => 'exited',
        (e: unknown) => e
      )
      expect(await stopChildren()).toBe(1)
      expect(await outcome).toBeInstanceOf(CommandError)
      await gone(command)
      expect(running(other.pid ?? -1)).toBe(true)
    } finally {
      other.kill('SIGKILL')
    }
  })
})
