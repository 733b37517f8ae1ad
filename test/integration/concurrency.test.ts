/**
 * Issue 3: concurrent runs on one machine share one containers storage (self-hosted runners) and
 * must never collide; a list left behind by a crashed run must not break the next run and must not
 * be touched by it. Runs at once and a killed run use the bundle (runAction); a single run at a
 * time runs src/ in process (fixtures.run), its children then children of the jest worker.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import * as os from 'node:os'
import { startRegistry } from '../harness/registry'
import { startProxy } from '../harness/proxy'
import { inspectRaw } from '../harness/images'
import { runAction, listLocal, makeSharedStorage } from '../harness/action'
import { run, twoRegistries, TIMEOUT, expectExit, expectServedList, inputs, outputsOf, platformsOf, pushArches, refs } from './fixtures'

jest.setTimeout(TIMEOUT)

const regs = twoRegistries()

let storage: string
let conf: string
beforeEach(() => {
  storage = makeSharedStorage()
  conf = path.join(storage, 'storage.conf')
})
afterEach(() => {
  fs.rmSync(storage, { recursive: true, force: true })
})

function buildah(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('buildah', args, { env: { ...process.env, CONTAINERS_STORAGE_CONF: conf }, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('three runs at once on one storage: all succeed, each serves its list, no list left', async () => {
  // Two runs publish the same repo and tag (same local name prefix), a third another tag.
  const a = await pushArches(regs.r1.host, 'conc/same', '1', ['x86_64', 'aarch64', 'ppc64le'])
  const b = await pushArches(regs.r1.host, 'conc/same', '2', ['x86_64', 's390x'], { salt: 'two' })
  const runs = await Promise.all([
    runAction(inputs([regs.r1.host, regs.r2.host], 'conc/same', '1', ['x86_64', 'aarch64', 'ppc64le'], { aliases: 'latest' }), {
      storageDir: storage
    }),
    runAction(inputs([regs.r1.host, regs.r2.host], 'conc/same', '2', ['x86_64', 's390x']), { storageDir: storage }),
    runAction(inputs([regs.r1.host, regs.r2.host], 'conc/same', '1', ['x86_64', 'aarch64', 'ppc64le'], { aliases: 'latest' }), {
      storageDir: storage
    })
  ])
  for (const r of runs) expectExit(r, 0, { sharedStorage: true })
  const [ra, rb, rc] = runs.map(outputsOf)
  // The twin runs may see each other's push ("unchanged") but never fail or disagree.
  expect(['published', 'unchanged']).toContain(ra.result)
  expect(['published', 'unchanged']).toContain(rc.result)
  expect(rb.result).toBe('published')
  const da = await expectServedList([regs.r1.host, regs.r2.host], 'conc/same', ['1', 'latest'], platformsOf(a))
  const db = await expectServedList([regs.r1.host, regs.r2.host], 'conc/same', ['2'], platformsOf(b))
  expect(ra.digest).toBe(da)
  expect(rc.digest).toBe(da)
  expect(rb.digest).toBe(db)
  expect(ra.destinations).toEqual(refs([regs.r1.host, regs.r2.host], 'conc/same', ['1', 'latest']))
  expect(rb.destinations).toEqual(refs([regs.r1.host, regs.r2.host], 'conc/same', ['2']))
  expect(listLocal(conf).lists).toEqual([])
})

test('three different repos at once, one of them failing: the others publish, no list left', async () => {
  const x = await pushArches(regs.r1.host, 'conc/x', '5', ['x86_64', 'aarch64'])
  const y = await pushArches(regs.r1.host, 'conc/y', '5', ['x86_64', 'aarch64'])
  await pushArches(regs.r1.host, 'conc/z', '5', ['x86_64'])
  const runs = await Promise.all([
    runAction(inputs([regs.r1.host], 'conc/x', '5', ['x86_64', 'aarch64']), { storageDir: storage }),
    runAction(inputs([regs.r1.host], 'conc/y', '5', ['x86_64', 'aarch64']), { storageDir: storage }),
    // No image at all for conc/z:5-aarch64 and no x86_64 either under this arch-tag: an empty list is refused.
    runAction(inputs([regs.r1.host], 'conc/z', '5', ['x86_64', 'aarch64'], { 'arch-tag': '{tag}-{arch}-nothing' }), { storageDir: storage })
  ])
  expectExit(runs[0], 0, { sharedStorage: true })
  expectExit(runs[1], 0, { sharedStorage: true })
  expectExit(runs[2], 1, { sharedStorage: true })
  expect(outputsOf(runs[0]).digest).toBe(await expectServedList([regs.r1.host], 'conc/x', ['5'], platformsOf(x)))
  expect(outputsOf(runs[1]).digest).toBe(await expectServedList([regs.r1.host], 'conc/y', ['5'], platformsOf(y)))
  expect(outputsOf(runs[2])).toMatchObject({ result: 'failed', missing: ['x86_64', 'aarch64'], destinations: [] })
  expect(listLocal(conf).lists).toEqual([])
})

test('a leftover list from a crashed run does not break the next run and is left alone', async () => {
  const repo = 'conc/leftover'
  const images = await pushArches(regs.r1.host, repo, '1', ['x86_64', 'aarch64'])
  // What a crash between `manifest create` and `manifest rm` leaves: one empty list, one with an entry,
  // named like the action's own lists for this very repo and tag.
  const empty = 'localhost/multiarch-publish-temp-conc-leftover-1-1-deadbeef'
  const full = 'localhost/multiarch-publish-temp-conc-leftover-1-2-feedface'
  expect(buildah(['manifest', 'create', empty]).status).toBe(0)
  expect(buildah(['manifest', 'create', full]).status).toBe(0)
  const add = buildah(['manifest', 'add', '--tls-verify=false', full, `docker://${regs.r1.host}/${repo}@${images.x86_64.digest}`])
  expect(add.stderr).toBe('')
  expect(add.status).toBe(0)
  const before = listLocal(conf).lists.sort()
  expect(before).toEqual([`${empty}:latest`, `${full}:latest`])
  const fullBefore = buildah(['manifest', 'inspect', full]).stdout

  const r = await run(inputs([regs.r1.host, regs.r2.host], repo, '1', ['x86_64', 'aarch64']), { storageDir: storage })
  expectExit(r, 0, { sharedStorage: true })
  expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host, regs.r2.host], repo, ['1'], platformsOf(images)))
  // Only the leftovers remain, untouched.
  expect(listLocal(conf).lists.sort()).toEqual(before)
  expect(buildah(['manifest', 'inspect', full]).stdout).toBe(fullBefore)
})

test('a plain image in the storage named like a temp list does not confuse the run', async () => {
  const repo = 'conc/imagename'
  const images = await pushArches(regs.r1.host, repo, '1', ['x86_64', 'aarch64'])
  // A pulled image (not a list) sitting under a temp-list-like name.
  const pulled = buildah(['pull', '--tls-verify=false', '--quiet', `docker://${regs.r1.host}/${repo}:1-x86_64`])
  expect(pulled.status).toBe(0)
  expect(buildah(['tag', pulled.stdout.trim(), 'localhost/multiarch-publish-temp-conc-imagename-1-9-cafebabe']).status).toBe(0)
  const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64']), { storageDir: storage })
  expectExit(r, 0)
  expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host], repo, ['1'], platformsOf(images)))
  expect(listLocal(conf).images).toContain('localhost/multiarch-publish-temp-conc-imagename-1-9-cafebabe:latest')
  expect(listLocal(conf).lists).toEqual([])
})

test('a run killed mid-push (crash, cancelled job): the post step removes its list and the auth file', async () => {
  const auth = { user: 'ci', password: 'Crash-pw-77aa-never-left' }
  const reg = await startRegistry({ htpasswd: auth })
  const proxy = await startProxy({ target: reg.host })
  const runnerTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-crash-temp-'))
  try {
    const repo = 'conc/crash'
    await pushArches(reg.host, repo, '1', ['x86_64', 'aarch64'], { auth })
    // Every upload hangs: the run is stuck in the push, with its list and auth file in place.
    proxy.hangNext(1000, { method: ['POST', 'PUT', 'PATCH'] })
    const kill = new AbortController()
    let during: string[] = []
    let authFilesDuring: string[] = []
    const watcher = (async () => {
      while (proxy.hanging() === 0) await new Promise(resolve => setTimeout(resolve, 50))
      during = listLocal(conf).lists
      authFilesDuring = fs
        .readdirSync(runnerTemp, { recursive: true })
        .map(String)
        .filter(f => f.endsWith('.json'))
      kill.abort()
    })()
    const r = await runAction(inputs([proxy.host], repo, '1', ['x86_64', 'aarch64'], { username: auth.user, password: auth.password }), {
      storageDir: storage,
      killMain: kill.signal,
      env: { RUNNER_TEMP: runnerTemp }
    })
    await watcher
    expect(r.steps.map(st => [st.step, st.code])).toEqual([
      ['main', null],
      ['post', 0]
    ])
    // It did crash with a list and an auth file ...
    expect(during).toHaveLength(1)
    expect(during[0]).toMatch(/^localhost\/multiarch-publish-temp-conc-crash-1-/)
    expect(authFilesDuring.length).toBeGreaterThan(0)
    // ... and the post step cleaned both up.
    expect(r.localLists).toEqual([])
    expect(
      fs
        .readdirSync(runnerTemp, { recursive: true })
        .map(String)
        .filter(f => fs.statSync(path.join(runnerTemp, f)).isFile() && fs.readFileSync(path.join(runnerTemp, f)).includes(auth.password))
    ).toEqual([])
    proxy.release()
    expect(await inspectRaw(reg.host, `${repo}:1`, { auth, allowMissing: true })).toBeNull()
  } finally {
    await proxy.stop()
    await reg.stop()
    fs.rmSync(runnerTemp, { recursive: true, force: true })
  }
})
