/**
 * src/commit.ts against the in-memory registry and buildah of builders.ts, so the paths a real
 * registry rarely takes (cancellation between steps, a rollback that fails or finds the tag moved by
 * someone else, buildah naming another digest than the registry serves) are each taken on purpose.
 * The same flows against real registries: test/integration/transaction.test.ts.
 */
import * as log from '../../src/log'
import { Cancelled, commit, CommitOptions, MovedByOther } from '../../src/commit'
import { MEDIA, sha256 } from '../../src/manifest'
import type { PlannedAttestation } from '../../src/model'
import type { Wait } from '../../src/verify'
import { observeCurrent } from '../../src/observe'
import { repositoryOf } from '../../src/reference'
import { newReport, type Report } from '../../src/summary'
import { amd64, arm64, descriptorOf, entry, fakeDigest, FakeBuildah, FakeRegistry, image, list, planOf, unknownPlatform } from './builders'

jest.mock('../../src/log', () => ({ info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

const NEW_IMAGES = [image(amd64, { build: 'new' }), image(arm64, { build: 'new' })]
const OLD_IMAGES = [image(amd64, { build: 'old' }), image(arm64, { build: 'old' })]
const NEW = [entry('x86_64', amd64, NEW_IMAGES[0].digest), entry('aarch64', arm64, NEW_IMAGES[1].digest)]
const NEW_DESCRIPTORS = [descriptorOf(NEW_IMAGES[0].manifest, amd64), descriptorOf(NEW_IMAGES[1].manifest, arm64)]
/** What the local list pushes. */
const NEW_LIST = list(NEW_DESCRIPTORS)
const OLD_LIST = list([descriptorOf(OLD_IMAGES[0].manifest, amd64), descriptorOf(OLD_IMAGES[1].manifest, arm64)])
/** Another writer's list: the same images, other bytes. */
const THEIRS = list(NEW_DESCRIPTORS, { annotations: { 'org.example.by': 'someone else' } })
/** Another run's list: other images than this run plans (only the new x86_64 one). */
const OTHER_RUNS = list([NEW_DESCRIPTORS[0]])
const LIST_NAME = 'localhost/multiarch-publish-temp-r-1-test'

const A1 = 'a.example/r:1'
const A2 = 'a.example/r:latest'
const B1 = 'b.example/r:1'
const B2 = 'b.example/r:latest'

interface World {
  reg: FakeRegistry
  buildah: FakeBuildah
}

/** Destinations serving `refs` (null: nothing yet), every image of both lists staged in every repository, the local list built. */
async function world(refs: Record<string, Buffer | null>): Promise<World> {
  const reg = new FakeRegistry()
  for (const repository of new Set(['src.example/r', ...Object.keys(refs).map(repositoryOf)]))
    reg.put(repository, ...NEW_IMAGES, ...OLD_IMAGES)
  for (const [ref, raw] of Object.entries(refs)) if (raw) reg.tag(ref, raw)
  const buildah = new FakeBuildah(reg)
  await buildah.create(LIST_NAME, {})
  for (const e of NEW) await buildah.add(LIST_NAME, e.ref, e.platform)
  return { reg, buildah }
}

/** Observes the fake registry as the run would, then commits `push` (every ref, unless told); `between` runs in between. */
async function commitTo(
  { reg, buildah }: World,
  o: {
    refs: string[]
    push?: string[]
    upToDate?: string[]
    atomic?: boolean
    withImages?: boolean
    signal?: AbortSignal
    between?: () => void
    attestations?: PlannedAttestation[]
    wait?: Wait
  }
): Promise<{ report: Report; result: Promise<void>; options: CommitOptions }> {
  const current = (await observeCurrent(reg, o.refs)).value
  reg.reads.splice(0)
  // What happens between the observe phase and the commit.
  o.between?.()
  const report = newReport()
  report.destinations = o.refs.map(ref => ({ ref, status: 'not pushed' }))
  for (const ref of o.upToDate ?? []) Object.assign(report.destinations.find(d => d.ref === ref) ?? {}, { status: 'up to date' })
  const options: CommitOptions = {
    skopeo: reg,
    reader: reg,
    buildah,
    listName: LIST_NAME,
    plan: planOf(NEW, { push: o.push ?? o.refs, upToDate: o.upToDate ?? [], attestations: o.attestations ?? [] }),
    current,
    format: 'oci',
    annotations: {},
    withImages: o.withImages ?? false,
    atomic: o.atomic ?? true,
    wait: o.wait ?? { waitMs: 40, firstPauseMs: 2 },
    report,
    signal: o.signal ?? new AbortController().signal
  }
  return { report, options, result: commit(options) }
}

const statusOf = (report: Report): Record<string, string> => Object.fromEntries(report.destinations.map(d => [d.ref, d.status]))
const detailOf = (report: Report, ref: string): string => report.destinations.find(d => d.ref === ref)?.detail ?? ''
const fail500 = (): never => {
  throw new Error('received unexpected HTTP status: 500 Internal Server Error')
}

describe('commit: the happy path', () => {
  test('existing lists first, first publishes last; every tag read back; one digest everywhere', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: null })
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await result
    expect(w.buildah.pushes.map(p => p.ref)).toEqual([A1, B1])
    expect(statusOf(report)).toEqual({ [A1]: 'published', [B1]: 'published' })
    expect(report.digest).toBe(sha256(NEW_LIST))
    expect(report.rolledBack).toEqual([])
    expect([w.reg.served(A1), w.reg.served(B1)]).toEqual([sha256(NEW_LIST), sha256(NEW_LIST)])
  })

  test('push --all (withImages): tags of one repository move one after another, repositories side by side', async () => {
    const w = await world({ [A1]: OLD_LIST, [A2]: OLD_LIST, [B1]: OLD_LIST })
    const { result } = await commitTo(w, { refs: [A1, A2, B1], withImages: true })
    await result
    const push = (ref: string) => w.buildah.pushes.find(p => p.ref === ref) as { start: number; end: number; withImages: boolean }
    expect(w.buildah.pushes.every(p => p.withImages)).toBe(true)
    // A2 waits for A1 (concurrent uploads into one repository race); B1 goes alongside A1.
    expect(push(A2).start).toBeGreaterThan(push(A1).end)
    expect(push(B1).start).toBeLessThan(push(A1).end)
  })
})

describe('commit: cancelled', () => {
  test('before the first wave: no tag moves', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    const cancel = new AbortController()
    cancel.abort()
    const { report, result } = await commitTo(w, { refs: [A1, B1], signal: cancel.signal })
    await expect(result).rejects.toBeInstanceOf(Cancelled)
    expect(w.buildah.pushes).toEqual([])
    expect(report.rolledBack).toEqual([])
  })

  test('while a tag is re-checked: it is not moved', async () => {
    const w = await world({ [A1]: OLD_LIST })
    const cancel = new AbortController()
    const { report, result } = await commitTo(w, {
      refs: [A1],
      signal: cancel.signal,
      between: () => (w.reg.onRead = () => cancel.abort())
    })
    await expect(result).rejects.toThrow(/failed: a\.example\/r:1 \(The run was cancelled\)/)
    expect(w.buildah.pushes).toEqual([])
    expect(statusOf(report)).toEqual({ [A1]: 'failed' })
    expect(w.reg.served(A1)).toBe(sha256(OLD_LIST))
  })

  test('between waves: the first publishes do not move, the tags already moved are put back', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: null })
    const cancel = new AbortController()
    w.buildah.onPush = () => cancel.abort()
    const { report, result } = await commitTo(w, { refs: [A1, B1], signal: cancel.signal })
    await expect(result).rejects.toBeInstanceOf(Cancelled)
    expect(w.buildah.pushes.map(p => p.ref)).toEqual([A1])
    expect(w.reg.served(A1)).toBe(sha256(OLD_LIST))
    expect(w.reg.served(B1)).toBeNull()
    expect(report.rolledBack).toEqual([A1])
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [B1]: 'not pushed' })
  })
})

describe('commit: rollback', () => {
  test('a failed tag move puts back every tag moved; the failed one still serves its old list', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = ref => {
      if (ref === B1) throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(
      /^Published to 1 of 2 destinations; failed: b\.example\/r:1 \(received unexpected HTTP status: 500/
    )
    expect([w.reg.served(A1), w.reg.served(B1)]).toEqual([sha256(OLD_LIST), sha256(OLD_LIST)])
    expect(report.rolledBack).toEqual([A1])
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [B1]: 'failed' })
    expect(detailOf(report, A1)).toBe(`put back to ${sha256(OLD_LIST)}`)
    expect(w.reg.copies).toContainEqual({ from: `a.example/r@${sha256(OLD_LIST)}`, to: A1, indexOnly: true })
  })

  test('atomic false: no rollback, and the message says where it failed', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = ref => {
      if (ref === B1) throw new Error('denied: requested access to the resource is denied')
    }
    const { report, result } = await commitTo(w, { refs: [A1, B1], atomic: false })
    await expect(result).rejects.toThrow(/^Published to 1 of 2 destinations; failed: b\.example\/r:1 \(denied/)
    expect(w.reg.copies).toEqual([])
    expect(statusOf(report)).toEqual({ [A1]: 'published', [B1]: 'failed' })
    expect(w.reg.served(A1)).toBe(sha256(NEW_LIST))
  })

  test('a tag someone else has moved since is left alone, and reported', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: null })
    // B1 (a first publish, last) fails; by then another writer has moved A1.
    w.buildah.onPush = ref => {
      if (ref !== B1) return
      w.reg.tag(A1, THEIRS)
      throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(w.reg.served(A1)).toBe(sha256(THEIRS))
    expect(w.reg.copies).toEqual([])
    expect(report.rolledBack).toEqual([])
    expect(statusOf(report)).toEqual({ [A1]: 'failed', [B1]: 'failed' })
    expect(detailOf(report, A1)).toBe(`not put back: it now serves ${sha256(THEIRS)}, written by someone else`)
  })

  test('a tag that vanished since (someone deleted it) is not written either', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: null })
    w.buildah.onPush = ref => {
      if (ref !== B1) return
      w.reg.untag(A1)
      throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(detailOf(report, A1)).toBe('not put back: it now serves nothing, written by someone else')
    expect(w.reg.copies).toEqual([])
  })

  test('nothing confirmed as ours (buildah named another digest): the plan decides what is ours, and it is put back', async () => {
    const w = await world({ [A1]: OLD_LIST })
    w.buildah.pushedDigest = () => fakeDigest('e')
    const { report, result } = await commitTo(w, { refs: [A1] })
    await expect(result).rejects.toThrow(`buildah pushed ${fakeDigest('e')} but the registry serves ${sha256(NEW_LIST)}`)
    expect(w.reg.served(A1)).toBe(sha256(OLD_LIST))
    expect(report.rolledBack).toEqual([A1])
    expect(detailOf(report, A1)).toBe(
      `put back to ${sha256(OLD_LIST)}; buildah pushed ${fakeDigest('e')} but the registry serves ${sha256(NEW_LIST)}`
    )
  })

  test('a first publish cannot be undone: it keeps the new list, and says so', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: null, [B2]: null })
    w.buildah.onPush = ref => {
      if (ref === B2) throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    const { report, result } = await commitTo(w, { refs: [A1, B1, B2] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:latest/)
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [B1]: 'published', [B2]: 'failed' })
    expect(detailOf(report, B1)).toBe('could not be undone: it had no list before, and registries offer no portable tag delete')
    expect([w.reg.served(A1), w.reg.served(B1), w.reg.served(B2)]).toEqual([sha256(OLD_LIST), sha256(NEW_LIST), null])
  })

  test('the copy back fails: reported, with what it should have served', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = ref => {
      if (ref === B1) throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    w.reg.onCopy = () => {
      throw new Error('unauthorized: authentication required')
    }
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(report.rolledBack).toEqual([])
    expect(statusOf(report)).toEqual({ [A1]: 'failed', [B1]: 'failed' })
    expect(detailOf(report, A1)).toMatch(new RegExp(`^could not be put back to ${sha256(OLD_LIST)}: unauthorized: authentication required`))
  })

  test('the copy back is not served within the wait: reported as not put back', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = ref => {
      if (ref === B1) throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    // The registry accepts the copy and goes on serving the new list.
    jest.spyOn(w.reg, 'copy').mockResolvedValue(undefined)
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(report.rolledBack).toEqual([])
    expect(detailOf(report, A1)).toBe(`could not be put back to ${sha256(OLD_LIST)}: it serves ${sha256(NEW_LIST)} after the copy`)
  })
})

describe('commit: re-check, servable entries, stale lists', () => {
  test('a tag moved by another writer after it was observed: MovedByOther, and what moved is put back even when not atomic', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    // Observed before; then B1 becomes someone else's.
    const { report, result, options } = await commitTo(w, { refs: [A1, B1], atomic: false, between: () => w.reg.tag(B1, THEIRS) })
    expect(options.current.every(c => c.exists && c.digest === sha256(OLD_LIST))).toBe(true)
    const error = await result.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MovedByOther)
    expect((error as MovedByOther).ref).toBe(B1)
    expect(w.buildah.pushes.map(p => p.ref)).toEqual([A1])
    expect([w.reg.served(A1), w.reg.served(B1)]).toEqual([sha256(OLD_LIST), sha256(THEIRS)])
    expect(report.rolledBack).toEqual([A1])
  })

  test('an entry a repository cannot serve after the move: every tag of that repository failed, all put back', async () => {
    const w = await world({ [A1]: OLD_LIST, [A2]: OLD_LIST, [B1]: OLD_LIST })
    // The aarch64 image is gone from a.example/r once a tag there has moved (deleted, or never stored).
    w.buildah.onPush = ref => {
      if (repositoryOf(ref) === 'a.example/r') w.reg.delete(`a.example/r@${NEW[1].digest}`)
    }
    const { report, result } = await commitTo(w, { refs: [A1, A2, B1] })
    await expect(result).rejects.toThrow(/a\.example\/r cannot serve entries of the list: aarch64/)
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [A2]: 'rolled back', [B1]: 'rolled back' })
    expect(detailOf(report, A1)).toMatch(/cannot serve entries of the list: aarch64/)
    expect(detailOf(report, B1)).toBe(`put back to ${sha256(OLD_LIST)}`)
    // Read once per repository, not once per tag.
    expect(w.reg.reads.filter(r => r.ref === `a.example/r@${NEW[1].digest}`)).toHaveLength(1)
  })

  test('an up-to-date destination whose repository cannot serve an entry: failed too, and what moved is put back', async () => {
    const w = await world({ [A1]: NEW_LIST, [B1]: OLD_LIST })
    w.reg.delete(`a.example/r@${NEW[0].digest}`)
    const { report, result } = await commitTo(w, { refs: [A1, B1], push: [B1], upToDate: [A1] })
    await expect(result).rejects.toThrow(/failed: a\.example\/r:1 \(a\.example\/r cannot serve entries of the list: x86_64\)/)
    expect(statusOf(report)).toEqual({ [A1]: 'failed', [B1]: 'rolled back' })
    expect(w.reg.served(B1)).toBe(sha256(OLD_LIST))
  })

  test('an up-to-date list under another digest is rewritten, so one digest is served everywhere', async () => {
    const w = await world({ [A1]: THEIRS, [B1]: OLD_LIST })
    const { report, result } = await commitTo(w, { refs: [A1, B1], push: [B1], upToDate: [A1] })
    await result
    expect(w.buildah.pushes.map(p => p.ref)).toEqual([B1, A1])
    expect([w.reg.served(A1), w.reg.served(B1)]).toEqual([sha256(NEW_LIST), sha256(NEW_LIST)])
    expect(statusOf(report)).toEqual({ [A1]: 'published', [B1]: 'published' })
  })

  test('buildah does not say what it pushed: the read-back waits for the planned list, and the digests must agree', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.pushedDigest = () => ''
    // B's registry rewrites what it is given (same entries, other bytes).
    w.buildah.onPush = ref => {
      if (ref === B1) w.reg.onRead = r => void (r === B1 && w.reg.tag(B1, THEIRS))
    }
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/serves sha256:[0-9a-f]{64}, other destinations sha256:[0-9a-f]{64}/)
    expect(Object.values(statusOf(report))).toContain('failed')
  })
})

/**
 * Two safety checks that no other test killed when removed (issue 19): the atomic stop between commit
 * waves, and rollBack's "is this tag ours?" when no push was confirmed.
 */
const EXISTING = A1
const FIRST_PUBLISH = B1

describe('commit waves (atomic)', () => {
  test('an existing destination fails: the first publishes, which cannot be taken back, never move', async () => {
    const w = await world({ [EXISTING]: OLD_LIST, [FIRST_PUBLISH]: null })
    w.buildah.onPush = ref => void (ref === EXISTING && fail500())
    const { report, result } = await commitTo(w, { refs: [EXISTING, FIRST_PUBLISH] })
    await expect(result).rejects.toThrow(/failed: a\.example\/r:1 \(received unexpected HTTP status: 500/)
    expect(w.buildah.pushes.map(p => p.ref)).toEqual([EXISTING])
    expect(w.reg.served(FIRST_PUBLISH)).toBeNull()
    expect(statusOf(report)).toEqual({ [EXISTING]: 'failed', [FIRST_PUBLISH]: 'not pushed' })
  })
})

describe('rollBack with no push confirmed', () => {
  test("another run's list written meanwhile is not ours: left alone, not overwritten with the old list", async () => {
    const w = await world({ [EXISTING]: OLD_LIST })
    // The push fails without saying what it wrote; meanwhile another run has moved the tag to its list.
    w.buildah.onPush = ref => {
      w.reg.tag(ref, OTHER_RUNS)
      fail500()
    }
    const { report, result } = await commitTo(w, { refs: [EXISTING] })
    await expect(result).rejects.toThrow(/failed: a\.example\/r:1/)
    expect(w.reg.copies).toEqual([])
    expect(w.reg.served(EXISTING)).toBe(sha256(OTHER_RUNS))
    expect(report.rolledBack).toEqual([])
    expect(detailOf(report, EXISTING)).toBe(`not put back: it now serves ${sha256(OTHER_RUNS)}, written by someone else`)
  })
})

/**
 * The Stryker survivors of src/commit.ts (issue 19): each test below fails with its mutant applied.
 */
describe('commit: the errors it throws', () => {
  test('MovedByOther names the tag, what it served and what it serves now', () => {
    const e = new MovedByOther(A1, null, fakeDigest('a'))
    expect(e.name).toBe('MovedByOther')
    expect(e.message).toBe(
      `${A1} changed while this run was publishing (it served nothing, now ${fakeDigest('a')}): another run or person is writing to it`
    )
    expect(new MovedByOther(A1, fakeDigest('a'), null).message).toContain(`(it served ${fakeDigest('a')}, now nothing)`)
  })

  test('Cancelled', () => {
    expect(new Cancelled()).toMatchObject({ name: 'Cancelled', message: 'The run was cancelled' })
  })
})

describe('commit: what the waves move', () => {
  test('nothing to push, only up-to-date destinations: no tag moves, the report keeps its digest', async () => {
    const w = await world({ [A1]: NEW_LIST })
    const { report, result } = await commitTo(w, { refs: [A1], push: [], upToDate: [A1] })
    await result
    expect(w.buildah.pushes).toEqual([])
    expect(report.digest).toBe('')
    expect(statusOf(report)).toEqual({ [A1]: 'up to date' })
  })

  test('an up-to-date list under the digest just pushed is not written again', async () => {
    const w = await world({ [A1]: NEW_LIST, [B1]: OLD_LIST })
    const { report, result } = await commitTo(w, { refs: [A1, B1], push: [B1], upToDate: [A1] })
    await result
    expect(w.buildah.pushes.map(p => p.ref)).toEqual([B1])
    expect(statusOf(report)).toEqual({ [A1]: 'up to date', [B1]: 'published' })
  })

  test('a destination whose re-check failed (not atomic) is not tried again with the up-to-date lists', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    let failed = false
    const { report, result } = await commitTo(w, {
      refs: [A1, B1],
      atomic: false,
      between: () =>
        (w.reg.onRead = ref => {
          if (ref === A1 && !failed) {
            failed = true
            fail500()
          }
        })
    })
    await expect(result).rejects.toThrow(
      /^Published to 1 of 2 destinations; failed: a\.example\/r:1 \(received unexpected HTTP status: 500/
    )
    expect(w.buildah.pushes.map(p => p.ref)).toEqual([B1])
    expect(statusOf(report)).toEqual({ [A1]: 'failed', [B1]: 'published' })
  })

  test('without push --all, tags of one repository move side by side', async () => {
    const w = await world({ [A1]: OLD_LIST, [A2]: OLD_LIST })
    const { result } = await commitTo(w, { refs: [A1, A2] })
    await result
    const push = (ref: string) => w.buildah.pushes.find(p => p.ref === ref) as { start: number; end: number }
    expect(push(A2).start).toBeLessThan(push(A1).end)
  })

  test('atomic false: a failed existing destination does not hold back the first publishes', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: null })
    w.buildah.onPush = ref => void (ref === A1 && fail500())
    const { report, result } = await commitTo(w, { refs: [A1, B1], atomic: false })
    await expect(result).rejects.toThrow(
      /^Published to 1 of 2 destinations; failed: a\.example\/r:1 \(received unexpected HTTP status: 500/
    )
    expect(w.buildah.pushes.map(p => p.ref)).toEqual([A1, B1])
    expect(statusOf(report)).toEqual({ [A1]: 'failed', [B1]: 'published' })
    expect(w.reg.served(B1)).toBe(sha256(NEW_LIST))
  })

  test('cancelled during the last push: every tag has moved, so the commit completes', async () => {
    const w = await world({ [A1]: OLD_LIST })
    const cancel = new AbortController()
    w.buildah.onPush = () => cancel.abort()
    const { report, result } = await commitTo(w, { refs: [A1], signal: cancel.signal })
    await result
    expect(statusOf(report)).toEqual({ [A1]: 'published' })
    expect(report.rolledBack).toEqual([])
    expect(w.reg.served(A1)).toBe(sha256(NEW_LIST))
  })

  test('the read-back serves other platforms than planned (buildah did not say what it pushed): failed, and said how', async () => {
    const w = await world({ [A1]: OLD_LIST })
    w.buildah.pushedDigest = () => ''
    // The registry serves another run's list once this push has written.
    w.buildah.onPush = ref => void (w.reg.onRead = r => void (r === ref && w.reg.tag(ref, OTHER_RUNS)))
    const { report, result } = await commitTo(w, { refs: [A1] })
    await expect(result).rejects.toThrow(
      'failed: a.example/r:1 (after the push it lists platforms [linux/amd64], planned [linux/amd64, linux/arm64])'
    )
    expect(statusOf(report)).toEqual({ [A1]: 'failed' })
  })

  test('an attestation a repository cannot serve after the move: failed, named as the attestation of its arch', async () => {
    const provenance = image(unknownPlatform, { build: 'provenance' })
    const annotations = { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': NEW[1].digest }
    const w = await world({ [A1]: OLD_LIST })
    // Staged in the source repository only: a.example/r never got it.
    w.reg.put('src.example/r', provenance)
    await w.buildah.add(LIST_NAME, `src.example/r@${provenance.digest}`, unknownPlatform, annotations)
    const attestations = [
      {
        digest: provenance.digest,
        mediaType: MEDIA.ociManifest,
        subject: NEW[1].digest,
        annotations,
        ref: `src.example/r@${provenance.digest}`,
        arch: 'aarch64'
      }
    ]
    const { report, result } = await commitTo(w, { refs: [A1], attestations })
    await expect(result).rejects.toThrow('a.example/r cannot serve entries of the list: aarch64 attestation')
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back' })
  })
})

describe('rollBack: the details it leaves', () => {
  test('the failed destination, which still serves its old list, keeps the failure as its detail', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = ref => void (ref === B1 && fail500())
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(detailOf(report, B1)).toMatch(/^received unexpected HTTP status: 500/)
  })

  test('a first publish whose push failed serves nothing, as before: it keeps the failure as its detail', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: null })
    w.buildah.onPush = ref => void (ref === B1 && fail500())
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [B1]: 'failed' })
    expect(detailOf(report, B1)).toMatch(/^received unexpected HTTP status: 500/)
  })

  test('a tag that served a single image before is put back as that image, not as an index only', async () => {
    const w = await world({ [A1]: OLD_IMAGES[0].manifest, [B1]: OLD_LIST })
    w.buildah.onPush = ref => void (ref === B1 && fail500())
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(w.reg.copies).toContainEqual({ from: `a.example/r@${OLD_IMAGES[0].digest}`, to: A1, indexOnly: false })
    expect(w.reg.served(A1)).toBe(OLD_IMAGES[0].digest)
    expect(report.rolledBack).toEqual([A1])
  })

  test('after the copy back, a lagging registry serves the new list once more: read again until it serves the old one', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = ref => void (ref === B1 && fail500())
    const copy = w.reg.copy.bind(w.reg)
    const manifest = w.reg.manifest.bind(w.reg)
    let lagging = 0
    jest.spyOn(w.reg, 'copy').mockImplementation(async (from, to, o) => {
      await copy(from, to, o)
      lagging = 1
    })
    jest.spyOn(w.reg, 'manifest').mockImplementation(async (ref, o) => (ref === A1 && lagging-- > 0 ? NEW_LIST : manifest(ref, o)))
    // A wait no loaded machine runs out of: the second read must be the one that sees the old list.
    const { report, result } = await commitTo(w, { refs: [A1, B1], wait: { waitMs: 60_000, firstPauseMs: 2 } })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(report.rolledBack).toEqual([A1])
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [B1]: 'failed' })
  })

  test('a push that failed unconfirmed but lands after its client died (a cancel, a cut connection): read again, and put back', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    let failed = false
    let landing = false
    w.buildah.onPush = ref => {
      if (ref !== B1) return
      failed = true
      fail500()
    }
    // The registry completes the PUT it received just after the rollback's first look at the tag.
    w.reg.onRead = ref => {
      if (ref !== B1 || !failed || landing) return
      landing = true
      setTimeout(() => w.reg.tag(B1, NEW_LIST), 0)
    }
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect([w.reg.served(A1), w.reg.served(B1)]).toEqual([sha256(OLD_LIST), sha256(OLD_LIST)])
    expect(report.rolledBack.sort()).toEqual([A1, B1])
  })

  test('a copy back served at once is read back once', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = ref => void (ref === B1 && fail500())
    let readsAfterCopy = 0
    w.reg.onCopy = () => void (w.reg.onRead = ref => void (ref === A1 && readsAfterCopy++))
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(report.rolledBack).toEqual([A1])
    expect(readsAfterCopy).toBe(1)
  })

  test('the copy back leaves the tag serving nothing: reported as not put back', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = ref => void (ref === B1 && fail500())
    // The registry accepts the copy and loses the tag.
    jest.spyOn(w.reg, 'copy').mockImplementation(async (_from, to) => w.reg.untag(to))
    const { report, result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(detailOf(report, A1)).toBe(`could not be put back to ${sha256(OLD_LIST)}: it serves nothing after the copy`)
  })

  test('a first publish that cannot be read for the rollback: reported with its previous state', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: null, [B2]: null })
    w.buildah.onPush = ref => {
      if (ref !== B2) return
      w.reg.onRead = r => void (r === B1 && fail500())
      fail500()
    }
    const { report, result } = await commitTo(w, { refs: [A1, B1, B2] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:latest/)
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [B1]: 'failed', [B2]: 'failed' })
    expect(detailOf(report, B1)).toMatch(/^could not be put back to its previous state: received unexpected HTTP status: 500/)
  })
})

describe('commit: what it logs', () => {
  test('each move, each failure and each tag put back', async () => {
    jest.mocked(log.info).mockClear()
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = ref => void (ref === B1 && fail500())
    const { result } = await commitTo(w, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(jest.mocked(log.info).mock.calls.map(([line]) => line)).toEqual([
      `${A1}: moved to ${sha256(NEW_LIST)}`,
      expect.stringMatching(/^b\.example\/r:1: received unexpected HTTP status: 500/),
      `${A1}: put back to ${sha256(OLD_LIST)}`
    ])
  })
})

describe('commit: the read-back after the push', () => {
  /** The registry serves `lag` (the list it served before) for the first read after each push. */
  const lagAfterPush = (w: World, lag: Buffer): jest.SpiedFunction<FakeRegistry['manifest']> => {
    const manifest = w.reg.manifest.bind(w.reg)
    const lagging = new Set<string>()
    w.buildah.onPush = ref => void lagging.add(ref)
    return jest.spyOn(w.reg, 'manifest').mockImplementation(async (ref, o) => (lagging.delete(ref) ? lag : manifest(ref, o)))
  }
  const freshReads = (w: World, ref: string): number => w.reg.reads.filter(r => r.what === 'fresh manifest' && r.ref === ref).length
  // A wait no loaded machine runs out of: the second read must be the one that sees the new list.
  const patient = { waitMs: 60_000, firstPauseMs: 2 }

  test.each([
    ['buildah says what it pushed', (): string => sha256(NEW_LIST)],
    ['buildah does not say what it pushed', (): string => '']
  ])('%s: a lagging registry is read again until it serves the new list', async (_, pushed) => {
    const w = await world({ [A1]: OLD_LIST })
    w.buildah.pushedDigest = pushed
    const reads = lagAfterPush(w, OLD_LIST)
    const { report, result } = await commitTo(w, { refs: [A1], wait: patient, between: () => reads.mockClear() })
    await result
    expect(statusOf(report)).toEqual({ [A1]: 'published' })
    expect(reads.mock.calls.filter(([ref, o]) => ref === A1 && o?.fresh)).toHaveLength(2)
  })

  test.each([
    ['buildah says what it pushed', (): string => sha256(NEW_LIST)],
    ['buildah does not say what it pushed', (): string => '']
  ])('%s: the new list served at once is read back once', async (_, pushed) => {
    const w = await world({ [A1]: OLD_LIST })
    w.buildah.pushedDigest = pushed
    const { report, result } = await commitTo(w, { refs: [A1] })
    await result
    expect(statusOf(report)).toEqual({ [A1]: 'published' })
    expect(freshReads(w, A1)).toBe(1)
  })
})

describe('commit: messages that name several things', () => {
  test('two entries a repository cannot serve', async () => {
    const w = await world({ [A1]: OLD_LIST })
    w.buildah.onPush = () => {
      for (const e of NEW) w.reg.delete(`a.example/r@${e.digest}`)
    }
    const { result } = await commitTo(w, { refs: [A1] })
    await expect(result).rejects.toThrow('a.example/r cannot serve entries of the list: x86_64; aarch64')
  })

  test('two failed destinations', async () => {
    const w = await world({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    w.buildah.onPush = () => fail500()
    const { result } = await commitTo(w, { refs: [A1, B1], atomic: false })
    await expect(result).rejects.toThrow(
      /^Published to 0 of 2 destinations; failed: a\.example\/r:1 \(received unexpected HTTP status: 500[^;]*\); b\.example\/r:1 \(received/
    )
  })
})
