import * as core from '@actions/core'
import * as actionsExec from '@actions/exec'
import { CONCURRENCY, limiter } from './pool'

const slot = limiter(CONCURRENCY)

/** A command that exited non-zero; the message carries its stderr, which is what gets classified. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly stderr: string
  ) {
    super(`${command} exited with ${exitCode}: ${errorLine(stderr) || '(no error output)'}`)
    this.name = 'CommandError'
  }
}

/**
 * The line that says what went wrong. buildah ends with `Error: …`; skopeo before 1.10 logs
 * `time=… level=fatal msg="…"`. Progress noise comes before either.
 */
export function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map(l => l.trim()).filter(Boolean)
  const line = [...lines].reverse().find(l => /^error:|level=(fatal|error)/i.test(l)) ?? lines[lines.length - 1] ?? ''
  const logrus = /level=(?:fatal|error) msg="((?:[^"\\]|\\.)*)"/.exec(line)
  // skopeo wraps every failure, network ones too, in a misleading "Error parsing image name".
  return (logrus ? (JSON.parse(`"${logrus[1]}"`) as string) : line).replace(/^error:\s*/i, '').replace(/^error parsing image name "[^"]*":\s*/i, '')
}

export interface ExecResult {
  stdout: Buffer
  stderr: string
}

export interface ExecOptions {
  env?: NodeJS.ProcessEnv
}

/** Runs a program with an argv array (never a shell) and returns raw stdout; throws CommandError on failure. */
export async function execute(tool: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  const command = [tool, ...args].join(' ')
  core.debug(`$ ${command}`)
  const code = await slot(() =>
    actionsExec
      .exec(tool, args, {
        silent: true,
        ignoreReturnCode: true,
        env: options.env as Record<string, string> | undefined,
        listeners: {
          stdout: (data: Buffer) => stdout.push(data),
          stderr: (data: Buffer) => stderr.push(data)
        }
      })
      .catch((e: unknown) => {
        throw new Error(`${tool} is not installed or not on PATH (${(e as Error).message.split('.')[0]}); install it, e.g. apt-get install ${tool}`)
      })
  )
  const result = { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') }
  if (code !== 0) throw new CommandError(`${tool} ${args.slice(0, 2).join(' ')}`, code, result.stderr)
  return result
}
