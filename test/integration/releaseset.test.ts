/**
 * Issue 11, release sets: a compose's repositories in one step, each registry with its own login.
 * Real registries on loopback (two of them demanding different users); what they serve is read
 * directly, with each registry's own credentials.
 */
import { startRegistry } from '../harness/registry'
import {
  expectExit,
  expectServedList,
  inputs,
  outputsOf,
  platformsOf,
  pushArches,
  pushCurrentList,
  Registry,
  run,
  servedDigests,
  TIMEOUT,
  twoRegistries,
  visibleLog
} from './fixtures'

jest.setTimeout(TIMEOUT)

const FAST = { env: { MULTIARCH_PUBLISH_TIMINGS: JSON.stringify({ baseDelayMs: 50, readBackMs: 3000 }) } }

interface RepositoryResult {
  result: string
  digest: string
  arches: Array<{ arch: string; platform: string | null; digest: string | null; outcome: string }>
  destinations: Array<{ ref: string; previous: string | null; status: string }>
}

describe('several repositories, each on its own', () => {
  const regs = twoRegistries()

  test('3 repositories, different arch sets; one loses an arch under fail: it is refused, the others published, the step fails, results says so', async () => {
    const hosts = [regs.r1.host, regs.r2.host]
    // fedora: both arches built. minimal: only x86_64 this compose, never had aarch64. toolbox: had both, lost aarch64.
    const fedora = await pushArches(regs.r1.host, 'set/fedora', '41', ['x86_64', 'aarch64'], { salt: 'n' })
    const minimal = await pushArches(regs.r1.host, 'set/minimal', '41', ['x86_64'], { salt: 'n' })
    const old = await pushCurrentList(hosts, 'set/toolbox', ['41'], ['x86_64', 'aarch64'])
    await pushArches(regs.r1.host, 'set/toolbox', '41', ['x86_64'], { salt: 'n' })
    const before = await servedDigests(hosts, 'set/toolbox', ['41'])

    const r = await run(inputs(hosts, 'set/fedora set/minimal set/toolbox', '41', ['x86_64', 'aarch64']), FAST)
    expectExit(r, 1)
    const out = outputsOf(r)
    expect(out.result).toBe('failed')
    expect(out.digest).toBe('')
    expect(out.lost).toEqual(['aarch64'])
    const results = JSON.parse(r.outputs.results) as Record<string, RepositoryResult>
    expect(Object.keys(results)).toEqual(['set/fedora', 'set/minimal', 'set/toolbox'])
    expect(results['set/fedora'].result).toBe('published')
    expect(results['set/fedora'].digest).toBe(await expectServedList(hosts, 'set/fedora', ['41'], platformsOf(fedora)))
    expect(results['set/minimal']).toMatchObject({
      result: 'published',
      digest: await expectServedList(hosts, 'set/minimal', ['41'], platformsOf(minimal))
    })
    expect(results['set/minimal'].arches).toEqual([
      { arch: 'x86_64', platform: 'linux/amd64', digest: minimal.x86_64.digest, outcome: 'new' },
      { arch: 'aarch64', platform: null, digest: null, outcome: 'missing' }
    ])
    expect(results['set/toolbox'].result).toBe('failed')
    expect(results['set/toolbox'].arches.find(a => a.arch === 'aarch64')?.outcome).toBe('lost')
    expect(results['set/toolbox'].destinations.map(d => [d.status, d.previous])).toEqual([
      ['not pushed', old.digest],
      ['not pushed', old.digest]
    ])
    expect(await servedDigests(hosts, 'set/toolbox', ['41'])).toEqual(before)
    // One overview table, then each repository.
    expect(r.summary).toMatch(/^## multiarch-publish: failed, 3 repositories/)
    expect(r.summary).toMatch(/\| `set\/toolbox:41` \| failed \|/)
    expect(out.destinations).toEqual(
      [
        `${regs.r1.host}/set/fedora:41`,
        `${regs.r1.host}/set/minimal:41`,
        `${regs.r2.host}/set/fedora:41`,
        `${regs.r2.host}/set/minimal:41`
      ].sort()
    )
  })

  test('one repository behaves exactly as before: results holds it alone', async () => {
    const images = await pushArches(regs.r1.host, 'set/single', '1', ['x86_64'], { salt: 's' })
    const r = await run(inputs([regs.r1.host], 'set/single', '1', ['x86_64']), FAST)
    expectExit(r, 0)
    const results = JSON.parse(r.outputs.results) as Record<string, RepositoryResult>
    expect(Object.keys(results)).toEqual(['set/single'])
    expect(results['set/single'].digest).toBe(outputsOf(r).digest)
    expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host], 'set/single', ['1'], platformsOf(images)))
  })
})

describe('registry-auth: each registry its own login', () => {
  const A = { user: 'alice', password: 'alice-pw' }
  const B = { user: 'bob', password: 'bob pw with spaces ' }
  let ra: Registry
  let rb: Registry
  beforeAll(async () => {
    ra = await startRegistry({ htpasswd: A })
    rb = await startRegistry({ htpasswd: B })
  })
  afterAll(async () => {
    await ra?.stop()
    await rb?.stop()
  })

  const yamlString = (s: string): string => JSON.stringify(s)

  test('two registries demanding different users; images copied from one to the other', async () => {
    const images = await pushArches(ra.host, 'auth/app', '1', ['x86_64', 'aarch64'], { auth: A })
    const r = await run(
      inputs([ra.host, rb.host], 'auth/app', '1', ['x86_64', 'aarch64'], {
        'registry-auth': `${ra.host}: {username: ${A.user}, password: ${yamlString(A.password)}}\n${rb.host}: {username: ${B.user}, password: ${yamlString(B.password)}}`
      }),
      FAST
    )
    expectExit(r, 0)
    await expectServedList([ra.host], 'auth/app', ['1'], platformsOf(images), { auth: A })
    await expectServedList([rb.host], 'auth/app', ['1'], platformsOf(images), { auth: B })
    for (const secret of [A.password, B.password]) expect(visibleLog(r) + r.summary + JSON.stringify(r.outputs)).not.toContain(secret)
  })

  test('a namespace-scoped key (host/namespace) is the one used for that namespace', async () => {
    const images = await pushArches(ra.host, 'ns/app', '1', ['x86_64'], { auth: A })
    // The step-wide login is A's; only rb's namespace "ns" gets B's, as a host/namespace key.
    const r = await run(
      inputs([ra.host, `${rb.host}/ns`], 'app', '1', ['x86_64'], {
        'arch-tag-registry': `${ra.host}/ns`,
        username: A.user,
        password: A.password,
        'registry-auth': `${rb.host}/ns: {username: ${B.user}, password: ${yamlString(B.password)}}`
      }),
      FAST
    )
    expectExit(r, 0)
    await expectServedList([rb.host], 'ns/app', ['1'], platformsOf(images), { auth: B })
  })

  test('a wrong password for one registry: nothing is published for any repository that needs it', async () => {
    await pushArches(ra.host, 'wrong/one', '1', ['x86_64'], { auth: A })
    await pushArches(ra.host, 'wrong/two', '1', ['x86_64'], { auth: A })
    const r = await run(
      inputs([ra.host, rb.host], 'wrong/one wrong/two', '1', ['x86_64'], {
        'registry-auth': `${ra.host}: {username: ${A.user}, password: ${yamlString(A.password)}}\n${rb.host}: {username: ${B.user}, password: not-it}`
      }),
      FAST
    )
    expectExit(r, 1)
    expect(r.stdout).toMatch(/unauthorized|authentication required/i)
    const results = JSON.parse(r.outputs.results) as Record<string, RepositoryResult>
    expect(Object.values(results).map(x => x.result)).toEqual(['failed', 'failed'])
    for (const repo of ['wrong/one', 'wrong/two']) {
      expect(await servedDigests([ra.host], repo, ['1'], A)).toEqual({ [`${ra.host}/${repo}:1`]: null })
    }
  })
})
