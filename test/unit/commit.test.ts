/**
 * src/commit.ts against an in-memory registry: fake skopeo and buildah objects of the same shape,
 * so the paths a real registry rarely takes (cancellation between steps, a rollback that fails or
 * finds the tag moved by someone else, buildah naming another digest than the registry serves) are
 * each taken on purpose. The same flows against real registries: test/integration/transaction.test.ts.
 */
import type { Platform } from '../../src/arch'
import type { Buildah } from '../../src/buildah'
import { Cancelled, commit, CommitOptions, MovedByOther } from '../../src/commit'
import type { Format } from '../../src/model'
import { MEDIA, sha256 } from '../../src/manifest'
import { observeCurrent } from '../../src/observe'
import { repositoryOf } from '../../src/reference'
import type { Entry, Plan } from '../../src/model'
import { newReport, Report } from '../../src/report'
import type { Skopeo } from '../../src/skopeo'

jest.mock('../../src/log', () => ({ info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

const digest = (c: string): string => `sha256:${c.repeat(64)}`
const amd64: Platform = { os: 'linux', architecture: 'amd64' }
const arm64: Platform = { os: 'linux', architecture: 'arm64' }
const entry = (arch: string, platform: Platform, d: string): Entry => ({
  arch,
  platform,
  digest: d,
  mediaType: MEDIA.ociManifest,
  ref: `src.example/r@${d}`,
  kept: false
})
const NEW = [entry('x86_64', amd64, digest('a')), entry('aarch64', arm64, digest('b'))]
const OLD = [entry('x86_64', amd64, digest('c')), entry('aarch64', arm64, digest('d'))]

function listRaw(entries: Entry[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: entries.map(e => ({ mediaType: e.mediaType, digest: e.digest, size: 100, platform: e.platform })),
      ...extra
    })
  )
}
const imageRaw = (d: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d, size: 2 },
      layers: []
    })
  )
const NEW_LIST = listRaw(NEW)
const OLD_LIST = listRaw(OLD)
/** Another writer's list: the same images, other bytes. */
const THEIRS = listRaw(NEW, { annotations: { 'org.example.by': 'someone else' } })

const A1 = 'a.example/r:1'
const A2 = 'a.example/r:latest'
const B1 = 'b.example/r:1'
const B2 = 'b.example/r:latest'

type Hook = (ref: string) => void | Promise<void>

/**
 * A registry in memory: tags and manifests by digest. skopeo reads and copies, buildah pushes the
 * planned list; hooks run before each (throw to fail it).
 */
class FakeRegistry {
  readonly tags = new Map<string, Buffer>()
  readonly byDigest = new Map<string, Buffer>()
  readonly pushes: Array<{ ref: string; withImages: boolean; start: number; end?: number }> = []
  readonly copies: string[] = []
  onRead: Hook = () => undefined
  onPush: Hook = () => undefined
  onCopy: Hook = () => undefined
  /** What buildah says it pushed: the digest of what it wrote, unless told otherwise ('' = did not say). */
  pushedDigest: (ref: string, written: string) => string = (_ref, written) => written
  private clock = 0

  constructor(refs: Record<string, Buffer | null>) {
    for (const [ref, raw] of Object.entries(refs)) if (raw) this.tag(ref, raw)
    // Staged: every image of both lists is in every repository, by digest.
    for (const repository of new Set(Object.keys(refs).map(repositoryOf))) {
      for (const e of [...NEW, ...OLD]) this.byDigest.set(`${repository}@${e.digest}`, imageRaw(e.digest))
    }
  }

  tag(ref: string, raw: Buffer): void {
    this.tags.set(ref, raw)
    this.byDigest.set(`${repositoryOf(ref)}@${sha256(raw)}`, raw)
  }

  served(ref: string): string | null {
    const raw = this.tags.get(ref)
    return raw ? sha256(raw) : null
  }

  readonly skopeo = {
    manifest: jest.fn(async (ref: string): Promise<Buffer | null> => {
      await this.onRead(ref)
      return (ref.includes('@') ? this.byDigest.get(ref) : this.tags.get(ref)) ?? null
    }),
    digest: async (ref: string): Promise<string | null> => {
      const raw = await this.skopeo.manifest(ref, { fresh: true })
      return raw ? sha256(raw) : null
    },
    copy: jest.fn(async (from: string, to: string): Promise<void> => {
      this.copies.push(to)
      await this.onCopy(to)
      const raw = this.byDigest.get(`${from.slice(0, from.indexOf('@'))}@${from.slice(from.indexOf('@') + 1)}`)
      if (!raw) throw new Error(`manifest unknown: ${from}`)
      this.tag(to, raw)
    })
  } as unknown as Skopeo & { manifest: jest.Mock; copy: jest.Mock }

  readonly buildah = {
    push: jest.fn(async (_list: string, ref: string, _format: Format, withImages: boolean): Promise<string> => {
      const p: { ref: string; withImages: boolean; start: number; end?: number } = { ref, withImages, start: this.clock++ }
      this.pushes.push(p)
      await new Promise(resolve => setImmediate(resolve))
      try {
        await this.onPush(ref)
        this.tag(ref, NEW_LIST)
        return this.pushedDigest(ref, sha256(NEW_LIST))
      } finally {
        p.end = this.clock++
      }
    })
  } as unknown as Buildah & { push: jest.Mock }
}

const plan = (push: string[], upToDate: string[] = []): Plan => ({
  decision: 'publish',
  reason: '',
  entries: NEW,
  missing: [],
  lost: [],
  kept: [],
  dropped: [],
  push,
  upToDate,
  rows: [],
  attestations: []
})

/** Observes the fake registry as the run would, then commits `push` (every ref, unless told); `between` runs in between. */
async function commitTo(
  reg: FakeRegistry,
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
  const current = (await observeCurrent(reg.skopeo, o.refs)).value
  reg.skopeo.manifest.mockClear()
  // What happens between the observe phase and the commit.
  o.between?.()
  const report = newReport()
  report.destinations = o.refs.map(ref => ({ ref, status: 'not pushed' }))
  for (const ref of o.upToDate ?? []) Object.assign(report.destinations.find(d => d.ref === ref) ?? {}, { status: 'up to date' })
  const options: CommitOptions = {
    skopeo: reg.skopeo,
    reader: reg.skopeo,
    buildah: reg.buildah,
    listName: 'localhost/multiarch-publish-temp-r-1-test',
    plan: plan(o.push ?? o.refs, o.upToDate),
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

describe('commit: the happy path', () => {
  test('existing lists first, first publishes last; every tag read back; one digest everywhere', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: null })
    const { report, result } = await commitTo(reg, { refs: [A1, B1] })
    await result
    expect(reg.pushes.map(p => p.ref)).toEqual([A1, B1])
    expect(statusOf(report)).toEqual({ [A1]: 'published', [B1]: 'published' })
    expect(report.digest).toBe(sha256(NEW_LIST))
    expect(report.rolledBack).toEqual([])
    expect([reg.served(A1), reg.served(B1)]).toEqual([sha256(NEW_LIST), sha256(NEW_LIST)])
  })

  test('push --all (withImages): tags of one repository move one after another, repositories side by side', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [A2]: OLD_LIST, [B1]: OLD_LIST })
    const { result } = await commitTo(reg, { refs: [A1, A2, B1], withImages: true })
    await result
    const push = (ref: string) => reg.pushes.find(p => p.ref === ref) as { start: number; end: number; withImages: boolean }
    expect(reg.pushes.every(p => p.withImages)).toBe(true)
    // A2 waits for A1 (concurrent uploads into one repository race); B1 goes alongside A1.
    expect(push(A2).start).toBeGreaterThan(push(A1).end)
    expect(push(B1).start).toBeLessThan(push(A1).end)
  })
})

describe('commit: cancelled', () => {
  test('before the first wave: no tag moves', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    const cancel = new AbortController()
    cancel.abort()
    const { report, result } = await commitTo(reg, { refs: [A1, B1], signal: cancel.signal })
    await expect(result).rejects.toBeInstanceOf(Cancelled)
    expect(reg.buildah.push).not.toHaveBeenCalled()
    expect(report.rolledBack).toEqual([])
  })

  test('while a tag is re-checked: it is not moved', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST })
    const cancel = new AbortController()
    const { report, result } = await commitTo(reg, {
      refs: [A1],
      signal: cancel.signal,
      between: () => (reg.onRead = () => cancel.abort())
    })
    await expect(result).rejects.toThrow(/failed: a\.example\/r:1 \(The run was cancelled\)/)
    expect(reg.buildah.push).not.toHaveBeenCalled()
    expect(statusOf(report)).toEqual({ [A1]: 'failed' })
    expect(reg.served(A1)).toBe(sha256(OLD_LIST))
  })

  test('between waves: the first publishes do not move, the tags already moved are put back', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: null })
    const cancel = new AbortController()
    reg.onPush = () => cancel.abort()
    const { report, result } = await commitTo(reg, { refs: [A1, B1], signal: cancel.signal })
    await expect(result).rejects.toBeInstanceOf(Cancelled)
    expect(reg.pushes.map(p => p.ref)).toEqual([A1])
    expect(reg.served(A1)).toBe(sha256(OLD_LIST))
    expect(reg.served(B1)).toBeNull()
    expect(report.rolledBack).toEqual([A1])
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [B1]: 'not pushed' })
  })
})

describe('commit: rollback', () => {
  test('a failed tag move puts back every tag moved; the failed one still serves its old list', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    reg.onPush = ref => {
      if (ref === B1) throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    const { report, result } = await commitTo(reg, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(
      /^Published to 1 of 2 destinations; failed: b\.example\/r:1 \(received unexpected HTTP status: 500/
    )
    expect([reg.served(A1), reg.served(B1)]).toEqual([sha256(OLD_LIST), sha256(OLD_LIST)])
    expect(report.rolledBack).toEqual([A1])
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [B1]: 'failed' })
    expect(detailOf(report, A1)).toBe(`put back to ${sha256(OLD_LIST)}`)
    expect(reg.skopeo.copy).toHaveBeenCalledWith(`a.example/r@${sha256(OLD_LIST)}`, A1, { indexOnly: true })
  })

  test('atomic false: no rollback, and the message says where it failed', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    reg.onPush = ref => {
      if (ref === B1) throw new Error('denied: requested access to the resource is denied')
    }
    const { report, result } = await commitTo(reg, { refs: [A1, B1], atomic: false })
    await expect(result).rejects.toThrow(/^Published to 1 of 2 destinations; failed: b\.example\/r:1 \(denied/)
    expect(reg.skopeo.copy).not.toHaveBeenCalled()
    expect(statusOf(report)).toEqual({ [A1]: 'published', [B1]: 'failed' })
    expect(reg.served(A1)).toBe(sha256(NEW_LIST))
  })

  test('a tag someone else has moved since is left alone, and reported', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: null })
    // B1 (a first publish, last) fails; by then another writer has moved A1.
    reg.onPush = ref => {
      if (ref !== B1) return
      reg.tag(A1, THEIRS)
      throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    const { report, result } = await commitTo(reg, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(reg.served(A1)).toBe(sha256(THEIRS))
    expect(reg.skopeo.copy).not.toHaveBeenCalled()
    expect(report.rolledBack).toEqual([])
    expect(statusOf(report)).toEqual({ [A1]: 'failed', [B1]: 'failed' })
    expect(detailOf(report, A1)).toBe(`not put back: it now serves ${sha256(THEIRS)}, written by someone else`)
  })

  test('a tag that vanished since (someone deleted it) is not written either', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: null })
    reg.onPush = ref => {
      if (ref !== B1) return
      reg.tags.delete(A1)
      throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    const { report, result } = await commitTo(reg, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(detailOf(report, A1)).toBe('not put back: it now serves nothing, written by someone else')
    expect(reg.skopeo.copy).not.toHaveBeenCalled()
  })

  test('nothing confirmed as ours (buildah named another digest): the plan decides what is ours, and it is put back', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST })
    reg.pushedDigest = () => digest('e')
    const { report, result } = await commitTo(reg, { refs: [A1] })
    await expect(result).rejects.toThrow(`buildah pushed ${digest('e')} but the registry serves ${sha256(NEW_LIST)}`)
    expect(reg.served(A1)).toBe(sha256(OLD_LIST))
    expect(report.rolledBack).toEqual([A1])
    expect(detailOf(report, A1)).toBe(
      `put back to ${sha256(OLD_LIST)}; buildah pushed ${digest('e')} but the registry serves ${sha256(NEW_LIST)}`
    )
  })

  test('a first publish cannot be undone: it keeps the new list, and says so', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: null, [B2]: null })
    reg.onPush = ref => {
      if (ref === B2) throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    const { report, result } = await commitTo(reg, { refs: [A1, B1, B2] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:latest/)
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [B1]: 'published', [B2]: 'failed' })
    expect(detailOf(report, B1)).toBe('could not be undone: it had no list before, and registries offer no portable tag delete')
    expect([reg.served(A1), reg.served(B1), reg.served(B2)]).toEqual([sha256(OLD_LIST), sha256(NEW_LIST), null])
  })

  test('the copy back fails: reported, with what it should have served', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    reg.onPush = ref => {
      if (ref === B1) throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    reg.onCopy = () => {
      throw new Error('unauthorized: authentication required')
    }
    const { report, result } = await commitTo(reg, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(report.rolledBack).toEqual([])
    expect(statusOf(report)).toEqual({ [A1]: 'failed', [B1]: 'failed' })
    expect(detailOf(report, A1)).toMatch(new RegExp(`^could not be put back to ${sha256(OLD_LIST)}: unauthorized: authentication required`))
  })

  test('the copy back is not served within the wait: reported as not put back', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    reg.onPush = ref => {
      if (ref === B1) throw new Error('received unexpected HTTP status: 500 Internal Server Error')
    }
    // The registry accepts the copy and goes on serving the new list.
    reg.skopeo.copy.mockImplementation(async () => undefined)
    const { report, result } = await commitTo(reg, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/failed: b\.example\/r:1/)
    expect(report.rolledBack).toEqual([])
    expect(detailOf(report, A1)).toBe(`could not be put back to ${sha256(OLD_LIST)}: it serves ${sha256(NEW_LIST)} after the copy`)
  })
})

describe('commit: re-check, servable entries, stale lists', () => {
  test('a tag moved by another writer after it was observed: MovedByOther, and what moved is put back even when not atomic', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    // Observed before; then B1 becomes someone else's.
    const { report, result, options } = await commitTo(reg, { refs: [A1, B1], atomic: false, between: () => reg.tag(B1, THEIRS) })
    expect(options.current.every(c => c.exists && c.digest === sha256(OLD_LIST))).toBe(true)
    const error = await result.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MovedByOther)
    expect((error as MovedByOther).ref).toBe(B1)
    expect(reg.pushes.map(p => p.ref)).toEqual([A1])
    expect([reg.served(A1), reg.served(B1)]).toEqual([sha256(OLD_LIST), sha256(THEIRS)])
    expect(report.rolledBack).toEqual([A1])
  })

  test('an entry a repository cannot serve after the move: every tag of that repository failed, all put back', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [A2]: OLD_LIST, [B1]: OLD_LIST })
    // The aarch64 image is gone from a.example/r once a tag there has moved (deleted, or never stored).
    reg.onPush = ref => {
      if (repositoryOf(ref) === 'a.example/r') reg.byDigest.delete(`a.example/r@${NEW[1].digest}`)
    }
    const { report, result } = await commitTo(reg, { refs: [A1, A2, B1] })
    await expect(result).rejects.toThrow(/a\.example\/r cannot serve entries of the list: aarch64/)
    expect(statusOf(report)).toEqual({ [A1]: 'rolled back', [A2]: 'rolled back', [B1]: 'rolled back' })
    expect(detailOf(report, A1)).toMatch(/cannot serve entries of the list: aarch64/)
    expect(detailOf(report, B1)).toBe(`put back to ${sha256(OLD_LIST)}`)
    // Read once per repository, not once per tag.
    expect(reg.skopeo.manifest.mock.calls.filter(([ref]) => ref === `a.example/r@${NEW[1].digest}`)).toHaveLength(1)
  })

  test('an up-to-date destination whose repository cannot serve an entry: failed too, and what moved is put back', async () => {
    const reg = new FakeRegistry({ [A1]: NEW_LIST, [B1]: OLD_LIST })
    reg.byDigest.delete(`a.example/r@${NEW[0].digest}`)
    const { report, result } = await commitTo(reg, { refs: [A1, B1], push: [B1], upToDate: [A1] })
    await expect(result).rejects.toThrow(/failed: a\.example\/r:1 \(a\.example\/r cannot serve entries of the list: x86_64\)/)
    expect(statusOf(report)).toEqual({ [A1]: 'failed', [B1]: 'rolled back' })
    expect(reg.served(B1)).toBe(sha256(OLD_LIST))
  })

  test('an up-to-date list under another digest is rewritten, so one digest is served everywhere', async () => {
    const reg = new FakeRegistry({ [A1]: THEIRS, [B1]: OLD_LIST })
    const { report, result } = await commitTo(reg, { refs: [A1, B1], push: [B1], upToDate: [A1] })
    await result
    expect(reg.pushes.map(p => p.ref)).toEqual([B1, A1])
    expect([reg.served(A1), reg.served(B1)]).toEqual([sha256(NEW_LIST), sha256(NEW_LIST)])
    expect(statusOf(report)).toEqual({ [A1]: 'published', [B1]: 'published' })
  })

  test('buildah does not say what it pushed: the read-back waits for the planned list, and the digests must agree', async () => {
    const reg = new FakeRegistry({ [A1]: OLD_LIST, [B1]: OLD_LIST })
    reg.pushedDigest = () => ''
    // B's registry rewrites what it is given (same entries, other bytes).
    reg.onPush = ref => {
      if (ref === B1) reg.onRead = r => void (r === B1 && reg.tag(B1, THEIRS))
    }
    const { report, result } = await commitTo(reg, { refs: [A1, B1] })
    await expect(result).rejects.toThrow(/serves sha256:[0-9a-f]{64}, other destinations sha256:[0-9a-f]{64}/)
    expect(Object.values(statusOf(report))).toContain('failed')
  })
})
