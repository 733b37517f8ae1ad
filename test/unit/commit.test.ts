/**
 * src/commit.ts against the in-memory registry and buildah of builders.ts, so the paths a real
 * registry rarely takes (cancellation between steps, a rollback that fails or finds the tag moved by
 * someone else, buildah naming another digest than the registry serves) are each taken on purpose.
 * The same flows against real registries: test/integration/transaction.test.ts.
 */
import { Cancelled, commit, CommitOptions, MovedByOther } from '../../src/commit'
import { sha256 } from '../../src/manifest'
import { observeCurrent } from '../../src/observe'
import { repositoryOf } from '../../src/reference'
import { newReport, Report } from '../../src/report'
import { amd64, arm64, descriptorOf, entry, fakeDigest, FakeBuildah, FakeRegistry, image, list, planOf } from './builders'

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
    plan: planOf(NEW, { push: o.push ?? o.refs, upToDate: o.upToDate ?? [] }),
    current,
    format: 'oci',
    annotations: {},
    withImages: o.withImages ?? false,
    atomic: o.atomic ?? true,
    wait: { waitMs: 40, firstPauseMs: 2 },
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
