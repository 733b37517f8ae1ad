/**
 * How long the action waits for things. The defaults suit real registries; tests shorten them with
 * MULTIARCH_PUBLISH_TIMINGS (JSON, e.g. `{"idleMs":2000}`) instead of sleeping them out.
 */
export interface Timings {
  /** A child process that neither prints nor reads/writes anything for this long is killed (a hung registry). */
  idleMs: number
  /** How often child processes are checked for progress. */
  tickMs: number
  /** First back-off before a retry; each further one doubles (±50% jitter), up to maxDelayMs. */
  baseDelayMs: number
  maxDelayMs: number
  /** How long a destination may keep serving the old list after the push (a CDN, a lagging replica). */
  readBackMs: number
  /** How often overlapping runs may make this one observe and plan again before it gives up. */
  replans: number
}

export const DEFAULT_TIMINGS: Timings = {
  idleMs: 90_000,
  tickMs: 1_000,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  readBackMs: 30_000,
  replans: 3
}

export function timings(env: NodeJS.ProcessEnv = process.env): Timings {
  const text = env.MULTIARCH_PUBLISH_TIMINGS
  if (!text) return DEFAULT_TIMINGS
  const given = JSON.parse(text) as Record<string, unknown>
  const out: Timings = { ...DEFAULT_TIMINGS }
  for (const key of Object.keys(DEFAULT_TIMINGS) as Array<keyof Timings>) {
    const value = given[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`MULTIARCH_PUBLISH_TIMINGS: ${key} must be a non-negative number`)
    }
    out[key] = value
  }
  return out
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
