/**
 * Issue 3, fault injection: a proxy in front of real registries answers 503/429/502, cuts
 * connections, or disappears between the check and the push. Each test asserts what the registries
 * serve afterwards (read directly, not through the proxy), the outputs, and that no local list is left.
 * The action runs in process (fixtures.run).
 */
import {
  Proxy,
  run,
  twoProxies,
  twoRegistries,
  TIMEOUT,
  expectExit,
  expectServedList,
  inputs,
  outputsOf,
  platformsOf,
  pushArches,
  refs,
  servedDigests
} from './fixtures'

jest.setTimeout(TIMEOUT)

const regs = twoRegistries()
const proxies = twoProxies(regs)
beforeEach(async () => {
  for (const p of [proxies.p1, proxies.p2]) {
    p.clearFaults()
    p.reset()
    await p.up()
  }
})

const ARCHES = ['x86_64', 'aarch64']

/** Per-arch images at regs.r1 (the source), then publish through both proxies to tags `tag` and `latest`. */
async function publishThroughProxies(repo: string, extra: Record<string, string> = {}) {
  const images = await pushArches(regs.r1.host, repo, '1', ARCHES)
  const publish = () => run(inputs([proxies.p1.host, proxies.p2.host], repo, '1', ARCHES, { aliases: 'latest', ...extra }))
  return { images, publish }
}

/** Injected fault answers the proxy gave, e.g. `{503: 3}`. */
function faultsServed(p: Proxy): Record<string, number> {
  const out: Record<string, number> = {}
  for (const e of p.log.filter(x => x.fault)) out[String(e.status)] = (out[String(e.status)] ?? 0) + 1
  return out
}

describe('transient faults are retried', () => {
  test('503 on the first reads of the source registry', async () => {
    const repo = 'faults/read503'
    const { images, publish } = await publishThroughProxies(repo)
    proxies.p1.failNext(2, 503)
    const r = await publish()
    expectExit(r, 0)
    expect(faultsServed(proxies.p1)).toEqual({ 503: 2 })
    const out = outputsOf(r)
    expect(out.result).toBe('published')
    expect(out.destinations).toEqual(refs([proxies.p1.host, proxies.p2.host], repo, ['1', 'latest']))
    expect(out.digest).toBe(await expectServedList([regs.r1.host, regs.r2.host], repo, ['1', 'latest'], platformsOf(images)))
    expect(r.localLists).toEqual([])
  })

  test('503 on manifest uploads (the push itself)', async () => {
    const repo = 'faults/push503'
    const { images, publish } = await publishThroughProxies(repo)
    proxies.p2.failNext(2, 503, { method: 'PUT', path: '/manifests/' })
    const r = await publish()
    expectExit(r, 0)
    expect(faultsServed(proxies.p2)).toEqual({ 503: 2 })
    expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host, regs.r2.host], repo, ['1', 'latest'], platformsOf(images)))
    expect(r.localLists).toEqual([])
  })

  test('502 on blob upload starts', async () => {
    const repo = 'faults/blob502'
    const { images, publish } = await publishThroughProxies(repo)
    proxies.p2.failNext(2, 502, { method: 'POST', path: '/blobs/uploads/' })
    const r = await publish()
    expectExit(r, 0)
    expect(faultsServed(proxies.p2)).toEqual({ 502: 2 })
    expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host, regs.r2.host], repo, ['1', 'latest'], platformsOf(images)))
  })

  test('429 with Retry-After on reads and on a manifest upload', async () => {
    const repo = 'faults/429'
    const { images, publish } = await publishThroughProxies(repo)
    proxies.p1.failNext(2, 429, { method: ['GET', 'HEAD'], path: '/manifests/' })
    proxies.p2.failNext(1, 429, { method: 'PUT', path: '/manifests/' })
    const r = await publish()
    expectExit(r, 0)
    expect(faultsServed(proxies.p1)).toEqual({ 429: 2 })
    expect(faultsServed(proxies.p2)).toEqual({ 429: 1 })
    expect(outputsOf(r)).toMatchObject({
      result: 'published',
      destinations: refs([proxies.p1.host, proxies.p2.host], repo, ['1', 'latest'])
    })
    expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host, regs.r2.host], repo, ['1', 'latest'], platformsOf(images)))
    expect(r.localLists).toEqual([])
  })

  test('connections cut without an answer, on reads and on uploads', async () => {
    const repo = 'faults/cut'
    const { images, publish } = await publishThroughProxies(repo)
    proxies.p1.cutNext(1, { method: 'GET', path: '/manifests/' })
    proxies.p2.cutNext(1, { method: 'GET', path: '/manifests/' })
    proxies.p2.cutNext(1, { method: 'PUT' })
    const r = await publish()
    expectExit(r, 0)
    expect(faultsServed(proxies.p1)).toEqual({ cut: 1 })
    expect(faultsServed(proxies.p2)).toEqual({ cut: 2 })
    expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host, regs.r2.host], repo, ['1', 'latest'], platformsOf(images)))
    expect(r.localLists).toEqual([])
  })

  test('rerun after faults is unchanged and writes nothing', async () => {
    const repo = 'faults/rerun'
    const { publish } = await publishThroughProxies(repo)
    proxies.p2.failNext(1, 503, { method: 'PUT' })
    const first = await publish()
    expectExit(first, 0)
    proxies.p1.reset()
    proxies.p2.reset()
    const second = await publish()
    expectExit(second, 0)
    expect(outputsOf(second)).toMatchObject({ result: 'unchanged', digest: outputsOf(first).digest })
    expect(proxies.p1.writes() + proxies.p2.writes()).toBe(0)
  })
})

describe('faults that outlast the retries', () => {
  test('503 forever on the source: fails, nothing published, the error says why', async () => {
    const repo = 'faults/forever'
    const { publish } = await publishThroughProxies(repo, { retries: '1' })
    proxies.p1.failNext(1000, 503)
    const r = await publish()
    expectExit(r, 1)
    expect(outputsOf(r)).toMatchObject({ result: 'failed', destinations: [] })
    expect(r.stdout).toMatch(/::error::.*503/)
    expect(proxies.p2.writes()).toBe(0)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, ['1', 'latest'])).toEqual(
      Object.fromEntries(refs([regs.r1.host, regs.r2.host], repo, ['1', 'latest']).map(ref => [ref, null]))
    )
    expect(r.localLists).toEqual([])
  })

  test('a destination refusing connections while the current lists are read: fails before pushing anywhere', async () => {
    const repo = 'faults/down-at-check'
    const { publish } = await publishThroughProxies(repo, { retries: '1' })
    await proxies.p2.down()
    const r = await publish()
    expectExit(r, 1)
    expect(outputsOf(r)).toMatchObject({ result: 'failed', destinations: [] })
    expect(r.stdout + r.stderr).toMatch(/connection refused/i)
    expect(proxies.p1.writes()).toBe(0)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, ['1', 'latest'])).toEqual(
      Object.fromEntries(refs([regs.r1.host, regs.r2.host], repo, ['1', 'latest']).map(ref => [ref, null]))
    )
    expect(r.localLists).toEqual([])
  })

  test('a registry going away while images are staged: nothing is published anywhere, the step fails naming it', async () => {
    const repo = 'faults/gone'
    const { publish } = await publishThroughProxies(repo, { retries: '2' })
    proxies.p2.downWhen({ method: ['POST', 'PUT', 'PATCH'] })
    const r = await publish()
    expectExit(r, 1)
    expect(proxies.p2.isUp()).toBe(false)
    const out = outputsOf(r)
    expect(out.result).toBe('failed')
    expect(out.destinations).toEqual([])
    expect(r.stdout).toContain(`Staging failed, nothing was published`)
    expect(r.stdout).toContain(proxies.p2.host)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, ['1', 'latest'])).toEqual(
      Object.fromEntries(refs([regs.r1.host, regs.r2.host], repo, ['1', 'latest']).map(ref => [ref, null]))
    )
    expect(r.localLists).toEqual([])
  })
})
