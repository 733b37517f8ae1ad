/**
 * Shared fixtures for the integration tests: per-arch test images named the way the action looks
 * them up, default inputs, and assertions on what the registries really serve.
 */
import { pushImage, pushIndex, inspectRaw, inspectConfig, digestsByPlatform, MT } from '../harness/images'
import { jsonArray, RunOptions, RunResult } from '../harness/action'
import { startRegistry } from '../harness/registry'
import { startProxy } from '../harness/proxy'
import type { Reader } from '../../src/registry/reader'

export { MT }

export type Registry = Awaited<ReturnType<typeof startRegistry>>

/** Two plain registries for a test file: started before its tests, stopped after them. */
export function twoRegistries(): { r1: Registry; r2: Registry } {
  const regs = {} as { r1: Registry; r2: Registry }
  beforeAll(async () => {
    regs.r1 = await startRegistry()
    regs.r2 = await startRegistry()
  })
  afterAll(async () => {
    await regs.r1?.stop()
    await regs.r2?.stop()
  })
  return regs
}

export type Proxy = Awaited<ReturnType<typeof startProxy>>

/** A proxy in front of each of the two registries (faults, request counts), for the enclosing block. */
export function twoProxies(regs: { r1: Registry; r2: Registry }): { p1: Proxy; p2: Proxy } {
  const proxies = {} as { p1: Proxy; p2: Proxy }
  beforeAll(async () => {
    proxies.p1 = await startProxy({ target: regs.r1.host })
    proxies.p2 = await startProxy({ target: regs.r2.host })
  })
  afterAll(async () => {
    await proxies.p1?.stop()
    await proxies.p2?.stop()
  })
  return proxies
}

/**
 * Runs the action the way most integration tests do: src/main.ts `run()` (and src/post.ts `post()`)
 * inside this jest process, so coverage and the mutation run (npm run mutate, Stryker) see src/, and no
 * bundle has to be rebuilt. Same inputs, options and result as `runAction` (test/harness/action.js),
 * which the few end-to-end tests of dist/ keep using: a signal to the node process, killMain, runs
 * at once, actionDir, and /proc sampling of the action's own processes. In process, buildah and
 * skopeo are children of the jest worker. Imported lazily: inprocess.ts compiles the whole of src/.
 */
export async function run(given: Record<string, string | number | boolean | undefined>, opts?: RunOptions): Promise<RunResult> {
  const { runInProcess } = await import('./inprocess')
  return runInProcess(given, opts)
}

/** Per-test timeout: generous, these start buildah and skopeo many times. */
export const TIMEOUT = 120_000

export interface Auth {
  user: string
  password: string
}

/** What each arch name means (action spec); `platform` is the `os/arch[/variant]` key in a list. */
export const ARCH: Record<string, { architecture: string; variant?: string; platform: string }> = {
  x86_64: { architecture: 'amd64', platform: 'linux/amd64' },
  aarch64: { architecture: 'arm64', platform: 'linux/arm64' },
  ppc64le: { architecture: 'ppc64le', platform: 'linux/ppc64le' },
  s390x: { architecture: 's390x', platform: 'linux/s390x' },
  armhfp: { architecture: 'arm', variant: 'v7', platform: 'linux/arm/v7' },
  i686: { architecture: '386', platform: 'linux/386' },
  amd64: { architecture: 'amd64', platform: 'linux/amd64' },
  arm64: { architecture: 'arm64', platform: 'linux/arm64' }
}

export interface Pushed {
  digest: string
  size: number
  mediaType: string
  platform: { architecture: string; os: string; variant?: string }
}

/**
 * Push one test image per arch as `<host>/<repo>:<tag>-<arch>` (the action's default arch-tag).
 * Returns arch name → descriptor.
 */
export async function pushArches(
  host: string,
  repo: string,
  tag: string,
  arches: string[],
  o: { salt?: string; auth?: Auth; certDir?: string; mediaType?: 'oci' | 'docker'; archTag?: (arch: string) => string } = {}
): Promise<Record<string, Pushed>> {
  const out: Record<string, Pushed> = {}
  for (const arch of arches) {
    const a = ARCH[arch]
    out[arch] = await pushImage({
      host,
      repo,
      tag: o.archTag ? o.archTag(arch) : `${tag}-${arch}`,
      architecture: a.architecture,
      variant: a.variant,
      salt: o.salt,
      auth: o.auth,
      certDir: o.certDir,
      mediaType: o.mediaType
    })
  }
  return out
}

/**
 * Publish a "current" list by hand (as some earlier release did) at every host and tag: the images
 * are pushed by digest into each registry, then the index is tagged.
 */
export async function pushCurrentList(
  hosts: string[],
  repo: string,
  tags: string[],
  arches: string[],
  o: { salt?: string; auth?: Auth; mediaType?: 'oci' | 'docker' } = {}
): Promise<{ digest: string; images: Record<string, Pushed> }> {
  let digest = ''
  let images: Record<string, Pushed> = {}
  for (const host of hosts) {
    images = {}
    for (const arch of arches) {
      const a = ARCH[arch]
      images[arch] = await pushImage({
        host,
        repo,
        architecture: a.architecture,
        variant: a.variant,
        salt: o.salt ?? 'old',
        auth: o.auth,
        mediaType: o.mediaType
      })
    }
    for (const tag of tags) {
      const idx = await pushIndex({ host, repo, tag, auth: o.auth, mediaType: o.mediaType, manifests: arches.map(arch => images[arch]) })
      digest = idx.digest
    }
  }
  return { digest, images }
}

/** Inputs every test uses, plus overrides. */
export function inputs(
  registries: string[],
  repo: string,
  tag: string,
  arches: string[],
  extra: Record<string, string> = {}
): Record<string, string> {
  return { repo, tag, arches: arches.join(' '), registries: registries.join(' '), 'tls-verify': 'false', retries: '3', ...extra }
}

/** All `<host>/<repo>:<tag>` destinations, sorted. */
export function refs(hosts: string[], repo: string, tags: string[]): string[] {
  return hosts.flatMap(h => tags.map(t => `${h}/${repo}:${t}`)).sort()
}

/** The outputs, with the JSON arrays parsed. */
export function outputsOf(r: RunResult): {
  result: string
  digest: string
  arches: string[]
  missing: string[]
  lost: string[]
  destinations: string[]
} {
  return {
    result: r.outputs.result,
    digest: r.outputs.digest,
    arches: jsonArray(r.outputs.arches),
    missing: jsonArray(r.outputs['missing-arches']),
    lost: jsonArray(r.outputs['lost-arches']),
    destinations: jsonArray(r.outputs.destinations).slice().sort()
  }
}

/** Output of a run, for failure messages. */
export function explain(r: RunResult): string {
  return `exit ${r.code}\n--- outputs\n${JSON.stringify(r.outputs, null, 2)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- summary\n${r.summary}`
}

/**
 * Expect exit code `code`, showing the whole run when it differs; and, unless the storage is shared
 * with other runs or leftovers (`sharedStorage`), that the run left no local list.
 */
export function expectExit(r: RunResult, code: number, o: { sharedStorage?: boolean } = {}): void {
  if (r.code !== code) throw new Error(`expected exit ${code}\n${explain(r)}`)
  if (!o.sharedStorage && r.localLists.length > 0) throw new Error(`local lists left behind: ${r.localLists.join(', ')}\n${explain(r)}`)
}

/** Digest served at each destination, `null` where the tag does not exist. */
export async function servedDigests(hosts: string[], repo: string, tags: string[], auth?: Auth): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {}
  for (const h of hosts) {
    for (const t of tags) {
      const m = await inspectRaw(h, `${repo}:${t}`, { auth, allowMissing: true })
      out[`${h}/${repo}:${t}`] = m ? m.digest : null
    }
  }
  return out
}

/**
 * Every destination serves the same list, of `mediaType`, with exactly `platforms` (platform → child
 * digest, or `expect.any(String)` where the child may have been converted); returns that digest.
 */
export async function expectServedList(
  hosts: string[],
  repo: string,
  tags: string[],
  platforms: Record<string, unknown>,
  o: { auth?: Auth; certDir?: string; mediaType?: string; entryMediaType?: string } = {}
): Promise<string> {
  const digests = new Set<string>()
  for (const h of hosts) {
    for (const t of tags) {
      const m = await inspectRaw(h, `${repo}:${t}`, { auth: o.auth, certDir: o.certDir })
      expect({ ref: `${h}/${repo}:${t}`, mediaType: m.json.mediaType }).toEqual({
        ref: `${h}/${repo}:${t}`,
        mediaType: o.mediaType ?? MT.ociIndex
      })
      expect(m.json.manifests).toHaveLength(Object.keys(platforms).length)
      expect(digestsByPlatform(m.json)).toEqual(platforms)
      if (o.entryMediaType) {
        for (const e of m.json.manifests) expect(e.mediaType).toBe(o.entryMediaType)
      }
      digests.add(m.digest)
    }
    // Each entry can be pulled from this registry: its manifest and config are there, not only the list.
    const served = await inspectRaw(h, `${repo}:${tags[0]}`, { auth: o.auth, certDir: o.certDir })
    for (const e of served.json.manifests as Array<{ digest: string; platform: { architecture: string } }>) {
      expect((await inspectRaw(h, `${repo}@${e.digest}`, { auth: o.auth, certDir: o.certDir })).digest).toBe(e.digest)
      expect((await inspectConfig(h, `${repo}@${e.digest}`, { auth: o.auth, certDir: o.certDir })).architecture).toBe(
        e.platform.architecture
      )
    }
  }
  expect([...digests]).toHaveLength(1)
  return [...digests][0]
}

/** platform → digest for pushed images. */
export function platformsOf(images: Record<string, Pushed>, arches = Object.keys(images)): Record<string, string> {
  const out: Record<string, string> = {}
  for (const a of arches) out[ARCH[a].platform] = images[a].digest
  return out
}

/** stdout + stderr of every step, without the `::add-mask::` commands a runner consumes and never shows. */
export function visibleLog(r: RunResult): string {
  return r.all
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
}

/** A skopeo for a Reads that must not hand any read to it: every read of the test is in process. */
export const noSkopeo: Reader = {
  manifest: () => Promise.reject(new Error('read handed to skopeo')),
  config: () => Promise.reject(new Error('read handed to skopeo')),
  digest: () => Promise.reject(new Error('read handed to skopeo'))
}
