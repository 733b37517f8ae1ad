/**
 * Issue 10, publishing as a transaction: every destination moves together or none does. Real
 * registries behind fault-injecting proxies; what the registries serve is always read directly.
 * Waits (back-off, read-back, the hang watchdog) are shortened through MULTIARCH_PUBLISH_TIMINGS.
 *
 * The action runs in process (fixtures.run: src/, so coverage and the mutation run see it). On the
 * bundle (runAction), as a runner runs it: SIGTERM to the node process, the post step's own entry,
 * and the other writer of the overlapping run (two runs at once).
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import { runAction } from '../harness/action'
import {
  run,
  expectExit,
  expectServedList,
  inputs,
  outputsOf,
  platformsOf,
  pushArches,
  pushCurrentList,
  refs,
  servedDigests,
  TIMEOUT,
  twoProxies,
  twoRegistries
} from './fixtures'

jest.setTimeout(TIMEOUT * 2)

const regs = twoRegistries()
const proxies = twoProxies(regs)
beforeEach(async () => {
  for (const p of [proxies.p1, proxies.p2]) {
    p.clearFaults()
    p.reset()
    await p.up()
  }
})

const FAST = { baseDelayMs: 50, maxDelayMs: 400, readBackMs: 3000 }
const timingsEnv = (t: Record<string, number> = {}): Record<string, string> => ({
  MULTIARCH_PUBLISH_TIMINGS: JSON.stringify({ ...FAST, ...t })
})
const TAGS = ['1', 'latest']
const ARCHES = ['x86_64', 'aarch64']
/** A manifest PUT by tag (a tag moving), not by digest (staging). */
const TAG_PUT = { method: 'PUT', path: /\/manifests\/(?!sha256:)/ }

/** New per-arch images in r1 and an older list at every destination; returns both. */
async function prepare(repo: string, arches = ARCHES) {
  const old = await pushCurrentList([regs.r1.host, regs.r2.host], repo, TAGS, ARCHES, { salt: 'old' })
  const images = await pushArches(regs.r1.host, repo, '1', arches, { salt: 'new' })
  const before = await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)
  return { old, images, before }
}

const throughProxies = (repo: string, extra: Record<string, string> = {}, arches = ARCHES) =>
  inputs([proxies.p1.host, proxies.p2.host], repo, '1', arches, { aliases: 'latest', ...extra })

/** `promise`, or a failure naming the bound if it has not settled within `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the run did not end by itself within ${ms / 1000} s`)), ms)
  })
  try {
    return await Promise.race([promise, bound])
  } finally {
    clearTimeout(timer)
  }
}

/** Child processes of this (jest) process whose argv holds `args` in a row: an in-process run's buildah or skopeo. */
function childrenRunning(...args: string[]): number[] {
  const pids: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(`\0${args.join('\0')}\0`)) pids.push(Number(name))
    } catch {
      // Gone.
    }
  }
  return pids
}

/** What the registries serve, keyed by the proxy refs the run used. */
async function served(repo: string): Promise<string[]> {
  return Object.values(await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)).map(d => d ?? 'nothing')
}

describe('all or nothing', () => {
  test('500 on every tag move at one registry: the tags already moved are put back, nothing changed', async () => {
    const repo = 'tx/put500'
    const { before } = await prepare(repo)
    proxies.p2.failAlways(500, TAG_PUT)
    const r = await run(throughProxies(repo, { retries: '1' }), { env: timingsEnv() })
    expectExit(r, 1)
    const out = outputsOf(r)
    expect(out.result).toBe('failed')
    expect(out.destinations).toEqual([])
    expect(JSON.parse(r.outputs['rolled-back']).sort()).toEqual(refs([proxies.p1.host], repo, TAGS))
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)).toEqual(before)
    expect(r.summary).toMatch(/rolled back/)
  })

  test('atomic: false keeps publishing where it can, and says where it failed', async () => {
    const repo = 'tx/put500-nonatomic'
    const { images, old } = await prepare(repo)
    proxies.p2.failAlways(500, TAG_PUT)
    const r = await run(throughProxies(repo, { retries: '1', atomic: 'false' }), { env: timingsEnv() })
    expectExit(r, 1)
    const out = outputsOf(r)
    expect(out.destinations).toEqual(refs([proxies.p1.host], repo, TAGS))
    expect(r.outputs['rolled-back']).toBe('[]')
    await expectServedList([regs.r1.host], repo, TAGS, platformsOf(images))
    expect(Object.values(await servedDigests([regs.r2.host], repo, TAGS))).toEqual([old.digest, old.digest])
  })

  test('a first publish cannot be undone: such destinations move last, and are reported', async () => {
    const repo = 'tx/first'
    // r1 has an old list, r2 has none: r2's tags are first publishes and move after r1's.
    const old = await pushCurrentList([regs.r1.host], repo, TAGS, ARCHES, { salt: 'old' })
    await pushArches(regs.r1.host, repo, '1', ARCHES, { salt: 'new' })
    // Retries stay on: docker-registry itself answers 500 now and then under concurrent writes.
    proxies.p2.failAlways(500, { method: 'PUT', path: /\/manifests\/latest$/ })
    const r = await run(throughProxies(repo, { retries: '2' }), { env: timingsEnv() })
    expectExit(r, 1)
    const putOrder = [...proxies.p1.log, ...proxies.p2.log].filter(e => e.method === 'PUT' && /\/manifests\/(1|latest)$/.test(e.path))
    expect(putOrder.length).toBeGreaterThan(0)
    // r1 (had a list) was put back; r2:1 (a first publish) keeps the new list and says it could not be undone.
    expect(Object.values(await servedDigests([regs.r1.host], repo, TAGS))).toEqual([old.digest, old.digest])
    expect(JSON.parse(r.outputs['rolled-back']).sort()).toEqual(refs([proxies.p1.host], repo, TAGS))
    expect(r.summary).toMatch(/could not be undone/)
  })

  test('a registry that loses an image right after its copy: staging fails, no tag moves anywhere', async () => {
    const repo = 'tx/lost-after-copy'
    const { before, images } = await prepare(repo)
    // r2 acknowledges the aarch64 image's manifest (201) but never stores it, like a registry that
    // loses what it was given: the copy succeeds, the image is not there.
    proxies.p2.failAlways(201, { method: 'PUT', path: `/manifests/${images.aarch64.digest}` })
    const r = await run(throughProxies(repo, { retries: '1' }), { env: timingsEnv() })
    expectExit(r, 1)
    expect(r.stdout).toContain('Staging failed, nothing was published')
    expect(r.stdout).toContain(`after the copy ${proxies.p2.host}/${repo} serves nothing for ${images.aarch64.digest}`)
    expect([...proxies.p1.log, ...proxies.p2.log].filter(e => e.method === 'PUT' && /\/manifests\/(1|latest)$/.test(e.path))).toEqual([])
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)).toEqual(before)
  })
})

describe('flaky network: connections cut at random', () => {
  test.each([101, 202])('one in ten (seed %i), retries 5: every run publishes everywhere', async seed => {
    const repo = `tx/flaky10-${seed}`
    const arches = ['x86_64', 'aarch64', 'ppc64le', 's390x']
    const images = await pushArches(regs.r1.host, repo, '1', arches, { salt: `s${seed}` })
    proxies.p1.cutRandomly(0.1, { seed })
    proxies.p2.cutRandomly(0.1, { seed: seed + 1 })
    const r = await run(throughProxies(repo, { retries: '5' }, arches), { env: timingsEnv() })
    proxies.p1.stopCutting()
    proxies.p2.stopCutting()
    expectExit(r, 0)
    expect(proxies.p1.log.filter(e => e.status === 'cut').length + proxies.p2.log.filter(e => e.status === 'cut').length).toBeGreaterThan(0)
    expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host, regs.r2.host], repo, TAGS, platformsOf(images)))
  })

  test('one in five: published everywhere or nowhere, and the outputs say which', async () => {
    const repo = 'tx/flaky5'
    const { before, images } = await prepare(repo)
    proxies.p1.cutRandomly(0.2, { seed: 7 })
    proxies.p2.cutRandomly(0.2, { seed: 8 })
    const r = await run(throughProxies(repo, { retries: '3' }), { env: timingsEnv() })
    proxies.p1.stopCutting()
    proxies.p2.stopCutting()
    const now = await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)
    const everywhere = Object.fromEntries(Object.keys(before).map(ref => [ref, outputsOf(r).digest]))
    // Either outcome is right, and nothing in between: every tag new (and the outputs say published), or every tag as before.
    expect([
      { code: 0, result: 'published', served: everywhere },
      { code: 1, result: 'failed', served: before }
    ]).toContainEqual({ code: r.code, result: outputsOf(r).result, served: now })
    // The new list, where it was published, holds exactly the new images.
    const published = r.code === 0 ? [regs.r1.host, regs.r2.host] : []
    for (const host of published) await expectServedList([host], repo, TAGS, platformsOf(images))
  })
})

describe('the commit re-checks, waits and verifies', () => {
  test('a registry that serves the old list for 2 s after a PUT: waited for, published', async () => {
    const repo = 'tx/stale'
    const { images } = await prepare(repo)
    proxies.p1.staleAfterPut(2000)
    proxies.p2.staleAfterPut(2000)
    const r = await run(throughProxies(repo), { env: timingsEnv({ readBackMs: 10_000 }) })
    expectExit(r, 0)
    expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host, regs.r2.host], repo, TAGS, platformsOf(images)))
  })

  test('a registry that never answers: the step fails by itself, naming it; nothing published', async () => {
    const repo = 'tx/hang'
    const { before } = await prepare(repo)
    proxies.p2.hangAll()
    // In process there is no runner timeout: the run must end by itself (the watchdog kills the hung commands).
    const r = await within(60_000, run(throughProxies(repo, { retries: '1' }), { env: timingsEnv({ idleMs: 1500, tickMs: 200 }) }))
    proxies.p2.release()
    expectExit(r, 1)
    expect(r.stdout).toMatch(new RegExp(`${proxies.p2.host.replace(/[.]/g, '\\.')}.*no progress for 2 s`))
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)).toEqual(before)
  })

  test('a registry that serves another list than was pushed: not published, the rest put back', async () => {
    const repo = 'tx/lie-other'
    const { before } = await prepare(repo)
    proxies.p2.lie('other-list')
    const r = await run(throughProxies(repo), { env: timingsEnv({ readBackMs: 1000 }) })
    expectExit(r, 1)
    // The doctored list has the planned entries: only buildah's digest tells it from the pushed one.
    expect(r.stdout).toMatch(/buildah pushed sha256:[0-9a-f]{64} but the registry serves sha256:[0-9a-f]{64}/)
    expect(outputsOf(r).destinations).toEqual([])
    expect(Object.values(await servedDigests([regs.r1.host], repo, TAGS))).toEqual(Object.values(before).slice(0, 2))
  })

  test('a registry that loses an entry of the list: not published, the rest put back', async () => {
    const repo = 'tx/lie-lose'
    const { before } = await prepare(repo)
    proxies.p2.lie('lose-entry')
    const r = await run(throughProxies(repo), { env: timingsEnv({ readBackMs: 1000 }) })
    expectExit(r, 1)
    expect(r.stdout).toMatch(
      /it lists platforms \[linux\/amd64\], planned \[linux\/amd64, linux\/arm64\]|it lists platforms \[linux\/arm64\]/
    )
    expect(Object.values(await servedDigests([regs.r1.host], repo, TAGS))).toEqual(Object.values(before).slice(0, 2))
  })

  test('an entry that disappears after the tags moved: never reported published', async () => {
    const repo = 'tx/deleted-entry'
    const { images, before } = await prepare(repo)
    const entry = images.aarch64.digest
    // Once r2's tag has moved, its aarch64 image is gone (answered 404, as after a delete).
    void proxies.p2
      .onFirst(TAG_PUT, () => proxies.p2.failAlways(404, { method: ['GET', 'HEAD'], path: `/manifests/${entry}` }))
      .catch(() => undefined)
    const r = await run(throughProxies(repo), { env: timingsEnv() })
    expectExit(r, 1)
    expect(r.stdout).toMatch(/cannot serve entries of the list: aarch64/)
    expect(outputsOf(r).destinations).toEqual([])
    expect(Object.values(await servedDigests([regs.r1.host], repo, TAGS))).toEqual(Object.values(before).slice(0, 2))
  })

  test('an overlapping run moves the tag first: this run observes again and refuses to drop its arch', async () => {
    const repo = 'tx/overlap'
    await prepare(repo)
    await pushArches(regs.r1.host, repo, '1', ['s390x'], { salt: 'other-run' })
    // Run Y is slow: while it stages, run X publishes a list with one more arch (s390x).
    let x: Awaited<ReturnType<typeof runAction>> | undefined
    void proxies.p2
      .onFirst({ method: 'PUT' }, async () => {
        x = await runAction(inputs([regs.r1.host, regs.r2.host], repo, '1', [...ARCHES, 's390x'], { aliases: 'latest' }), {
          env: timingsEnv()
        })
      })
      .catch(() => undefined)
    const y = await run(throughProxies(repo), { env: timingsEnv() })
    expect(x?.code).toBe(0)
    expectExit(y, 1)
    expect(outputsOf(y).lost).toEqual(['s390x'])
    expect(y.stdout).toMatch(/changed while this run was publishing/)
    // Every tag still serves X's list: Y dropped nothing.
    expect(new Set(await served(repo))).toEqual(new Set([x?.outputs.digest]))
  })
})

describe('one digest everywhere', () => {
  test('a destination already serving these images under another digest is rewritten, so all agree', async () => {
    const repo = 'tx/stale-uptodate'
    const images = await pushArches(regs.r1.host, repo, '1', ARCHES, { salt: 'same' })
    // r1 serves exactly these entries, written by another tool (other order: other bytes, other digest).
    const { pushIndex } = await import('../harness/images')
    for (const tag of TAGS) await pushIndex({ host: regs.r1.host, repo, tag, manifests: [images.aarch64, images.x86_64] })
    const r = await run(throughProxies(repo), { env: timingsEnv() })
    expectExit(r, 0)
    expect(outputsOf(r).digest).toBe(await expectServedList([regs.r1.host, regs.r2.host], repo, TAGS, platformsOf(images)))
  })

  test('buildah reports no digest (its --digestfile came back empty) and one registry lies: the digests disagree, so it fails', async () => {
    const repo = 'tx/one-digest'
    const { before } = await prepare(repo)
    // The first tag move at r2 fails once: buildah 1.28 then writes an empty --digestfile, and the
    // push is repeated without it, so the read-back has no digest to wait for.
    proxies.p2.failNext(1, 500, TAG_PUT)
    proxies.p2.lie('other-list')
    const r = await run(throughProxies(repo), { env: timingsEnv({ readBackMs: 1000 }) })
    expectExit(r, 1)
    expect(r.stdout).toMatch(/other destinations sha256:/)
    expect(Object.values(await servedDigests([regs.r1.host], repo, TAGS))).toEqual(Object.values(before).slice(0, 2))
  })
})

describe('cancellation', () => {
  /** The main step's node process of the run publishing `repo`. */
  function mainPid(repo: string): number | undefined {
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue
      try {
        const env = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0')
        const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8')
        if (env.includes(`INPUT_REPO=${repo}`) && cmd.includes('dist/index.js')) return Number(name)
      } catch {
        // Gone or not readable.
      }
    }
    return undefined
  }

  test('SIGTERM mid-commit: children stopped, moved tags put back, outputs and summary written, temp files gone', async () => {
    const repo = 'tx/sigterm'
    const { before } = await prepare(repo)
    // The first tag PUT at r2 waits while the runner cancels the job, until the main step has ended;
    // its client (killed by then) never sees it forwarded.
    void proxies.p2
      .onFirst(TAG_PUT, async () => {
        const pid = mainPid(repo)
        if (pid) process.kill(pid, 'SIGTERM')
        for (let i = 0; i < 600 && mainPid(repo); i++) await new Promise(resolve => setTimeout(resolve, 100))
      })
      .catch(() => undefined)
    const r = await runAction(throughProxies(repo), { env: timingsEnv() })
    const writesAtEnd = proxies.p1.writes() + proxies.p2.writes()
    expect(r.code).not.toBe(0)
    expect(r.outputs.result).toBe('failed')
    expect(r.stdout).toMatch(/Received SIGTERM/)
    expect(r.summary).toMatch(/failed/)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)).toEqual(before)
    expect(r.localLists).toEqual([])
    expect(fs.existsSync(r.runnerTemp) ? fs.readdirSync(r.runnerTemp).filter(f => f.startsWith('multiarch-publish-')) : []).toEqual([])
    // Nothing of the run writes after the step ended (the held PUT's process was killed).
    await new Promise(resolve => setTimeout(resolve, 1500))
    expect(proxies.p1.writes() + proxies.p2.writes()).toBe(writesAtEnd)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)).toEqual(before)
  })

  test('cancelled in process (the signal handler of run()): children stopped at once, moved tags put back, outputs written', async () => {
    const repo = 'tx/cancel-inprocess'
    const { before } = await prepare(repo)
    // The first tag PUT at r2 is held while the job is cancelled (what a runner's cancel sends, to
    // run()'s own handler), until the run has ended. The handler must stop the push holding it at
    // once: its client then closes the connection, and the PUT is never forwarded.
    let pushesStopped: boolean | undefined
    const pending = run(throughProxies(repo), { env: timingsEnv() })
    const held = proxies.p2
      .onFirst(TAG_PUT, async () => {
        process.emit('SIGTERM', 'SIGTERM')
        for (let i = 0; i < 100 && childrenRunning('manifest', 'push').length > 0; i++)
          await new Promise(resolve => setTimeout(resolve, 100))
        pushesStopped = childrenRunning('manifest', 'push').length === 0
        // Without the stop, the run waits for this very request: bounded.
        await within(15_000, pending).catch(() => undefined)
      })
      .catch(() => undefined)
    const r = await pending
    await held
    expect(pushesStopped).toBe(true)
    expect(proxies.p2.log.find(e => e.method === 'PUT' && TAG_PUT.path.test(e.path))?.status).toBe('error')
    expectExit(r, 1)
    expect(r.outputs.result).toBe('failed')
    expect(r.stdout).toMatch(/Received SIGTERM/)
    expect(r.summary).toMatch(/failed/)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)).toEqual(before)
    expect(childrenRunning('manifest', 'push')).toEqual([])
  })

  test('the post step without saved state does nothing (it can never publish)', async () => {
    const repo = 'tx/post-no-state'
    const { before } = await prepare(repo)
    const env = {
      PATH: process.env.PATH ?? '',
      ...Object.fromEntries(Object.entries(throughProxies(repo)).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]))
    }
    const post = spawnSync(process.execPath, ['dist/post/index.js'], { env, encoding: 'utf8' })
    expect({ code: post.status, stdout: post.stdout, stderr: post.stderr }).toEqual({ code: 0, stdout: '', stderr: '' })
    expect(proxies.p1.log.length + proxies.p2.log.length).toBe(0)
    expect(await servedDigests([regs.r1.host, regs.r2.host], repo, TAGS)).toEqual(before)
  })
})
