/**
 * Issue 8, the GitHub docker pipeline: per-arch images pushed by digest (buildx style: an index
 * holding the image and an attestation manifest about it), tags from docker/metadata-action, and
 * attestations kept. Real registries on loopback; what they serve is read directly.
 */
import { execFileSync } from 'child_process'
import { attestationEntry, inspectRaw, pushAttestation, pushImage, pushIndex } from '../harness/images'
import { ARCH, expectExit, outputsOf, Proxy, run, TIMEOUT, twoProxies, twoRegistries } from './fixtures'

jest.setTimeout(TIMEOUT)

const regs = twoRegistries()
const proxies = twoProxies(regs)
beforeEach(() => {
  for (const p of [proxies.p1, proxies.p2]) {
    p.clearFaults()
    p.reset()
  }
})

interface Built {
  /** The digest build-push-action reports: the index. */
  index: string
  image: string
  attestation: string
}

/** What build-push-action with `push-by-digest=true` leaves in the registry for one arch: an untagged index. */
async function buildxPush(host: string, repo: string, arch: string, salt: string): Promise<Built> {
  const a = ARCH[arch]
  const img = await pushImage({ host, repo, architecture: a.architecture, variant: a.variant, salt })
  const att = await pushAttestation({ host, repo, subject: img.digest })
  const idx = await pushIndex({ host, repo, manifests: [img, attestationEntry(att, img.digest)] })
  return { index: idx.digest, image: img.digest, attestation: att.digest }
}

const archImagesOf = (host: string, repo: string, built: Record<string, Built>): string =>
  Object.entries(built)
    .map(([arch, b]) => `${arch}: ${host}/${repo}@${b.index}`)
    .join('\n')

const timings = { env: { MULTIARCH_PUBLISH_TIMINGS: JSON.stringify({ baseDelayMs: 50, readBackMs: 3000 }) } }

/** The inputs of the merge job: arch-images by digest, metadata-action's tags, nothing else. */
function mergeInputs(archImages: string, references: string[], extra: Record<string, string> = {}): Record<string, string> {
  return { 'arch-images': archImages, references: references.join('\n'), 'tls-verify': 'false', retries: '2', ...extra }
}

/** The attestation entries a served list holds: subject → attestation digest. */
async function attestationsServed(host: string, ref: string): Promise<Record<string, string>> {
  const served = await inspectRaw(host, ref)
  const out: Record<string, string> = {}
  for (const e of served.json.manifests as Array<{ digest: string; platform?: { os: string }; annotations?: Record<string, string> }>) {
    if (e.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest') continue
    expect(e.platform).toEqual({ architecture: 'unknown', os: 'unknown' })
    out[e.annotations['vnd.docker.reference.digest']] = e.digest
  }
  return out
}

describe('arch-images by digest, references from metadata-action', () => {
  test('attestations: keep — two references on two registries, attestations refer to the new entries, all servable', async () => {
    const repo = 'pipe/keep'
    const built = {
      x86_64: await buildxPush(regs.r1.host, repo, 'x86_64', 'k'),
      aarch64: await buildxPush(regs.r1.host, repo, 'aarch64', 'k')
    }
    const references = [`${proxies.p1.host}/${repo}:1.0.0`, `${proxies.p2.host}/${repo}:1.0.0`]
    const r = await run(mergeInputs(archImagesOf(proxies.p1.host, repo, built), references, { attestations: 'keep' }), timings)
    expectExit(r, 0)
    const out = outputsOf(r)
    expect(out.arches).toEqual(['x86_64', 'aarch64'])
    expect(out.destinations).toEqual([...references].sort())
    for (const host of [regs.r1.host, regs.r2.host]) {
      const served = await inspectRaw(host, `${repo}:1.0.0`)
      expect(served.digest).toBe(out.digest)
      expect(await attestationsServed(host, `${repo}:1.0.0`)).toEqual({
        [built.x86_64.image]: built.x86_64.attestation,
        [built.aarch64.image]: built.aarch64.attestation
      })
      // Every entry, attestations included, can be pulled from this registry.
      for (const e of served.json.manifests as Array<{ digest: string }>)
        expect((await inspectRaw(host, `${repo}@${e.digest}`)).digest).toBe(e.digest)
    }
    // A rerun of the same merge is unchanged.
    const again = await run(mergeInputs(archImagesOf(proxies.p1.host, repo, built), references, { attestations: 'keep' }), timings)
    expectExit(again, 0)
    expect(outputsOf(again).result).toBe('unchanged')
  })

  test('attestations: drop (the default) publishes the images only', async () => {
    const repo = 'pipe/drop'
    const built = {
      x86_64: await buildxPush(regs.r1.host, repo, 'x86_64', 'd'),
      aarch64: await buildxPush(regs.r1.host, repo, 'aarch64', 'd')
    }
    const r = await run(
      mergeInputs(archImagesOf(regs.r1.host, repo, built), [`${regs.r1.host}/${repo}:2`, `${regs.r2.host}/${repo}:2`]),
      timings
    )
    expectExit(r, 0)
    for (const host of [regs.r1.host, regs.r2.host]) {
      expect(await attestationsServed(host, `${repo}:2`)).toEqual({})
      expect((await inspectRaw(host, `${repo}:2`)).json.manifests.map((e: { digest: string }) => e.digest).sort()).toEqual(
        [built.x86_64.image, built.aarch64.image].sort()
      )
    }
  })

  test('keep with hybrid: the kept arch keeps its previous attestation', async () => {
    const repo = 'pipe/hybrid'
    const old = {
      x86_64: await buildxPush(regs.r1.host, repo, 'x86_64', 'old'),
      aarch64: await buildxPush(regs.r1.host, repo, 'aarch64', 'old')
    }
    const references = [`${regs.r1.host}/${repo}:3`]
    expectExit(await run(mergeInputs(archImagesOf(regs.r1.host, repo, old), references, { attestations: 'keep' }), timings), 0)
    // This build has no aarch64: hybrid keeps the old aarch64 image and its attestation.
    const fresh = { x86_64: await buildxPush(regs.r1.host, repo, 'x86_64', 'new') }
    const r = await run(
      mergeInputs(archImagesOf(regs.r1.host, repo, fresh), references, {
        attestations: 'keep',
        arches: 'x86_64 aarch64',
        'missing-arch-policy': 'hybrid'
      }),
      timings
    )
    expectExit(r, 0)
    expect(await attestationsServed(regs.r1.host, `${repo}:3`)).toEqual({
      [fresh.x86_64.image]: fresh.x86_64.attestation,
      [old.aarch64.image]: old.aarch64.attestation
    })
    // Attestations never count as arches.
    expect(outputsOf(r)).toMatchObject({ arches: ['x86_64', 'aarch64'], lost: ['aarch64'] })
  })

  test('the lost-arch guard applies to arch-images by digest too', async () => {
    const repo = 'pipe/lost'
    const old = {
      x86_64: await buildxPush(regs.r1.host, repo, 'x86_64', 'old'),
      aarch64: await buildxPush(regs.r1.host, repo, 'aarch64', 'old')
    }
    const references = [`${regs.r1.host}/${repo}:4`]
    expectExit(await run(mergeInputs(archImagesOf(regs.r1.host, repo, old), references), timings), 0)
    const before = (await inspectRaw(regs.r1.host, `${repo}:4`)).digest
    const fresh = { x86_64: await buildxPush(regs.r1.host, repo, 'x86_64', 'new') }
    const r = await run(mergeInputs(archImagesOf(regs.r1.host, repo, fresh), references), timings)
    expectExit(r, 1)
    expect(outputsOf(r).lost).toEqual(['aarch64'])
    expect((await inspectRaw(regs.r1.host, `${repo}:4`)).digest).toBe(before)
  })

  test('a source index that is not the arch it claims: refused, nothing published', async () => {
    const repo = 'pipe/truth'
    const built = await buildxPush(regs.r1.host, repo, 'x86_64', 't')
    const r = await run(mergeInputs(`aarch64: ${regs.r1.host}/${repo}@${built.index}`, [`${regs.r1.host}/${repo}:5`]), timings)
    expectExit(r, 1)
    expect(r.stdout).toMatch(/without a linux\/arm64 image/)
    expect(await inspectRaw(regs.r1.host, `${repo}:5`, { allowMissing: true })).toBeNull()
  })
})

describe('as a build matrix of platforms and docker/metadata-action write it', () => {
  const version = JSON.parse(execFileSync('buildah', ['version', '--json'], { encoding: 'utf8' })).version as string
  const [major, minor] = version.split('.').map(Number)
  const indexAnnotations = major > 1 || (major === 1 && minor >= 35)
  // metadata-action's `annotations` output: its default level (manifest), and DOCKER_METADATA_ANNOTATIONS_LEVELS=manifest,index.
  const MANIFEST_LEVEL = 'manifest:org.opencontainers.image.title=app\nmanifest:org.opencontainers.image.version=1.2.3'
  const BOTH_LEVELS = `${MANIFEST_LEVEL}\nindex:org.opencontainers.image.title=app\nindex:org.opencontainers.image.version=1.2.3`
  const PLATFORMS: Record<string, string> = { x86_64: 'linux/amd64', aarch64: 'linux/arm64', armhfp: 'linux/arm/v7' }
  const byPlatform = (host: string, repo: string, built: Record<string, Built>): string =>
    Object.entries(built)
      .map(([arch, b]) => `${PLATFORMS[arch]}: ${host}/${repo}@${b.index}`)
      .join('\n')
  const buildAll = async (repo: string, salt: string): Promise<Record<string, Built>> => ({
    x86_64: await buildxPush(regs.r1.host, repo, 'x86_64', salt),
    aarch64: await buildxPush(regs.r1.host, repo, 'aarch64', salt),
    armhfp: await buildxPush(regs.r1.host, repo, 'armhfp', salt)
  })
  const notices = (stdout: string): string[] => stdout.match(/^::notice::.*$/gm) ?? []
  const NOTICE =
    /^::notice::Input "annotations": not applied to the list: "manifest:org\.opencontainers\.image\.title", "manifest:org\.opencontainers\.image\.version"\./

  test("arch-images keyed by platform with metadata-action's default annotations: published under the platform names, one notice", async () => {
    const repo = 'pipe/platforms'
    const built = await buildAll(repo, 'p')
    const references = [`${proxies.p1.host}/${repo}:1.2.3`]
    const r = await run(mergeInputs(byPlatform(proxies.p1.host, repo, built), references, { annotations: MANIFEST_LEVEL }), timings)
    expectExit(r, 0)
    expect(outputsOf(r)).toMatchObject({
      result: 'published',
      arches: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
      destinations: references
    })
    expect(JSON.parse(r.outputs.results)[repo].arches.map((a: { arch: string; platform: string }) => [a.arch, a.platform])).toEqual([
      ['linux/amd64', 'linux/amd64'],
      ['linux/arm64', 'linux/arm64'],
      ['linux/arm/v7', 'linux/arm/v7']
    ])
    expect(r.summary).toMatch(/^\| linux\/arm\/v7 \| `sha256:[0-9a-f]{12}` \| no \| yes, new image \|$/m)
    expect(notices(r.stdout)).toEqual([expect.stringMatching(NOTICE)])
    const served = await inspectRaw(regs.r1.host, `${repo}:1.2.3`)
    expect(served.digest).toBe(outputsOf(r).digest)
    expect(served.json.manifests.map((e: { digest: string }) => e.digest)).toEqual([
      built.x86_64.image,
      built.aarch64.image,
      built.armhfp.image
    ])
    // Manifest-level annotations are the per-arch images' own: none of them is on the list.
    expect(served.json.annotations?.['org.opencontainers.image.title']).toBeUndefined()
  })

  test(`metadata-action's annotations at index and manifest level on buildah ${version}: ${
    indexAnnotations ? 'the index ones on the list, one notice for the others' : 'refused before any request, naming the version needed'
  }`, async () => {
    const repo = 'pipe/annotated'
    const built = await buildAll(repo, 'a')
    const references = [`${proxies.p1.host}/${repo}:1.2.3`]
    const r = await run(mergeInputs(byPlatform(proxies.p1.host, repo, built), references, { annotations: BOTH_LEVELS }), timings)
    const served = await inspectRaw(regs.r1.host, `${repo}:1.2.3`, { allowMissing: true })
    const listAnnotations = (served?.json.annotations ?? {}) as Record<string, string>
    const outcome = {
      code: r.code,
      title: listAnnotations['org.opencontainers.image.title'] ?? null,
      version: listAnnotations['org.opencontainers.image.version'] ?? null,
      notices: notices(r.stdout).filter(n => NOTICE.test(n)).length,
      refusedNamingTheVersion: /^::error::input "annotations" needs buildah 1\.35 or newer/m.test(r.stdout),
      anyRequest: proxies.p1.log.length > 0
    }
    expect(outcome).toEqual(
      indexAnnotations
        ? { code: 0, title: 'app', version: '1.2.3', notices: 1, refusedNamingTheVersion: false, anyRequest: true }
        : { code: 1, title: null, version: null, notices: 1, refusedNamingTheVersion: true, anyRequest: false }
    )
  })
})

describe('refused before any registry request', () => {
  const X = `sha256:${'a'.repeat(64)}`
  test.each<[string, (p: Proxy) => Record<string, string>, RegExp]>([
    [
      'v2s2 with attestations: keep',
      p => mergeInputs(`x86_64: ${p.host}/pipe/r@${X}`, [`${p.host}/pipe/r:1`], { attestations: 'keep', format: 'v2s2' }),
      /^Error: Input "attestations": "keep" needs format "oci"/m
    ],
    [
      'a reference without a tag',
      p => mergeInputs(`x86_64: ${p.host}/pipe/r@${X}`, [`${p.host}/pipe/r:1`, `${p.host}/pipe/r`]),
      /^Error: Input "references": .* must have a tag/m
    ],
    [
      'a reference with an uppercase repository',
      p => mergeInputs(`x86_64: ${p.host}/pipe/r@${X}`, [`${p.host}/Pipe/r:1`]),
      /^Error: Input "references": /m
    ],
    [
      'a reference given twice',
      p => mergeInputs(`x86_64: ${p.host}/pipe/r@${X}`, [`${p.host}/pipe/r:1`, `${p.host}/pipe/r:1`]),
      /^Error: Input "references": /m
    ],
    [
      'references with registries',
      p => ({ ...mergeInputs(`x86_64: ${p.host}/pipe/r@${X}`, [`${p.host}/pipe/r:1`]), registries: p.host }),
      /^Error: Input "registries": must be empty when "references" is set/m
    ],
    [
      'arch-images with arch-tag',
      p => ({ ...mergeInputs(`x86_64: ${p.host}/pipe/r@${X}`, [`${p.host}/pipe/r:1`]), 'arch-tag': '{arch}' }),
      /^Error: Input "arch-tag": must be empty \(or the default\) when "arch-images" is set/m
    ],
    [
      'arch-images with arch-tag-registry',
      p => ({ ...mergeInputs(`x86_64: ${p.host}/pipe/r@${X}`, [`${p.host}/pipe/r:1`]), 'arch-tag-registry': p.host }),
      /^Error: Input "arch-tag-registry": must be empty when "arch-images" is set/m
    ]
  ])('%s', async (_, make, message) => {
    const r = await run(make(proxies.p1))
    expectExit(r, 1)
    expect(r.stdout).toMatch(message)
    expect(proxies.p1.log).toEqual([])
  })
})

describe('the summary on runners that do not show the summary file', () => {
  // What act and forgejo-runner set besides the summary file, which the harness gives every run.
  const ACT = { ACT: 'true' }
  const FORGEJO = { FORGEJO_ACTIONS: 'true', GITEA_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://codeberg.org' }
  const X = `sha256:${'a'.repeat(64)}`
  // An image that is not there: the run reads, refuses to publish an empty list, and reports (an
  // input error would come before the summary mode is read).
  const refused = (p: Proxy, summary: string): Record<string, string> =>
    mergeInputs(`linux/amd64: ${p.host}/pipe/none@${X}`, [`${p.host}/pipe/none:1`], { summary })
  const HEADING = /^## multiarch-publish: failed `pipe\/none:1`\n/
  const grouped = (stdout: string, title: string): string => {
    const start = stdout.indexOf(`::group::${title}\n`)
    return start < 0 ? '' : stdout.slice(start + `::group::${title}\n`.length, stdout.indexOf('::endgroup::', start)).trimEnd()
  }

  test.each<[string, Record<string, string>, string]>([
    ['act', ACT, 'Summary (act does not show job summaries)'],
    ['Forgejo', FORGEJO, 'Summary (Forgejo does not show job summaries)']
  ])('true on %s: the summary file, and the same Markdown in the log', async (_, env, title) => {
    const r = await run(refused(proxies.p1, 'true'), { env })
    expectExit(r, 1)
    expect(r.summary).toMatch(HEADING)
    expect(grouped(r.stdout, title)).toBe(r.summary.trimEnd())
  })

  test('true on GitHub: the file only', async () => {
    const r = await run(refused(proxies.p1, 'true'))
    expect(r.summary).toMatch(HEADING)
    expect(r.stdout).not.toMatch(/^::group::Summary/m)
  })

  test.each<[string, Record<string, string>]>([
    ['GitHub', {}],
    ['act', ACT],
    ['Forgejo', FORGEJO]
  ])('log on %s: the log only', async (_, env) => {
    const r = await run(refused(proxies.p1, 'log'), { env })
    expect(r.summary).toBe('')
    expect(grouped(r.stdout, 'Summary')).toMatch(HEADING)
  })

  test.each<[string, Record<string, string>]>([
    ['act', ACT],
    ['Forgejo', FORGEJO]
  ])('false on %s: neither', async (_, env) => {
    const r = await run(refused(proxies.p1, 'false'), { env })
    expect(r.summary).toBe('')
    expect(r.stdout).not.toMatch(/^::group::Summary/m)
    expect(r.stdout).toMatch(/^::error::/m)
  })
})
