import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import type { Platform } from '../../src/arch'
import * as log from '../../src/log'
import { LocalLayout } from '../../src/layout'
import { MEDIA } from '../../src/manifest'
import type { Current, Entry, PlannedAttestation } from '../../src/model'
import { buildLocalList, imagesGoAhead, stage, stageImages } from '../../src/stage'
import { absent, amd64, arm64, current, entry, FakeBuildah, FakeRegistry, image, planOf, s390x, unknownPlatform } from './builders'

jest.mock('../../src/log', () => ({ info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

const REPOSITORY = 'r.example/x'
const [AMD, ARM, S390] = [image(amd64), image(arm64), image(s390x)]
/** An attestation manifest (buildx provenance) of the x86_64 image. */
const ATT = image({}, { build: 'provenance' })
const from = (arch: string, platform: Platform, digest: string, kept = false): Entry =>
  entry(arch, platform, digest, { repository: REPOSITORY, kept })
const attestation: PlannedAttestation = {
  arch: 'x86_64',
  ref: `${REPOSITORY}@${ATT.digest}`,
  digest: ATT.digest,
  mediaType: MEDIA.ociManifest,
  subject: AMD.digest,
  annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': AMD.digest }
}

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

  test('the log says what is copied where, and what the destination then has', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD)
    jest.mocked(log.info).mockClear()
    await stageImages(registry, registry, planOf([from('x86_64', amd64, AMD.digest)]), ['dst.example/x:1'], [])
    expect(jest.mocked(log.info).mock.calls).toEqual([
      [`Copying x86_64 ${REPOSITORY}@${AMD.digest} to dst.example/x`],
      [`x86_64: dst.example/x has ${AMD.digest}`]
    ])
  })
})

describe('buildLocalList: attestations', () => {
  test('each attestation is added after the images, with the unknown platform and its annotations', async () => {
    const buildah = new FakeBuildah(new FakeRegistry().put(REPOSITORY, AMD, ATT))
    await buildLocalList(buildah, 'localhost/l', planOf([from('x86_64', amd64, AMD.digest)], { attestations: [attestation] }), {})
    expect(buildah.adds).toEqual([
      { name: 'localhost/l', ref: `${REPOSITORY}@${AMD.digest}`, platform: amd64 },
      { name: 'localhost/l', ref: attestation.ref, platform: unknownPlatform }
    ])
    expect(buildah.lists.get('localhost/l')?.entries[1]).toMatchObject({ digest: ATT.digest, annotations: attestation.annotations })
  })
})

describe('stageImages: every item into every repository that does not have it', () => {
  const plan = planOf([from('x86_64', amd64, AMD.digest), from('aarch64', arm64, ARM.digest)], { attestations: [attestation] })
  const copied = (registry: FakeRegistry): string[] => registry.copies.map(c => `${c.from} -> ${c.to}`).sort()

  test('images and attestations, by digest, once per repository however many tags name it', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD, ARM, ATT)
    await stageImages(registry, registry, plan, ['dst.example/x:1', 'dst.example/x:latest', 'other.example/y:1'], [])
    expect(copied(registry)).toEqual(
      [
        ...['dst.example/x', 'other.example/y'].flatMap(to => [AMD, ARM, ATT].map(i => `${REPOSITORY}@${i.digest} -> ${to}@${i.digest}`))
      ].sort()
    )
  })

  test('a repository has an item where it was read from, or where a list it serves names it (entries and attestations)', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD, ARM, ATT)
    const serving: Current[] = [
      current('dst.example/x:1', [{ digest: AMD.digest, platform: amd64 }], {
        attestations: [{ digest: ATT.digest, mediaType: MEDIA.ociManifest, subject: AMD.digest, annotations: {} }]
      }),
      // A list that names the images in another repository says nothing of this one.
      current('third.example/z:1', [{ digest: ARM.digest, platform: arm64 }]),
      absent('other.example/y:1')
    ]
    await stageImages(registry, registry, plan, [`${REPOSITORY}:1`, 'dst.example/x:1', 'other.example/y:1'], serving)
    expect(copied(registry)).toEqual(
      [
        `${REPOSITORY}@${ARM.digest} -> dst.example/x@${ARM.digest}`,
        ...[AMD, ARM, ATT].map(i => `${REPOSITORY}@${i.digest} -> other.example/y@${i.digest}`)
      ].sort()
    )
  })

  test('every failure is named, by item and repository, and each copy is tried', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD, ARM, ATT)
    registry.onCopy = to => {
      if (!to.endsWith(AMD.digest)) throw new Error(`copy to ${to} failed`)
    }
    await expect(stageImages(registry, registry, plan, ['dst.example/x:1'], [])).rejects.toThrow(
      new Error(
        'Staging failed, nothing was published: ' +
          `aarch64 into dst.example/x: copy to dst.example/x@${ARM.digest} failed; ` +
          `x86_64 attestation into dst.example/x: copy to dst.example/x@${ATT.digest} failed`
      )
    )
    expect(registry.copies).toHaveLength(3)
  })

  test('a copy that lands under another digest fails staging, naming what is served', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD)
    registry.copy = async (source: string, target: string) => {
      registry.copies.push({ from: source, to: target, indexOnly: false })
      registry.put('dst.example/x', ARM)
    }
    // The reader answers for the target with the digest of what the registry stored.
    const reader = new FakeRegistry()
    reader.digest = async () => ARM.digest
    await expect(stageImages(registry, reader, planOf([from('x86_64', amd64, AMD.digest)]), ['dst.example/x:1'], [])).rejects.toThrow(
      `x86_64 into dst.example/x: after the copy dst.example/x serves ${ARM.digest} for ${AMD.digest}`
    )
  })
})

describe('stage: both halves, side by side', () => {
  let parent: string
  beforeEach(() => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-stage-'))
  })
  afterEach(() => fs.rmSync(parent, { recursive: true, force: true }))

  const run = (
    registry: FakeRegistry,
    buildah: FakeBuildah,
    o: { format?: 'oci' | 'v2s2'; layout?: LocalLayout; current?: Current[] } = {}
  ) =>
    stage({
      skopeo: registry,
      reader: registry,
      buildah,
      plan: planOf([from('x86_64', amd64, AMD.digest), from('aarch64', arm64, ARM.digest)]),
      refs: ['dst.example/x:1'],
      current: o.current ?? [],
      listName: 'localhost/l',
      format: o.format ?? 'oci',
      annotations: {},
      layout: o.layout
    })

  test('images that go ahead are copied while the list is built', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD, ARM)
    const buildah = new FakeBuildah(registry)
    await run(registry, buildah)
    expect(registry.copies.map(c => c.to)).toEqual([`dst.example/x@${AMD.digest}`, `dst.example/x@${ARM.digest}`])
    expect(buildah.adds).toHaveLength(2)
  })

  test('images the format converts are not copied: they travel with the list at commit', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD, ARM)
    const buildah = new FakeBuildah(registry)
    await run(registry, buildah, { format: 'v2s2' })
    expect(registry.copies).toEqual([])
    expect(buildah.adds).toHaveLength(2)
  })

  test('a failed copy fails the stage, once the list is built', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD, ARM)
    registry.onCopy = () => {
      throw new Error('denied')
    }
    const buildah = new FakeBuildah(registry)
    await expect(run(registry, buildah)).rejects.toThrow(/^Staging failed, nothing was published: x86_64 into dst\.example\/x: denied/)
    expect(buildah.adds).toHaveLength(2)
  })

  test('a local list that is not the plan fails the stage, once the copies are done', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD, ARM)
    const buildah = new FakeBuildah(registry)
    buildah.holds = []
    await expect(run(registry, buildah)).rejects.toThrow(/^Refusing to push: /)
    expect(registry.copies).toHaveLength(2)
  })

  test('an image gone before the layout has it is named', async () => {
    const registry = new FakeRegistry().put(REPOSITORY, AMD)
    // The destination has it already, so only the layout reads it.
    const served = [current('dst.example/x:1', [{ digest: ARM.digest, platform: arm64 }])]
    await expect(run(registry, new FakeBuildah(registry), { layout: LocalLayout.create(parent), current: served })).rejects.toThrow(
      `${REPOSITORY}@${ARM.digest} disappeared while it was being read`
    )
  })
})
