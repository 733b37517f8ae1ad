import type { Platform } from '../../src/arch'
import { MEDIA } from '../../src/manifest'
import type { Entry } from '../../src/model'
import { buildLocalList, imagesGoAhead, stageImages } from '../../src/stage'
import { amd64, arm64, entry, FakeBuildah, FakeRegistry, image, planOf, s390x } from './builders'

const REPOSITORY = 'r.example/x'
const [AMD, ARM, S390] = [image(amd64), image(arm64), image(s390x)]
const from = (arch: string, platform: Platform, digest: string, kept = false): Entry =>
  entry(arch, platform, digest, { repository: REPOSITORY, kept })

/** A buildah whose images come from a registry holding every image above. */
const fakeBuildah = (): FakeBuildah => new FakeBuildah(new FakeRegistry().put(REPOSITORY, AMD, ARM, S390))

describe('buildLocalList', () => {
  const p = planOf([from('x86_64', amd64, AMD.digest), from('aarch64', arm64, ARM.digest)])

  test('creates the list empty, adds each entry by digest with its platform, in plan order', async () => {
    const buildah = fakeBuildah()
    await buildLocalList(buildah, 'localhost/l', p, { k: 'v' })
    expect(buildah.creates).toEqual([{ name: 'localhost/l', annotations: { k: 'v' }, images: [] }])
    expect(buildah.adds).toEqual([
      { name: 'localhost/l', ref: `r.example/x@${AMD.digest}`, platform: amd64 },
      { name: 'localhost/l', ref: `r.example/x@${ARM.digest}`, platform: arm64 }
    ])
  })

  test('where buildah can, the new images go in with the create; kept ones are added with their platform', async () => {
    const buildah = fakeBuildah()
    buildah.together = true
    await buildLocalList(
      buildah,
      'localhost/l',
      planOf([from('x86_64', amd64, AMD.digest), from('aarch64', arm64, ARM.digest), from('s390x', s390x, S390.digest, true)]),
      {}
    )
    expect(buildah.creates).toEqual([
      { name: 'localhost/l', annotations: {}, images: [`r.example/x@${AMD.digest}`, `r.example/x@${ARM.digest}`] }
    ])
    expect(buildah.adds).toEqual([{ name: 'localhost/l', ref: `r.example/x@${S390.digest}`, platform: s390x }])
  })

  test.each<[string, Array<{ digest: string; platform?: Platform }>]>([
    ['an entry lost (parallel adds before 1.35)', [{ digest: AMD.digest, platform: amd64 }]],
    ['empty (a failed create with images)', []],
    [
      'a stray entry',
      [
        { digest: AMD.digest, platform: amd64 },
        { digest: ARM.digest, platform: arm64 },
        { digest: S390.digest, platform: s390x }
      ]
    ]
  ])('refuses to go on when the local list is not the plan: %s', async (_, holds) => {
    const buildah = fakeBuildah()
    buildah.holds = holds
    await expect(buildLocalList(buildah, 'localhost/l', p, {})).rejects.toThrow(
      new RegExp(
        `^Refusing to push: the local list holds \\[.*\\] but the plan is \\[linux/amd64@${AMD.digest}, linux/arm64@${ARM.digest}\\]$`
      )
    )
  })
})

describe('imagesGoAhead', () => {
  test.each<[string, string[], 'oci' | 'v2s2', boolean]>([
    ['OCI images into an OCI index', [MEDIA.ociManifest, MEDIA.ociManifest], 'oci', true],
    ['Docker images into a Docker list', [MEDIA.dockerManifest, MEDIA.dockerManifest], 'v2s2', true],
    ['OCI images into a Docker list: converted by push --all', [MEDIA.ociManifest, MEDIA.dockerManifest], 'v2s2', false]
  ])('%s', (_, media, format, expected) => {
    const entries = media.map((mediaType, i) => entry(`a${i}`, { os: 'linux', architecture: `arch${i}` }, `sha256:${i}`, { mediaType }))
    expect(imagesGoAhead(planOf(entries), format)).toBe(expected)
  })
})

describe('stageImages: each copy is read back before the list may name it', () => {
  const plan = planOf([from('x86_64', amd64, AMD.digest), from('aarch64', arm64, ARM.digest)])

  test('a copy the destination acknowledged but does not serve fails staging, naming the image', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD, ARM)
    // A registry that answers 201 to the manifest PUT and loses it: the copy "succeeds".
    registry.copy = async (source: string, target: string) => void registry.copies.push({ from: source, to: target, indexOnly: false })
    await expect(stageImages(registry, registry, plan, ['dst.example/x:1'], [])).rejects.toThrow(
      `after the copy dst.example/x serves nothing for ${AMD.digest}`
    )
  })

  test('copies that land pass, each read back by digest', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD, ARM)
    await stageImages(registry, registry, plan, ['dst.example/x:1'], [])
    expect(registry.reads.filter(r => r.what === 'digest').map(r => r.ref)).toEqual([
      `dst.example/x@${AMD.digest}`,
      `dst.example/x@${ARM.digest}`
    ])
  })
})
