/**
 * src/verify.ts: the reads that verify a publish, against the in-memory registry of builders.ts.
 * What a list must hold is tested in compare.test.ts; the same reads against registries that lag or
 * lie in test/integration/transaction.test.ts.
 */
import { sha256 } from '../../src/manifest'
import { readBack, unservable } from '../../src/verify'
import { amd64, arm64, entry, FakeRegistry, image, list } from './builders'

const REF = 'r.example/x:1'
const IMAGES = [image(amd64), image(arm64)]
const ENTRIES = [entry('x86_64', amd64, IMAGES[0].digest), entry('aarch64', arm64, IMAGES[1].digest)]
const PLANNED = [
  { digest: IMAGES[0].digest, platform: amd64 },
  { digest: IMAGES[1].digest, platform: arm64 }
]

/** A tag that serves each of `answers` in turn, one per read (the last one stays); null: nothing. */
function lagging(...answers: Array<Buffer | null>): FakeRegistry {
  const reg = new FakeRegistry()
  reg.onRead = () => {
    const next = answers.length > 1 ? answers.shift() : answers[0]
    if (next) reg.tag(REF, next)
    else reg.untag(REF)
  }
  return reg
}

describe('readBack: waits for a lagging registry, within a bound', () => {
  const old = list([PLANNED[0]])
  const pushed = list(PLANNED)
  const isPushed = (m: { digest: string } | null): boolean => m?.digest === sha256(pushed)
  const freshRead = { what: 'fresh manifest', ref: REF }

  afterEach(() => {
    jest.useRealTimers()
  })

  test('what it wants at the first read: one read', async () => {
    const reg = lagging(pushed)
    expect((await readBack(reg, REF, isPushed, { waitMs: 1000, firstPauseMs: 1 }))?.digest).toBe(sha256(pushed))
    expect(reg.reads).toEqual([freshRead])
  })

  test('the old list (or nothing) for a while: read again until the pushed list is served', async () => {
    const reg = lagging(old, null, old, pushed)
    expect((await readBack(reg, REF, isPushed, { waitMs: 10_000, firstPauseMs: 1 }))?.digest).toBe(sha256(pushed))
    expect(reg.reads).toEqual([freshRead, freshRead, freshRead, freshRead])
  })

  test('the wait runs out: what was served last is returned, for the caller to name', async () => {
    const stale = lagging(old)
    expect((await readBack(stale, REF, isPushed, { waitMs: 30, firstPauseMs: 2 }))?.digest).toBe(sha256(old))
    expect(stale.reads.length).toBeGreaterThan(1)
    const gone = lagging(null)
    expect(await readBack(gone, REF, isPushed, { waitMs: 0, firstPauseMs: 1 })).toBeNull()
    expect(gone.reads).toEqual([freshRead])
  })

  test('the pause doubles between reads (1, 2, 4, 8 ms within 10 ms: 4 reads)', async () => {
    jest.useFakeTimers({ now: 0 })
    const reg = lagging(null)
    const done = readBack(reg, REF, isPushed, { waitMs: 10, firstPauseMs: 1 })
    // Each pause passes only when advanced; a pause that never grows would need many more reads.
    for (let i = 0; i < 20; i++) await jest.advanceTimersByTimeAsync(1)
    await expect(done).resolves.toBeNull()
    expect(reg.reads).toEqual([freshRead, freshRead, freshRead, freshRead])
  })
})

describe('unservable: the last word before published', () => {
  test('each entry read by digest in the repository, afresh; nothing missing', async () => {
    const reg = new FakeRegistry().put('r.example/x', ...IMAGES)
    expect(await unservable(reg, 'r.example/x', ENTRIES)).toEqual([])
    // A digest read is always fresh (Reader.digest).
    expect(reg.reads).toEqual([
      { what: 'digest', ref: `r.example/x@${IMAGES[0].digest}` },
      { what: 'digest', ref: `r.example/x@${IMAGES[1].digest}` }
    ])
  })

  test('an entry the repository does not have, and one it fails to serve, are named', async () => {
    const reg = new FakeRegistry().put('r.example/x', IMAGES[1])
    reg.onRead = ref => {
      if (ref.endsWith(IMAGES[1].digest)) throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    expect(await unservable(reg, 'r.example/x', ENTRIES)).toEqual([
      'x86_64',
      'aarch64 (received unexpected HTTP status: 500 Internal Server Error)'
    ])
  })
})
