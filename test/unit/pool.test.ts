import { CHILD_MEMORY, concurrencyFor, limiter, MAX_CONCURRENCY, MIN_CONCURRENCY } from '../../src/pool'

describe('limiter', () => {
  test('never runs more than max at once, and every call gets its own result', async () => {
    const slot = limiter(3)
    let running = 0
    let peak = 0
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        slot(async () => {
          running++
          peak = Math.max(peak, running)
          await new Promise(r => setImmediate(r))
          running--
          return i * 2
        })
      )
    )
    expect(peak).toBe(3)
    expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
  })

  test('a failure frees its slot', async () => {
    const slot = limiter(1)
    await expect(slot(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(slot(async () => 'next')).resolves.toBe('next')
  })
})

describe('limiter.setMax', () => {
  test('raising the bound starts waiting work at once', async () => {
    const slot = limiter(1)
    let running = 0
    let peak = 0
    const gate: Array<() => void> = []
    const job = (): Promise<void> =>
      slot(async () => {
        running++
        peak = Math.max(peak, running)
        await new Promise<void>(r => gate.push(r))
        running--
      })
    const jobs = [job(), job(), job()]
    await new Promise(r => setImmediate(r))
    expect(running).toBe(1)
    slot.setMax(3)
    await new Promise(r => setImmediate(r))
    expect(running).toBe(3)
    expect(slot.max).toBe(3)
    while (gate.length) (gate.shift() as () => void)()
    await Promise.all(jobs)
    expect(peak).toBe(3)
  })
})

describe('concurrencyFor: grows with the work, within the memory ceiling', () => {
  const GiB = 1 << 30
  test.each<[string, number, number, number]>([
    ['little work: at least the minimum', 1, 16 * GiB, MIN_CONCURRENCY],
    ['as much as the work', 12, 16 * GiB, 12],
    ['never more than the maximum', 400, 64 * GiB, MAX_CONCURRENCY],
    ['half the free memory, CHILD_MEMORY each', 400, 2 * GiB, Math.floor(GiB / CHILD_MEMORY)],
    ['a starved machine still gets the minimum', 400, 0, MIN_CONCURRENCY]
  ])('%s', (_, work, free, expected) => {
    expect(concurrencyFor(work, free)).toBe(expected)
  })
})
