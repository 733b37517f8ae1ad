/**
 * The bound on re-planning (`replans`, src/publish.ts), which no other test kills when removed
 * (issue 19): a run whose tag another writer keeps moving would otherwise observe, plan, stage, push
 * and roll back without end, until the job's 6 hours run out. Real registries behind proxies; the
 * other writer moves the tag while this run stages, in every round. In process (fixtures.run).
 */
import {
  expectExit,
  expectServedList,
  inputs,
  platformsOf,
  pushArches,
  pushCurrentList,
  run,
  servedDigests,
  TIMEOUT,
  twoProxies,
  twoRegistries
} from './fixtures'

jest.setTimeout(TIMEOUT)

const regs = twoRegistries()
const proxies = twoProxies(regs)
const ARCHES = ['x86_64', 'aarch64']

test('a tag another writer moves in every round: the run gives up after replans + 1 rounds, naming why', async () => {
  const repo = 'replans/race'
  const old = await pushCurrentList([regs.r1.host, regs.r2.host], repo, ['1'], ARCHES, { salt: 'old' })
  const images = await pushArches(regs.r1.host, repo, '1', ARCHES, { salt: 'new' })
  // Staging copies the new x86_64 image into r2 once per round (r2 never serves a list holding it);
  // each time, the other writer moves r2's tag to a list of its own before the copy goes on.
  const staging = { method: 'PUT', path: `/v2/${repo}/manifests/${images.x86_64.digest}` }
  const replans = 1
  // More rounds than the run may take: without the bound, the run publishes in the round after the last move.
  const rounds = replans + 3
  let moves = 0
  let lastMove = ''
  const moveDuringStaging = (): void =>
    void proxies.p2
      .onFirst(staging, async () => {
        moves++
        lastMove = (await pushCurrentList([regs.r2.host], repo, ['1'], ARCHES, { salt: `other-writer-${moves}` })).digest
        if (moves < rounds) moveDuringStaging()
      })
      .catch(() => undefined)
  moveDuringStaging()

  const r = await run(inputs([proxies.p1.host, proxies.p2.host], repo, '1', ARCHES), {
    env: { MULTIARCH_PUBLISH_TIMINGS: JSON.stringify({ replans, baseDelayMs: 50, maxDelayMs: 400, readBackMs: 3000 }) }
  })
  proxies.p2.clearFaults()
  expectExit(r, 1)
  expect(moves).toBe(replans + 1)
  expect(r.stdout).toMatch(/changed while this run was publishing/)
  // The other writer's last list stands; r1's tag was put back.
  expect(Object.values(await servedDigests([regs.r1.host, regs.r2.host], repo, ['1']))).toEqual([old.digest, lastMove])
})

test('a release set where one tag is moved once: that repository alone is observed again and published in round 2', async () => {
  const hosts = [regs.r1.host, regs.r2.host]
  const moved = 'replans/moved'
  const steady = 'replans/steady'
  await pushCurrentList(hosts, moved, ['1'], ARCHES, { salt: 'old' })
  await pushCurrentList(hosts, steady, ['1'], ARCHES, { salt: 'old' })
  const movedImages = await pushArches(regs.r1.host, moved, '1', ARCHES, { salt: 'new' })
  const steadyImages = await pushArches(regs.r1.host, steady, '1', ARCHES, { salt: 'new' })
  // The other writer moves r2's tag of one repository, once, while this run stages it.
  let moves = 0
  void proxies.p2
    .onFirst({ method: 'PUT', path: `/v2/${moved}/manifests/${movedImages.x86_64.digest}` }, async () => {
      moves++
      await pushCurrentList([regs.r2.host], moved, ['1'], ARCHES, { salt: 'other-writer' })
    })
    .catch(() => undefined)

  const r = await run(inputs([proxies.p1.host, proxies.p2.host], `${moved} ${steady}`, '1', ARCHES), {
    env: { MULTIARCH_PUBLISH_TIMINGS: JSON.stringify({ replans: 1, baseDelayMs: 50, maxDelayMs: 400, readBackMs: 3000 }) }
  })
  proxies.p2.clearFaults()
  expectExit(r, 0)
  expect(moves).toBe(1)
  const results = JSON.parse(r.outputs.results) as Record<string, { result: string }>
  // Published in round 1, the steady one keeps that result: it is not observed, planned or moved again.
  expect(Object.entries(results).map(([repo, o]) => [repo, o.result])).toEqual([
    [moved, 'published'],
    [steady, 'published']
  ])
  expect(r.stdout).toContain('::group::Observe: the new images and what the destinations serve\n')
  const round2 = r.stdout.split('::group::Observe again (round 2)\n')[1]?.split('::endgroup::')[0] ?? ''
  expect(round2).toContain(`/${moved}:1: serves`)
  expect(round2).not.toContain(steady)
  await expectServedList(hosts, moved, ['1'], platformsOf(movedImages))
  await expectServedList(hosts, steady, ['1'], platformsOf(steadyImages))
})
