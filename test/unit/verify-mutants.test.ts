/**
 * Tests for mutants the mutation run (npm run mutate, Stryker) found alive in src/verify.ts: readBack's
 * pause doubles, so a registry that never serves the pushed list is read a bounded number of times.
 */
import type { Reader } from '../../src/registry/reader'
import { readBack } from '../../src/verify'

afterEach(() => {
  jest.useRealTimers()
})

test('readBack: the pause doubles between reads (1, 2, 4, 8 ms within 10 ms: 4 reads)', async () => {
  jest.useFakeTimers({ now: 0 })
  const manifest = jest.fn(async () => null)
  const reader = { manifest } as Pick<Reader, 'manifest'> as Reader
  const done = readBack(reader, 'r.example/x:1', () => false, { waitMs: 10, firstPauseMs: 1 })
  // Fake time: each pause passes only when advanced; a pause that never grows would need many more reads.
  for (let i = 0; i < 20; i++) await jest.advanceTimersByTimeAsync(1)
  await expect(done).resolves.toBeNull()
  expect(manifest).toHaveBeenCalledTimes(4)
})
