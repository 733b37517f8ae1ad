import { errorLine } from '../../src/exec'
import { CHILD_MEMORY, concurrencyFor, limiter, MAX_CONCURRENCY, MIN_CONCURRENCY } from '../../src/pool'

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
    ]
  ])('%s', (_name, stderr, line) => {
    expect(errorLine(stderr)).toBe(line)
  })
})

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
