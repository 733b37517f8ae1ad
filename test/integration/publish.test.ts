/**
 * Issue 2, end to end: the action against real registries on loopback; every assertion is on what
 * the registries serve afterwards, the outputs, the summary, the exit code, and the local storage.
 * The first publish runs the bundled dist/index.js like a runner runs it (runAction); every other
 * test runs src/ in process (fixtures.run).
 */
import { startProxy } from '../harness/proxy'
import { inspectRaw, pushImage, MT } from '../harness/images'
import { runAction } from '../harness/action'
import { execFileSync } from 'node:child_process'
import {
  Proxy,
  run,
  twoProxies,
  twoRegistries,
  TIMEOUT,
  expectExit,
  expectServedList,
  explain,
  inputs,
  outputsOf,
  platformsOf,
  pushArches,
  pushCurrentList,
  refs,
  servedDigests
} from './fixtures'

jest.setTimeout(TIMEOUT)

const regs = twoRegistries()

describe('first publish and rerun', () => {
  const proxies = twoProxies(regs)

  const repo = 'fedora/minimal'
  const tags = ['40', 'latest']
  let hosts: string[]
  let firstDigest: string
  let images: Awaited<ReturnType<typeof pushArches>>

  test('first publish to 2 registries x 2 tags (dist/index.js, as a runner runs it)', async () => {
    hosts = [proxies.p1.host, proxies.p2.host]
    images = await pushArches(regs.r1.host, repo, '40', ['x86_64', 'aarch64', 'ppc64le', 's390x'])
    const r = await runAction(inputs(hosts, repo, '40', ['x86_64', 'aarch64', 'ppc64le', 's390x'], { aliases: 'latest' }))
    expectExit(r, 0)
    const out = outputsOf(r)
    expect(out).toEqual({
      result: 'published',
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      arches: ['x86_64', 'aarch64', 'ppc64le', 's390x'],
      missing: [],
      lost: [],
      destinations: refs(hosts, repo, tags)
    })
    // Same list, OCI index, exactly the four per-arch images, at all four destinations.
    firstDigest = await expectServedList([regs.r1.host, regs.r2.host], repo, tags, platformsOf(images), { entryMediaType: MT.ociManifest })
    expect(out.digest).toBe(firstDigest)
    // Explicit platforms in the entries, nothing else.
    const served = await inspectRaw(regs.r2.host, `${repo}:40`)
    expect(served.json.manifests.map((m: { platform: unknown }) => m.platform)).toEqual(
      expect.arrayContaining([
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 'ppc64le' },
        { os: 'linux', architecture: 's390x' }
      ])
    )
    // The second registry got the per-arch images too: copied ahead by digest, once each; then every
    // destination got only the list.
    for (const arch of ['x86_64', 'aarch64', 'ppc64le', 's390x']) {
      expect((await inspectRaw(regs.r2.host, `${repo}@${images[arch].digest}`)).digest).toBe(images[arch].digest)
    }
    const commands = (tool: string): string[] => r.stdout.split('\n').filter(l => l.includes(`::debug::$ ${tool}`))
    expect(
      commands('skopeo copy')
        .map(l => l.split(' ').pop())
        .sort()
    ).toEqual(['x86_64', 'aarch64', 'ppc64le', 's390x'].map(a => `docker://${proxies.p2.host}/${repo}@${images[a].digest}`).sort())
    expect(commands('buildah manifest push').map(l => l.split(' ')[4])).toEqual([
      '--all=false',
      '--all=false',
      '--all=false',
      '--all=false'
    ])
    // Summary: decision, every arch with its digest, every destination.
    expect(r.summary).toContain('published')
    for (const arch of ['x86_64', 'aarch64', 'ppc64le', 's390x']) {
      expect(r.summary).toContain(arch)
      expect(r.summary).toContain(images[arch].digest)
    }
    for (const ref of refs(hosts, repo, tags)) expect(r.summary).toContain(ref)
    expect(r.localLists).toEqual([])
  })

  test('rerun unchanged: result=unchanged, nothing written to any registry', async () => {
    expect(firstDigest).toBeDefined()
    proxies.p1.reset()
    proxies.p2.reset()
    const r = await run(inputs(hosts, repo, '40', ['x86_64', 'aarch64', 'ppc64le', 's390x'], { aliases: 'latest' }))
    expectExit(r, 0)
    expect(outputsOf(r)).toEqual({
      result: 'unchanged',
      digest: firstDigest,
      arches: ['x86_64', 'aarch64', 'ppc64le', 's390x'],
      missing: [],
      lost: [],
      destinations: refs(hosts, repo, tags)
    })
    expect({ p1: proxies.p1.count('PUT'), p2: proxies.p2.count('PUT') }).toEqual({ p1: 0, p2: 0 })
    expect({ p1: proxies.p1.writes(), p2: proxies.p2.writes() }).toEqual({ p1: 0, p2: 0 })
    expect(proxies.p1.count('GET') + proxies.p1.count('HEAD')).toBeGreaterThan(0) // it did look
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, tags)).toEqual(
      Object.fromEntries(refs([regs.r1.host, regs.r2.host], repo, tags).map(ref => [ref, firstDigest]))
    )
    expect(r.summary).toContain('unchanged')
    expect(r.localLists).toEqual([])
    // Nothing to stage: not even the tools' versions are read (each a Go binary's start-up).
    expect(r.stdout).not.toMatch(/\$ (buildah|skopeo) /)
  })

  test('a new image for one arch republishes everywhere with one new digest', async () => {
    const amd = await pushImage({ host: regs.r1.host, repo, tag: '40-x86_64', architecture: 'amd64', salt: 'rebuild' })
    const r = await run(inputs(hosts, repo, '40', ['x86_64', 'aarch64', 'ppc64le', 's390x'], { aliases: 'latest' }))
    expectExit(r, 0)
    expect(outputsOf(r).result).toBe('published')
    const digest = await expectServedList([regs.r1.host, regs.r2.host], repo, tags, { ...platformsOf(images), 'linux/amd64': amd.digest })
    expect(digest).not.toBe(firstDigest)
    expect(outputsOf(r).digest).toBe(digest)
  })
})

describe('missing-arch-policy with a lost arch', () => {
  // Current list (from an earlier release) at both registries, tags 1 and latest: x86_64 + aarch64.
  // New build: only x86_64. aarch64 is lost.
  const tags = ['1', 'latest']
  async function setUp(repo: string) {
    const current = await pushCurrentList([regs.r1.host, regs.r2.host], repo, tags, ['x86_64', 'aarch64'])
    const fresh = await pushArches(regs.r1.host, repo, '1', ['x86_64'], { salt: 'new' })
    const before = await servedDigests([regs.r1.host, regs.r2.host], repo, tags)
    expect(Object.values(before)).toEqual(Array(4).fill(current.digest))
    return { current, fresh, before }
  }

  test('fail (default): exit 1, names the arch, nothing pushed anywhere', async () => {
    const repo = 'policy/fail'
    const { before } = await setUp(repo)
    const r = await run(inputs([regs.r1.host, regs.r2.host], repo, '1', ['x86_64', 'aarch64'], { aliases: 'latest' }))
    expectExit(r, 1)
    const out = outputsOf(r)
    expect(out.result).toBe('failed')
    expect(out.lost).toEqual(['aarch64'])
    expect(out.missing).toEqual(['aarch64'])
    expect(out.destinations).toEqual([])
    expect(r.stdout + r.stderr).toMatch(/aarch64/)
    expect(r.stdout).toMatch(/::error::.*aarch64/)
    expect(r.summary).toMatch(/aarch64/)
    expect(r.summary).toMatch(/fail/)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, tags)).toEqual(before)
    expect(r.localLists).toEqual([])
  })

  test('skip: exit 0, result=skipped, nothing pushed', async () => {
    const repo = 'policy/skip'
    const { before } = await setUp(repo)
    const r = await run(inputs([regs.r1.host, regs.r2.host], repo, '1', ['x86_64'], { aliases: 'latest', 'missing-arch-policy': 'skip' }))
    expectExit(r, 0)
    const out = outputsOf(r)
    expect(out.result).toBe('skipped')
    expect(out.lost).toEqual(['aarch64'])
    expect(out.missing).toEqual([])
    expect(out.destinations).toEqual([])
    expect(r.stdout).toMatch(/::warning::.*aarch64/)
    expect(r.summary).toMatch(/skip/i)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, tags)).toEqual(before)
    expect(r.localLists).toEqual([])
  })

  test('hybrid: publishes the new x86_64 and keeps the previous aarch64 image by digest', async () => {
    const repo = 'policy/hybrid'
    const { current, fresh } = await setUp(repo)
    const r = await run(inputs([regs.r1.host, regs.r2.host], repo, '1', ['x86_64'], { aliases: 'latest', 'missing-arch-policy': 'hybrid' }))
    expectExit(r, 0)
    const out = outputsOf(r)
    expect(out.result).toBe('published')
    expect(out.lost).toEqual(['aarch64'])
    expect(out.arches.slice().sort()).toEqual(['aarch64', 'x86_64'])
    expect(out.destinations).toEqual(refs([regs.r1.host, regs.r2.host], repo, tags))
    const digest = await expectServedList([regs.r1.host, regs.r2.host], repo, tags, {
      'linux/amd64': fresh.x86_64.digest,
      'linux/arm64': current.images.aarch64.digest
    })
    expect(out.digest).toBe(digest)
    expect(digest).not.toBe(current.digest)
    expect(r.summary).toMatch(/aarch64/)
    expect(r.summary).toMatch(/kept|keep/i)
    expect(r.localLists).toEqual([])
  })

  test('drop: publishes without aarch64', async () => {
    const repo = 'policy/drop'
    const { fresh } = await setUp(repo)
    const r = await run(inputs([regs.r1.host, regs.r2.host], repo, '1', ['x86_64'], { aliases: 'latest', 'missing-arch-policy': 'drop' }))
    expectExit(r, 0)
    const out = outputsOf(r)
    expect(out.result).toBe('published')
    expect(out.lost).toEqual(['aarch64'])
    expect(out.arches).toEqual(['x86_64'])
    expect(out.destinations).toEqual(refs([regs.r1.host, regs.r2.host], repo, tags))
    const digest = await expectServedList([regs.r1.host, regs.r2.host], repo, tags, { 'linux/amd64': fresh.x86_64.digest })
    expect(out.digest).toBe(digest)
    expect(r.summary).toMatch(/drop/i)
    expect(r.localLists).toEqual([])
  })

  test('the lost arch only at one destination still counts (fail)', async () => {
    const repo = 'policy/partial'
    // regs.r1 serves x86_64 only, regs.r2 serves x86_64 + aarch64.
    await pushCurrentList([regs.r1.host], repo, ['1'], ['x86_64'])
    const r2list = await pushCurrentList([regs.r2.host], repo, ['1'], ['x86_64', 'aarch64'])
    await pushArches(regs.r1.host, repo, '1', ['x86_64'], { salt: 'new' })
    const before = await servedDigests([regs.r1.host, regs.r2.host], repo, ['1'])
    const r = await run(inputs([regs.r1.host, regs.r2.host], repo, '1', ['x86_64']))
    expectExit(r, 1)
    expect(outputsOf(r).lost).toEqual(['aarch64'])
    expect(r.stdout + r.stderr).toContain(`${regs.r2.host}/${repo}:1`)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, ['1'])).toEqual(before)
    expect(before[`${regs.r2.host}/${repo}:1`]).toBe(r2list.digest)
    expect(r.localLists).toEqual([])
  })
})

describe('current tag is a single image', () => {
  test('a single amd64 image is replaced by the list (nothing lost)', async () => {
    const repo = 'single/amd'
    const old = await pushImage({ host: regs.r1.host, repo, tag: '7', architecture: 'amd64', salt: 'old-single' })
    const images = await pushArches(regs.r1.host, repo, '7', ['x86_64', 'aarch64'])
    const r = await run(inputs([regs.r1.host], repo, '7', ['x86_64', 'aarch64']))
    expectExit(r, 0)
    const out = outputsOf(r)
    expect(out).toMatchObject({
      result: 'published',
      lost: [],
      missing: [],
      arches: ['x86_64', 'aarch64'],
      destinations: [`${regs.r1.host}/${repo}:7`]
    })
    const digest = await expectServedList([regs.r1.host], repo, ['7'], platformsOf(images))
    expect(digest).not.toBe(old.digest)
    expect(out.digest).toBe(digest)
    expect(r.localLists).toEqual([])
  })

  test('a single arm64 image counts as a list of one: aarch64 is lost (fail)', async () => {
    const repo = 'single/arm'
    const old = await pushImage({ host: regs.r1.host, repo, tag: '7', architecture: 'arm64', salt: 'old-single' })
    await pushArches(regs.r1.host, repo, '7', ['x86_64'])
    const r = await run(inputs([regs.r1.host], repo, '7', ['x86_64']))
    expectExit(r, 1)
    expect(outputsOf(r)).toMatchObject({ result: 'failed', lost: ['aarch64'], destinations: [] })
    expect((await inspectRaw(regs.r1.host, `${repo}:7`)).digest).toBe(old.digest)
    expect(r.localLists).toEqual([])
  })

  test('hybrid keeps the single image as the arm64 entry', async () => {
    const repo = 'single/hybrid'
    const old = await pushImage({ host: regs.r1.host, repo, tag: '7', architecture: 'arm64', salt: 'old-single' })
    const images = await pushArches(regs.r1.host, repo, '7', ['x86_64'])
    const r = await run(inputs([regs.r1.host], repo, '7', ['x86_64'], { 'missing-arch-policy': 'hybrid' }))
    expectExit(r, 0)
    await expectServedList([regs.r1.host], repo, ['7'], { 'linux/amd64': images.x86_64.digest, 'linux/arm64': old.digest })
    expect(r.localLists).toEqual([])
  })
})

describe('bad inputs fail fast, name the input, touch no registry', () => {
  let p: Proxy
  beforeAll(async () => {
    p = await startProxy({ target: regs.r1.host })
    await pushArches(regs.r1.host, 'bad/inputs', '1', ['x86_64', 'aarch64'])
  })
  afterAll(async () => {
    await p?.stop()
  })

  const cases: Array<[string, Record<string, string>, string]> = [
    ['uppercase repo', { repo: 'Bad/Inputs' }, 'repo'],
    ['repo with a bad character', { repo: 'bad|inputs' }, 'repo'],
    ['tag with a bad character', { tag: '1!' }, 'tag'],
    ['tag starting with a dot', { tag: '.1' }, 'tag'],
    ['unknown arch', { arches: 'x86_64 sparc64' }, 'arches'],
    ['empty arches', { arches: '' }, 'arches'],
    ['bad policy', { 'missing-arch-policy': 'maybe' }, 'missing-arch-policy'],
    ['bad format', { format: 'v2s1' }, 'format'],
    ['retries not a number', { retries: 'lots' }, 'retries'],
    ['negative retries', { retries: '-1' }, 'retries'],
    ['arch-tag without {arch}', { 'arch-tag': '{tag}-build' }, 'arch-tag'],
    ['arch-map not a mapping', { 'arch-map': '[riscv64]' }, 'arch-map'],
    ['empty registries', { registries: '' }, 'registries'],
    ['bad alias', { aliases: 'latest bad:alias' }, 'aliases'],
    ['dry-run not a boolean', { 'dry-run': 'perhaps' }, 'dry-run'],
    ['annotation without =', { annotations: 'novalue' }, 'annotations']
  ]

  test.each(cases)('%s', async (_what, override, name) => {
    p.reset()
    const r = await run({ ...inputs([p.host], 'bad/inputs', '1', ['x86_64', 'aarch64']), ...override })
    expectExit(r, 1)
    expect(r.outputs.result).toBe('failed')
    expect(r.stdout + r.stderr).toContain(`Input "${name}"`)
    expect(r.stdout).toMatch(new RegExp(`::error::.*Input "${name}"`))
    expect(p.counts.total).toBe(0)
    expect(await inspectRaw(regs.r1.host, 'bad/inputs:1', { allowMissing: true })).toBeNull()
    expect(r.localLists).toEqual([])
  })
})

describe('dry-run', () => {
  test('plans, pushes nothing, result=dry-run', async () => {
    const p = await startProxy({ target: regs.r1.host })
    try {
      const repo = 'dry/run'
      await pushArches(regs.r1.host, repo, '3', ['x86_64', 'aarch64'])
      p.reset()
      const r = await run(
        inputs([p.host, regs.r2.host], repo, '3', ['x86_64', 'aarch64', 's390x'], { aliases: 'latest', 'dry-run': 'true' })
      )
      expectExit(r, 0)
      const out = outputsOf(r)
      expect(out).toMatchObject({ result: 'dry-run', arches: ['x86_64', 'aarch64'], missing: ['s390x'], lost: [], destinations: [] })
      expect(p.writes()).toBe(0)
      expect(await servedDigests([regs.r1.host, regs.r2.host], repo, ['3', 'latest'])).toEqual(
        Object.fromEntries(refs([regs.r1.host, regs.r2.host], repo, ['3', 'latest']).map(ref => [ref, null]))
      )
      expect(r.summary).toContain('dry-run')
      // It shows the tools a real run would use.
      expect(r.stdout).toContain('::group::Versions')
      expect(r.summary).toContain(`${regs.r2.host}/${repo}:latest`)
      expect(r.localLists).toEqual([])
    } finally {
      await p.stop()
    }
  })
})

describe('format v2s2', () => {
  test('publishes a Docker manifest list of Docker images, same digest everywhere; rerun unchanged', async () => {
    const repo = 'format/v2s2'
    const images = await pushArches(regs.r1.host, repo, '9', ['x86_64', 'aarch64', 'armhfp', 'i686'], { mediaType: 'docker' })
    const r = await run(inputs([regs.r1.host, regs.r2.host], repo, '9', ['x86_64', 'aarch64', 'armhfp', 'i686'], { format: 'v2s2' }))
    expectExit(r, 0)
    const out = outputsOf(r)
    expect(out.result).toBe('published')
    const digest = await expectServedList([regs.r1.host, regs.r2.host], repo, ['9'], platformsOf(images), {
      mediaType: MT.dockerList,
      entryMediaType: MT.dockerManifest
    })
    expect(out.digest).toBe(digest)
    const served = await inspectRaw(regs.r1.host, `${repo}:9`)
    expect(served.json.manifests.find((m: { platform: { architecture: string } }) => m.platform.architecture === 'arm').platform).toEqual({
      os: 'linux',
      architecture: 'arm',
      variant: 'v7'
    })
    const again = await run(inputs([regs.r1.host, regs.r2.host], repo, '9', ['x86_64', 'aarch64', 'armhfp', 'i686'], { format: 'v2s2' }))
    expectExit(again, 0)
    expect(outputsOf(again)).toMatchObject({ result: 'unchanged', digest })
  })

  test('OCI per-arch images are converted: a Docker list of Docker manifests with the right platforms', async () => {
    const repo = 'format/v2s2-from-oci'
    await pushArches(regs.r1.host, repo, '9', ['x86_64', 'aarch64'])
    const r = await run(inputs([regs.r1.host], repo, '9', ['x86_64', 'aarch64'], { format: 'v2s2' }))
    expectExit(r, 0)
    // Conversion is buildah's job: no copies ahead, `push --all` brings the images.
    expect(r.stdout).not.toContain('$ skopeo copy')
    expect(r.stdout).toContain('$ buildah manifest push --all --format v2s2')
    const digest = await expectServedList(
      [regs.r1.host],
      repo,
      ['9'],
      { 'linux/amd64': expect.any(String), 'linux/arm64': expect.any(String) },
      {
        mediaType: MT.dockerList,
        entryMediaType: MT.dockerManifest
      }
    )
    expect(outputsOf(r).digest).toBe(digest)
  })

  test('switching an OCI index to v2s2 republishes (media type differs)', async () => {
    const repo = 'format/switch'
    await pushArches(regs.r1.host, repo, '9', ['x86_64', 'aarch64'], { mediaType: 'docker' })
    const first = await run(inputs([regs.r1.host], repo, '9', ['x86_64', 'aarch64']))
    expectExit(first, 0)
    expect((await inspectRaw(regs.r1.host, `${repo}:9`)).json.mediaType).toBe(MT.ociIndex)
    const second = await run(inputs([regs.r1.host], repo, '9', ['x86_64', 'aarch64'], { format: 'v2s2' }))
    if (second.code !== 0) throw new Error(explain(second))
    expect(outputsOf(second).result).toBe('published')
    expect((await inspectRaw(regs.r1.host, `${repo}:9`)).json.mediaType).toBe(MT.dockerList)
  })
})

describe('annotations are never silently dropped', () => {
  const version = JSON.parse(execFileSync('buildah', ['version', '--json'], { encoding: 'utf8' })).version as string
  const [major, minor] = version.split('.').map(Number)
  const supported = major > 1 || (major === 1 && minor >= 35)

  test(`format oci on buildah ${version}: ${supported ? 'published with the annotations' : 'refused, naming the version needed'}`, async () => {
    const repo = 'annotations/oci'
    await pushArches(regs.r1.host, repo, '1', ['x86_64', 'aarch64'])
    const p = await startProxy({ target: regs.r1.host })
    try {
      const r = await run(
        inputs([p.host], repo, '1', ['x86_64', 'aarch64'], { annotations: 'org.opencontainers.image.version=40\norg.example.k=v' })
      )
      const served = await inspectRaw(regs.r1.host, `${repo}:1`, { allowMissing: true })
      const outcome = {
        code: r.code,
        annotations: served?.json.annotations ?? null,
        refusedNamingTheVersion: /::error::.*annotations.*1\.35/i.test(r.stdout),
        askedARegistry: p.counts.total > 0
      }
      const annotated = expect.objectContaining({ 'org.opencontainers.image.version': '40', 'org.example.k': 'v' })
      // A buildah too old is found before any registry is asked.
      expect(outcome).toEqual(
        supported
          ? { code: 0, annotations: annotated, refusedNamingTheVersion: false, askedARegistry: true }
          : { code: 1, annotations: null, refusedNamingTheVersion: true, askedARegistry: false }
      )
      expect(r.localLists).toEqual([])
    } finally {
      await p.stop()
    }
  })

  test('format v2s2 with annotations: refused (Docker lists have none), nothing published', async () => {
    const repo = 'annotations/v2s2'
    await pushArches(regs.r1.host, repo, '1', ['x86_64', 'aarch64'], { mediaType: 'docker' })
    const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64'], { annotations: 'org.example.k=v', format: 'v2s2' }))
    expectExit(r, 1)
    expect(r.stdout).toMatch(/::error::.*annotations/i)
    expect(r.stdout).toMatch(/::error::.*v2s2/i)
    expect(await inspectRaw(regs.r1.host, `${repo}:1`, { allowMissing: true })).toBeNull()
  })
})
