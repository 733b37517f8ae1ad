import * as log from './log'
import * as crypto from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import { findChild, ioOf, killTree, procsNow, stopMarked } from './children'
import { CONCURRENCY, limiter } from './pool'
import { timings } from './timing'

/** `@actions/exec`, loaded with the first child: a run that only reads (a rerun) never needs it, nor the modules it loads. */
function actionsExec(): typeof import('@actions/exec') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@actions/exec') as typeof import('@actions/exec')
}

const slot = limiter(CONCURRENCY)

/** Fit the number of children at once to the work (see concurrencyFor). */
export function setConcurrency(max: number): void {
  slot.setMax(max)
}

/** Every child gets MARKER=<run>-<n>: how the watchdog and a cancel find this run's processes. */
const MARKER = 'MULTIARCH_PUBLISH_CHILD'
const RUN_ID = crypto.randomBytes(4).toString('hex')
let nextCall = 0

/** A command that exited non-zero; the message carries its stderr, which is what gets classified. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string
  ) {
    super(`${command} exited with ${exitCode ?? 'a signal'}: ${errorLine(stderr) || '(no error output)'}`)
    this.name = 'CommandError'
  }
}

/**
 * The line that says what went wrong. buildah ends with `Error: …`; skopeo before 1.10 logs
 * `time=… level=fatal msg="…"`. Progress noise comes before either.
 */
export function errorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean)
  const line = [...lines].reverse().find(l => /^error:|level=(fatal|error)/i.test(l)) ?? lines[lines.length - 1] ?? ''
  // logrus quotes the message Go-style; the escapes stay as they are (a `\n` must not become a line break).
  const logrus = /level=(?:fatal|error) msg="((?:[^"\\]|\\.)*)"/.exec(line)
  // skopeo wraps every failure, network ones too, in a misleading "Error parsing image name".
  return (logrus ? logrus[1].replace(/\\"/g, '"') : line).replace(/^error:\s*/i, '').replace(/^error parsing image name "[^"]*":\s*/i, '')
}

export interface ExecResult {
  stdout: Buffer
  stderr: string
}

export interface ExecOptions {
  /** Always given, never defaulted: the runner's own environment holds the inputs (password too) and tokens. */
  env: NodeJS.ProcessEnv
  /** Each line the command prints (stdout or stderr), as it comes: progress. */
  onLine?: (line: string) => void
}

/** What the watchdog knows of one running command. */
interface Watched {
  marker: string
  pid?: number
  io: number
  lastProgress: number
  killed: boolean
}

const watched = new Set<Watched>()
let ticker: NodeJS.Timeout | undefined

/** Kills a command that shows no sign of life (no output, no bytes read or written) for `idleMs`. */
function tick(): void {
  const { idleMs } = timings()
  const now = Date.now()
  // One look at /proc per tick for all commands: a scan per command costs seconds over a release set.
  const procs = procsNow()
  for (const w of watched) {
    w.pid ??= findChild(`${MARKER}=${w.marker}`, procs)
    if (w.pid === undefined) continue
    const io = ioOf(w.pid, procs)
    if (io !== w.io) {
      w.io = io
      w.lastProgress = now
    } else if (now - w.lastProgress > idleMs && !w.killed) {
      w.killed = true
      killTree(w.pid)
    }
  }
}

function watch(marker: string): Watched {
  const w: Watched = { marker, io: -1, lastProgress: Date.now(), killed: false }
  watched.add(w)
  ticker ??= setInterval(tick, timings().tickMs).unref()
  return w
}

function unwatch(w: Watched): void {
  watched.delete(w)
  if (watched.size === 0 && ticker) {
    clearInterval(ticker)
    ticker = undefined
  }
}

/** Stops every command this run started (a cancelled job): nothing of it may write after the step ends. */
export function stopChildren(): Promise<number> {
  return stopMarked(`${MARKER}=${RUN_ID}-`)
}

const toolPaths = new Map<string, string>()

/**
 * The tool's path, looked up in PATH once per tool and PATH rather than by @actions/exec for every
 * command (a few ms each, hundreds of commands in a release set). Not found: the bare name, so that
 * @actions/exec reports it missing.
 */
function toolPath(tool: string): string {
  const key = `${tool}\0${process.env.PATH ?? ''}`
  const known = toolPaths.get(key)
  if (known) return known
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, tool)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      if (!fs.statSync(candidate).isFile()) continue
    } catch {
      continue
    }
    toolPaths.set(key, candidate)
    return candidate
  }
  return tool
}

/** Runs a program with an argv array (never a shell) and returns raw stdout; throws CommandError on failure. */
export async function execute(tool: string, args: string[], options: ExecOptions): Promise<ExecResult> {
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  const command = `${tool} ${args.slice(0, 2).join(' ')}`
  log.debug(`$ ${[tool, ...args].join(' ')}`)
  const marker = `${RUN_ID}-${nextCall++}`
  // Each stream keeps its own unfinished line: stderr's text must not end a line stdout began.
  const collect = (sink: Buffer[]) => {
    let partial = ''
    return (data: Buffer) => {
      sink.push(data)
      if (w) w.lastProgress = Date.now()
      if (!options.onLine) return
      const lines = (partial + data.toString('utf8')).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) if (line.trim()) options.onLine(line.trim())
    }
  }
  let w: Watched | undefined
  const code = await slot(async () => {
    const program = toolPath(tool)
    w = watch(marker)
    try {
      return await actionsExec().exec(program, args, {
        silent: true,
        ignoreReturnCode: true,
        env: { ...options.env, [MARKER]: marker } as Record<string, string>,
        listeners: { stdout: collect(stdout), stderr: collect(stderr) }
      })
    } catch (e) {
      throw new Error(
        `${tool} is not installed or not on PATH (${(e as Error).message.split('.')[0]}); install it, e.g. apt-get install ${tool}`
      )
    } finally {
      unwatch(w)
    }
  })
  const result = { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') }
  if (w?.killed) {
    const seconds = Math.round(timings().idleMs / 1000)
    throw new CommandError(command, code, `${result.stderr}\nError: no progress for ${seconds} s: the registry stopped answering (killed)`)
  }
  if (code !== 0) throw new CommandError(command, code, result.stderr)
  return result
}
