import * as log from './log'
import { CommandError, errorLine } from './exec'

export type ErrorKind = 'not-found' | 'transient' | 'permanent'

/**
 * How registry errors are classified, by case-insensitive phrase: wording differs between buildah,
 * skopeo and registry versions, so whole messages are never matched. First match wins, so the
 * permanent phrases come first: an "unauthorized" is never retried even if it also says "EOF".
 */
export const ERROR_PHRASES: ReadonlyArray<{ phrase: string; kind: ErrorKind; hint?: string }> = [
  { phrase: 'unauthorized', kind: 'permanent', hint: 'check the credentials (username/password, auth-file or a prior login)' },
  { phrase: 'authentication required', kind: 'permanent', hint: 'log in first or pass username/password' },
  { phrase: 'invalid username/password', kind: 'permanent', hint: 'the username or password is wrong' },
  { phrase: 'denied', kind: 'permanent', hint: 'the credentials lack permission on this repository' },
  { phrase: 'x509:', kind: 'permanent', hint: 'the certificate is not trusted; use cert-dir or the system trust store' },
  { phrase: 'certificate', kind: 'permanent', hint: 'TLS certificate problem; use cert-dir or the system trust store' },
  {
    phrase: 'server gave http response to https client',
    kind: 'permanent',
    hint: 'the registry speaks plain HTTP; set tls-verify: false for it'
  },
  { phrase: 'invalid reference format', kind: 'permanent' },
  { phrase: 'manifest unknown', kind: 'not-found' },
  { phrase: 'name unknown', kind: 'not-found' },
  { phrase: 'repository name not known', kind: 'not-found' },
  { phrase: '404 (not found)', kind: 'not-found' },
  { phrase: 'connection refused', kind: 'transient' },
  { phrase: 'connection reset', kind: 'transient' },
  { phrase: 'broken pipe', kind: 'transient' },
  { phrase: ': eof', kind: 'transient' },
  { phrase: 'unexpected eof', kind: 'transient' },
  { phrase: 'i/o timeout', kind: 'transient' },
  { phrase: 'connection timed out', kind: 'transient' },
  { phrase: 'client.timeout exceeded', kind: 'transient' },
  { phrase: 'no route to host', kind: 'transient' },
  { phrase: 'http2: server sent goaway', kind: 'transient' },
  // Go's HTTP transport, when a connection dies under a request (containers/image opens one per request).
  { phrase: 'server closed idle connection', kind: 'transient' },
  { phrase: 'transport connection broken', kind: 'transient' },
  { phrase: 'use of closed network connection', kind: 'transient' },
  { phrase: 'http2: client connection lost', kind: 'transient' },
  // The watchdog in src/exec.ts killed a command that stopped making progress.
  { phrase: 'no progress for', kind: 'transient' },
  { phrase: 'tls handshake timeout', kind: 'transient' },
  { phrase: 'timeout awaiting response headers', kind: 'transient' },
  { phrase: 'context deadline exceeded', kind: 'transient' },
  { phrase: 'temporary failure in name resolution', kind: 'transient' },
  { phrase: 'toomanyrequests', kind: 'transient' },
  { phrase: 'too many requests', kind: 'transient' },
  { phrase: 'status: 429', kind: 'transient' },
  { phrase: 'bad gateway', kind: 'transient' },
  { phrase: 'service unavailable', kind: 'transient' },
  { phrase: 'gateway timeout', kind: 'transient' },
  // Registries answer 500 under write races (docker-registry, two pushes into one repository); bounded retries are cheap.
  { phrase: 'internal server error', kind: 'transient' },
  // A manifest PUT naming blobs the same copy has just written: a registry that has not made them
  // visible yet (two runs uploading the same blob at once, eventually consistent storage).
  { phrase: 'manifest blob unknown', kind: 'transient' },
  { phrase: 'status: 502', kind: 'transient' },
  { phrase: 'status: 503', kind: 'transient' },
  { phrase: 'status: 504', kind: 'transient' },
  { phrase: 'registry 502', kind: 'transient' },
  { phrase: 'registry 503', kind: 'transient' },
  { phrase: 'registry 504', kind: 'transient' },
  { phrase: 'registry 429', kind: 'transient' }
]

export function classify(message: string): { kind: ErrorKind; hint?: string } {
  const text = message.toLowerCase()
  const match = ERROR_PHRASES.find(p => text.includes(p.phrase))
  // Anything unrecognised fails at once: a clear error beats minutes of futile retries.
  return match ? { kind: match.kind, hint: match.hint } : { kind: 'permanent' }
}

export function errorText(e: unknown): string {
  return e instanceof CommandError ? e.stderr || e.message : e instanceof Error ? e.message : String(e)
}

/** The error's own line plus, where the phrase table knows one, what to do about it. */
export function explain(e: unknown): string {
  const text = errorText(e)
  const line = e instanceof CommandError ? errorLine(text) || e.message : text
  const hint = classify(text).hint
  return hint && !line.includes(hint) ? `${line} (${hint})` : line
}

export interface RetryOptions {
  /** Attempts in a row that made no progress, after the first. */
  retries: number
  /** First back-off; each further one doubles, with ±50% jitter so parallel runs spread out. */
  baseDelayMs?: number
  maxDelayMs?: number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  /**
   * Asked after a failed attempt: did it get further than every attempt before it? Such an attempt
   * is not counted against `retries` (a large copy over a flaky network gets through piece by piece),
   * up to `MAX_ATTEMPTS` in all.
   */
  madeProgress?: () => boolean
}

/** The bound on attempts that keep making progress, so even a pathological network ends. */
export const MAX_ATTEMPTS = 50

export function backoffMs(attempt: number, baseDelayMs: number, random: () => number, maxDelayMs = 30_000): number {
  return Math.round(Math.min(baseDelayMs * 2 ** attempt, maxDelayMs) * (0.5 + random()))
}

/**
 * Runs `op`, retrying transient failures; `what` names the operation (and so the registry) in the
 * log. Attempts are logged at info level; an operation that needed retries gets one warning.
 */
export async function withRetry<T>(what: string, op: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { retries, baseDelayMs = 1000, maxDelayMs = 30_000, random = Math.random } = options
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>(r => setTimeout(r, ms)))
  let idle = 0
  const failures: string[] = []
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await op()
      if (failures.length > 0) {
        log.warning(`${what}: succeeded after ${failures.length + 1} attempts (${[...new Set(failures)].join('; ')})`)
      }
      return result
    } catch (e) {
      const progressed = options.madeProgress?.() ?? false
      // `retries` bounds attempts in a row without progress: one that gets further starts the count again.
      idle = progressed ? 0 : idle + 1
      const line = errorLine(errorText(e))
      if (idle > retries || attempt + 1 >= MAX_ATTEMPTS || classify(errorText(e)).kind !== 'transient') {
        if (failures.length > 0 && e instanceof Error) e.message += ` (after ${failures.length + 1} attempts)`
        throw e
      }
      failures.push(line)
      const delay = progressed ? baseDelayMs : backoffMs(idle - 1, baseDelayMs, random, maxDelayMs)
      log.info(`${what}: transient failure (${line})${progressed ? ', with progress' : ''}; attempt ${attempt + 2} in ${delay} ms`)
      await sleep(delay)
    }
  }
}
