/**
 * Bounds how many registry operations (child processes) run at once. Everything independent is
 * started together and waits here, so the run costs its critical path, not the sum of its requests.
 */
export function limiter(max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: Array<() => void> = []
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>(resolve => waiting.push(resolve))
    running++
    try {
      return await fn()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}

export const CONCURRENCY = 8
