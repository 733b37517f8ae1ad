import { errorLine } from '../../src/exec'
import { limiter } from '../../src/pool'

describe('errorLine: the line that says what went wrong', () => {
  test.each([
    ['buildah: the last Error: line, after progress noise', 'Getting image source signatures\nCopying blob sha256:ab\nError: writing manifest: denied: access denied\n', 'writing manifest: denied: access denied'],
    [
      'skopeo < 1.10: logrus fatal, quotes unescaped, the misleading prefix gone',
      'time="2026-11-23T21:23:27Z" level=fatal msg="Error parsing image name \\"docker://127.0.0.1:5000/x:1\\": pinging container registry 127.0.0.1:5000: invalid status code from registry 503 (Service Unavailable)"\n',
      'pinging container registry 127.0.0.1:5000: invalid status code from registry 503 (Service Unavailable)'
    ],
    ['a 1.28 warning before the error is not the error', 'level=warning msg="falling back"\nError: reading manifest 40 in x: manifest unknown\n', 'reading manifest 40 in x: manifest unknown'],
    ['no Error: line: the last line', 'something odd happened\nand then this\n', 'and then this'],
    ['nothing', '', '']
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
