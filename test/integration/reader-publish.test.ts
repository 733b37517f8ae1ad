/**
 * Whole runs of the action (in process) whose reads go through the in-process reader: to an
 * htpasswd (Basic) registry and a token-auth (Bearer) one, each behind the fault proxy, with the
 * images in the Basic one. Publish (through every quirk of the proxy at once), rerun unchanged, a
 * wrong password, and connections cut at random.
 */
import { startProxy } from '../harness/proxy'
import { startRegistry, type TokenServer } from '../harness/registry'
import {
  expectExit,
  expectServedList,
  inputs,
  outputsOf,
  platformsOf,
  pushArches,
  run,
  servedDigests,
  TIMEOUT,
  visibleLog,
  type Proxy,
  type Registry
} from './fixtures'

const ci = { user: 'ci', password: 'Pub-5a0c-reader' }
const ARCHES = ['x86_64', 'aarch64']
const FAST = { env: { MULTIARCH_PUBLISH_TIMINGS: JSON.stringify({ baseDelayMs: 10, maxDelayMs: 50, readBackMs: 3000 }) } }

let basic: Registry
let bearer: Registry
let pb: Proxy
let pt: Proxy
const tok = (): TokenServer => bearer.token as TokenServer

beforeAll(async () => {
  ;[basic, bearer] = await Promise.all([startRegistry({ htpasswd: ci }), startRegistry({ token: { users: [ci] } })])
  ;[pb, pt] = await Promise.all([startProxy({ target: basic.host }), startProxy({ target: bearer.host })])
}, 60_000)
afterAll(async () => {
  await Promise.all([pb?.stop(), pt?.stop()])
  await Promise.all([basic?.stop(), bearer?.stop()])
})
beforeEach(() => {
  for (const p of [pb, pt]) {
    p.clearFaults()
    p.reset()
  }
})

/** Publish `repo:tag` of ARCHES from the Basic registry to both, through the proxies, as user ci. */
const publish = (repo: string, tag: string, extra: Record<string, string> = {}): ReturnType<typeof run> =>
  run(inputs([pb.host, pt.host], repo, tag, ARCHES, { username: ci.user, password: ci.password, ...extra }), FAST)

/** What the two registries serve at `repo:tag` (straight, not through the proxies). */
const served = (repo: string, tag: string): Promise<Record<string, string | null>> =>
  Promise.all([servedDigests([basic.host], repo, [tag], ci), servedDigests([bearer.host], repo, [tag], ci)]).then(([a, b]) => ({
    basic: Object.values(a)[0],
    bearer: Object.values(b)[0]
  }))

describe('a Basic and a Bearer registry', () => {
  const repo = 'pub/app'
  let images: Awaited<ReturnType<typeof pushArches>>
  let digest: string
  beforeAll(async () => {
    images = await pushArches(basic.host, repo, '1', ARCHES, { auth: ci })
  }, 60_000)

  test(
    'publishes to both registries answering as Forgejo (Bearer and Basic on one line), without Docker-Content-Digest on HEAD and with blobs redirected to 127.0.0.2: every read in process, read tokens scoped repository:<repo>:pull',
    async () => {
      for (const p of [pb, pt]) {
        p.challenges('one-line')
        p.dropDigestOnHead()
        await p.redirectBlobs()
      }
      const tokens = tok().log.length
      const r = await publish(repo, '1')
      expectExit(r, 0)
      digest = await expectServedList([basic.host, bearer.host], repo, ['1'], platformsOf(images), { auth: ci })
      expect(outputsOf(r)).toMatchObject({ result: 'published', digest })
      expect(visibleLog(r)).not.toContain('go through skopeo')
      expect(r.stdout).not.toContain('$ skopeo inspect')
      // Each quirk was met; blobs are only read from the registry holding the images.
      expect([pb, pt].map(p => [...new Set(p.log.map(e => e.mode).filter(Boolean))].sort())).toEqual([
        ['challenges', 'drop-digest', 'redirect'],
        ['challenges', 'drop-digest']
      ])
      expect(pb.refusedForAuth()).toBe(0)
      // The reader asks for pull on the repository it reads, and nothing else.
      const requests = tok().log.slice(tokens)
      const byReader = requests.filter(e => e.userAgent === 'multiarch-publish')
      expect(byReader.length).toBeGreaterThan(0)
      expect(new Set(byReader.flatMap(e => e.scopes))).toEqual(new Set([`repository:${repo}:pull`]))
      // The writers (skopeo, buildah) ask for push on it. They may add pull on other repositories of the
      // registry: blobs their blob-info cache (/var/lib/containers/cache, kept across runs and keyed by
      // host:port) saw there, to mount instead of upload. Those change nothing, so only pull is allowed.
      const byWriters = requests.filter(e => e.userAgent !== 'multiarch-publish')
      expect(byWriters.flatMap(e => e.scopes)).toContain(`repository:${repo}:pull,push`)
      expect(byWriters.flatMap(e => e.scopes).filter(s => !s.startsWith(`repository:${repo}:`) && !s.endsWith(':pull'))).toEqual([])
    },
    TIMEOUT
  )

  test(
    'a rerun with nothing new: unchanged, nothing written anywhere, and no process started (not even a version read)',
    async () => {
      const r = await publish(repo, '1')
      expectExit(r, 0)
      expect(outputsOf(r)).toMatchObject({ result: 'unchanged', digest })
      expect(r.stdout.match(/^::debug::\$ .*/gm)).toBeNull()
      expect([pb.writes(), pt.writes()]).toEqual([0, 0])
      expect(await served(repo, '1')).toEqual({ basic: digest, bearer: digest })
    },
    TIMEOUT
  )

  test(
    'reads: skopeo reads the same and finds it unchanged too',
    async () => {
      const r = await publish(repo, '1', { reads: 'skopeo' })
      expectExit(r, 0)
      expect(r.stdout).toContain(`$ skopeo inspect`)
      expect(outputsOf(r)).toMatchObject({ result: 'unchanged', digest })
      expect([pb.writes(), pt.writes()]).toEqual([0, 0])
    },
    TIMEOUT
  )

  test(
    'a wrong password: fails at once, says unauthorized, publishes nothing, and no 401 is asked again',
    async () => {
      const tokens = tok().log.length
      const r = await publish(repo, '2', { password: 'Wrong-61f0' })
      const tokenAnswers = tok()
        .log.slice(tokens)
        .map(e => e.status)
      expectExit(r, 1)
      expect(outputsOf(r)).toMatchObject({ result: 'failed', destinations: [] })
      expect(r.stdout).toMatch(/::error::.*(unauthorized|authentication required)/i)
      expect(visibleLog(r)).not.toMatch(/transient failure|attempt \d/)
      expect(await served(repo, '2')).toEqual({ basic: null, bearer: null })
      expect([pb.writes(), pt.writes()]).toEqual([0, 0])
      // Each read refused is asked once: no method and path twice (the pings aside). The run stops at
      // the first refusal, so whichever said no first (the Basic registry or the token server), the
      // other may not have been asked at all: which one is up to the two reads' timing.
      const reads = pb.log.filter(e => e.path !== '/v2/').map(e => `${e.method} ${e.path} ${e.status}`)
      expect(reads.filter(l => !l.endsWith(' 401'))).toEqual([])
      expect(new Set(reads).size).toBe(reads.length)
      expect(reads.length + tokenAnswers.length).toBeGreaterThan(0)
      // The token server only said no; the Bearer registry saw no read at all.
      expect(tokenAnswers.filter(status => status !== 401)).toEqual([])
      expect(pt.log.filter(e => e.path !== '/v2/')).toEqual([])
    },
    TIMEOUT
  )
})

test(
  'one new connection in ten cut at random (seeded): the reader retries the cut request and the run publishes',
  async () => {
    const repo = 'pub/cuts'
    const images = await pushArches(basic.host, repo, '1', ARCHES, { auth: ci })
    // Seed 1 dooms the 2nd connection: the reader's plain-http ping (after its https probe), then
    // about one in ten.
    for (const p of [pb, pt]) p.cutRandomly(0.1, { seed: 1 })
    const r = await run(inputs([pb.host, pt.host], repo, '1', ARCHES, { username: ci.user, password: ci.password, retries: '5' }), FAST)
    for (const p of [pb, pt]) p.stopCutting()
    expectExit(r, 0)
    const digest = await expectServedList([basic.host, bearer.host], repo, ['1'], platformsOf(images), { auth: ci })
    expect(outputsOf(r)).toMatchObject({ result: 'published', digest })
    for (const p of [pb, pt]) {
      // Which later connections are cut depends on the order the copies open them: only the first two are fixed.
      expect(p.log.slice(0, 2).map(e => `${e.method} ${e.path} ${e.status}`)).toEqual(['GET /v2/ cut', 'GET /v2/ 401'])
    }
  },
  TIMEOUT
)
