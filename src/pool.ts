import * as os from 'os'

/**
 * Bounds how many registry operations (child processes) run at once. Everything independent is
 * started together and waits here, so the run costs its critical path, not the sum of its requests.
 */
export interface Limiter {
  <T>(fn: () => Promise<T>): Promise<T>
  /** Raise or lower the bound; waiting work starts at once if there is room. */
  setMax(max: number): void
  readonly max: number
}

export function limiter(initial: number): Limiter {
  let max = initial
  let running = 0
  const waiting: Array<() => void> = []
  const startWaiting = (): void => {
    while (running < max && waiting.length > 0) {
      running++
      ;(waiting.shift() as () => void)()
    }
  }
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>(resolve => waiting.push(resolve))
    else running++
    try {
      return await fn()
    } finally {
      running--
      startWaiting()
    }
  }
  const setMax = (n: number): void => {
    max = n
    startWaiting()
  }
  // A getter, not a copied value: Object.assign would freeze `max` at its first value.
  return Object.defineProperties(run, { setMax: { value: setMax }, max: { get: () => max } }) as Limiter
}

/** What one child may take: skopeo and buildah peak at about 60 MiB each here; twice that for headroom. */
export const CHILD_MEMORY = 128 << 20
export const MIN_CONCURRENCY = 4
export const MAX_CONCURRENCY = 32

/**
 * As many children as there is independent work, within the memory ceiling: half the free memory,
 * CHILD_MEMORY each, and never more than MAX_CONCURRENCY (the registries are someone else's too).
 */
export function concurrencyFor(work: number, freeBytes = os.freemem()): number {
  const byMemory = Math.floor(freeBytes / 2 / CHILD_MEMORY)
  return Math.max(MIN_CONCURRENCY, Math.min(work, byMemory, MAX_CONCURRENCY))
}

/** Until the work is known (reads of versions and the first reads). */
export const CONCURRENCY = 8
