/**
 * Two safety checks of src/commit.ts that no other test kills when removed (issue 19): the atomic
 * stop between commit waves, and rollBack's "is this tag ours?" when no push was confirmed. Against an
 * in-memory registry: tags and manifests by digest, a fake skopeo reads and copies, a fake buildah
 * pushes the planned list.
 */
import type { Platform } from '../../src/arch'
import type { Buildah } from '../../src/buildah'
import { commit } from '../../src/commit'
import { MEDIA, sha256 } from '../../src/manifest'
import { observeCurrent } from '../../src/observe'
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

const listRaw = (entries: Entry[]): Buffer =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: entries.map(e => ({ mediaType: e.mediaType, digest: e.digest, size: 100, platform: e.platform }))
    })
  )
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
/** Another run's list: other images than this run plans (only the new x86_64 one). */
const OTHER_RUNS = listRaw([NEW[0]])

const EXISTING = 'a.example/r:1'
const FIRST_PUBLISH = 'b.example/r:1'
const repositoryOf = (ref: string): string => ref.slice(0, ref.includes('@') ? ref.indexOf('@') : ref.lastIndexOf(':'))

/** A registry in memory; `onPush` runs before buildah writes the list (throw to fail the push). */
class FakeRegistry {
  readonly tags = new Map<string, Buffer>()
  readonly byDigest = new Map<string, Buffer>()
  readonly pushed: string[] = []
  readonly copied: string[] = []
  onPush: (ref: string) => void = () => undefined

  constructor(refs: Record<string, Buffer | null>) {
    for (const [ref, raw] of Object.entries(refs)) {
      if (raw) this.tag(ref, raw)
      // Staged: every image of both lists is in every repository, by digest.
      for (const e of [...NEW, ...OLD]) this.byDigest.set(`${repositoryOf(ref)}@${e.digest}`, imageRaw(e.digest))
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

  readonly skopeo: Pick<Skopeo, 'manifest' | 'copy' | 'digest'> = {
    manifest: async ref => (ref.includes('@') ? this.byDigest.get(ref) : this.tags.get(ref)) ?? null,
    digest: async ref => {
      const raw = await this.skopeo.manifest(ref)
      return raw ? sha256(raw) : null
    },
    copy: async (from, to) => {
      this.copied.push(to)
      this.tag(to, this.byDigest.get(from) as Buffer)
    }
  }

  readonly buildah: Pick<Buildah, 'push'> = {
    push: async (_list, ref) => {
      this.pushed.push(ref)
      this.onPush(ref)
      this.tag(ref, NEW_LIST)
      return sha256(NEW_LIST)
    }
  }
}

/** Observes the fake registry as the run would, then commits every ref, atomically. */
async function commitTo(reg: FakeRegistry, refs: string[]): Promise<{ report: Report; result: Promise<void> }> {
  const current = (await observeCurrent(reg.skopeo as Skopeo, refs)).value
  const report = newReport()
  report.destinations = refs.map(ref => ({ ref, status: 'not pushed' }))
  const plan: Plan = {
    decision: 'publish',
    reason: '',
    entries: NEW,
    missing: [],
    lost: [],
    kept: [],
    dropped: [],
    push: refs,
    upToDate: [],
    rows: [],
    attestations: []
  }
  const result = commit({
    skopeo: reg.skopeo as Skopeo,
    reader: reg.skopeo as Skopeo,
    buildah: reg.buildah as Buildah,
    listName: 'localhost/multiarch-publish-temp-r-1-test',
    plan,
    current,
    format: 'oci',
    annotations: {},
    withImages: false,
    atomic: true,
    wait: { waitMs: 40, firstPauseMs: 2 },
    report,
    signal: new AbortController().signal
  })
  return { report, result }
}

const statusOf = (report: Report): Record<string, string> => Object.fromEntries(report.destinations.map(d => [d.ref, d.status]))
const detailOf = (report: Report, ref: string): string => report.destinations.find(d => d.ref === ref)?.detail ?? ''
const fail500 = (): never => {
  throw new Error('received unexpected HTTP status: 500 Internal Server Error')
}

describe('commit waves (atomic)', () => {
  test('an existing destination fails: the first publishes, which cannot be taken back, never move', async () => {
    const reg = new FakeRegistry({ [EXISTING]: OLD_LIST, [FIRST_PUBLISH]: null })
    reg.onPush = ref => void (ref === EXISTING && fail500())
    const { report, result } = await commitTo(reg, [EXISTING, FIRST_PUBLISH])
    await expect(result).rejects.toThrow(/failed: a\.example\/r:1 \(received unexpected HTTP status: 500/)
    expect(reg.pushed).toEqual([EXISTING])
    expect(reg.served(FIRST_PUBLISH)).toBeNull()
    expect(statusOf(report)).toEqual({ [EXISTING]: 'failed', [FIRST_PUBLISH]: 'not pushed' })
  })
})

describe('rollBack with no push confirmed', () => {
  test("another run's list written meanwhile is not ours: left alone, not overwritten with the old list", async () => {
    const reg = new FakeRegistry({ [EXISTING]: OLD_LIST })
    // The push fails without saying what it wrote; meanwhile another run has moved the tag to its list.
    reg.onPush = ref => {
      reg.tag(ref, OTHER_RUNS)
      fail500()
    }
    const { report, result } = await commitTo(reg, [EXISTING])
    await expect(result).rejects.toThrow(/failed: a\.example\/r:1/)
    expect(reg.copied).toEqual([])
    expect(reg.served(EXISTING)).toBe(sha256(OTHER_RUNS))
    expect(report.rolledBack).toEqual([])
    expect(detailOf(report, EXISTING)).toBe(`not put back: it now serves ${sha256(OTHER_RUNS)}, written by someone else`)
  })
})
