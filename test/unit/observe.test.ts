/**
 * src/observe.ts against the in-memory registry of builders.ts: the new per-arch images (each checked
 * against the arch it claims to be: the image-truth check) and what the destinations serve now.
 * Against real registries: test/integration/security.test.ts ("image truth").
 */
import { Platform } from '../../src/arch'
import { ATTESTATION, MEDIA, sha256 } from '../../src/manifest'
import { imageRefs, observeCurrent, observeImages } from '../../src/observe'
import { repositoryOf } from '../../src/reference'
import type { Current } from '../../src/model'
import { absent, amd64, arm64, current, fakeDigest, FakeRegistry, image, inputs, list, unknownPlatform } from './builders'

jest.mock('../../src/log', () => ({ info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

const SOURCE = 'src.example/fedora'

/** Reads of `ref` from `reg` fail with `message`. */
function failing(reg: FakeRegistry, ref: string, message: string): FakeRegistry {
  reg.onRead = r => {
    if (r === ref) throw new Error(message)
  }
  return reg
}

const configReads = (reg: FakeRegistry) => reg.reads.filter(r => r.what === 'config')

describe('observeImages: each per-arch image, checked against the arch it claims to be', () => {
  const AMD = image(amd64)
  const ARM = image({ ...arm64, variant: 'v8' })

  test('single images and a per-arch list resolve to the image of that platform; no image is undefined', async () => {
    const other = image(amd64, { build: 'other' })
    const reg = new FakeRegistry()
      .put(SOURCE, AMD, ARM, other)
      .tag(`${SOURCE}:40-x86_64`, AMD.manifest)
      .tag(
        `${SOURCE}:40-aarch64`,
        list([
          { digest: ARM.digest, platform: arm64 },
          { digest: other.digest, platform: amd64 }
        ])
      )
    const { value: images, lines } = await observeImages(reg, inputs({ arches: ['x86_64', 'aarch64', 's390x'] }))
    expect(lines).toEqual([
      `x86_64: src.example/fedora:40-x86_64 is ${AMD.digest} (linux/amd64)`,
      `aarch64: src.example/fedora:40-aarch64 is ${ARM.digest} (linux/arm64/v8)`,
      's390x: no image at src.example/fedora:40-s390x'
    ])
    expect(Object.fromEntries(images)).toEqual({
      x86_64: { digest: AMD.digest, mediaType: MEDIA.ociManifest, platform: amd64, repository: SOURCE, attestations: [] },
      aarch64: {
        digest: ARM.digest,
        mediaType: MEDIA.ociManifest,
        platform: { ...arm64, variant: 'v8' },
        repository: SOURCE,
        attestations: []
      },
      s390x: undefined
    })
  })

  test('input "arch-images": each arch from its own reference (its repository is where it is read from); an arch without one has no image', async () => {
    const ref = `src.example/elsewhere/app@${AMD.digest}`
    const reg = new FakeRegistry().put('src.example/elsewhere/app', AMD)
    const { value: images, lines } = await observeImages(reg, inputs({ arches: ['x86_64', 'aarch64'], archImages: { x86_64: ref } }))
    expect(images.get('x86_64')).toMatchObject({ digest: AMD.digest, repository: 'src.example/elsewhere/app' })
    expect(images.get('aarch64')).toBeUndefined()
    expect(lines).toEqual([`x86_64: ${ref} is ${AMD.digest} (linux/amd64)`, 'aarch64: no image in input "arch-images"'])
  })

  test.each<[string, Record<string, string>, RegExp]>([
    [
      'another architecture',
      { os: 'linux', architecture: 'amd64' },
      /^The aarch64 image src\.example\/fedora:40-aarch64: it is published as aarch64 \(linux\/arm64\) but its config says linux\/amd64$/
    ],
    ['another os', { os: 'windows', architecture: 'arm64' }, /but its config says windows\/arm64$/],
    ['another variant', { os: 'linux', architecture: 'arm64', variant: 'v7' }, /but its config says linux\/arm64\/v7$/],
    ['no platform at all', {}, /but its config says nothing$/]
  ])('an image whose config says %s is refused, naming the arch', async (_name, cfg, message) => {
    const liar = image(cfg)
    const reg = new FakeRegistry().put(SOURCE, liar).tag(`${SOURCE}:40-aarch64`, liar.manifest)
    await expect(observeImages(reg, inputs({ arches: ['aarch64'] }))).rejects.toThrow(message)
  })

  test('a per-arch list without the platform, and a read error, name the arch and the tag', async () => {
    const reg = new FakeRegistry().put(SOURCE, AMD).tag(`${SOURCE}:40-aarch64`, list([{ digest: AMD.digest, platform: amd64 }]))
    failing(reg, `${SOURCE}:40-x86_64`, 'unauthorized: authentication required')
    await expect(observeImages(reg, inputs({ arches: ['aarch64'] }))).rejects.toThrow(
      /^The aarch64 image src\.example\/fedora:40-aarch64: it is a list without a linux\/arm64 image/
    )
    await expect(observeImages(reg, inputs({ arches: ['x86_64'] }))).rejects.toThrow(
      /^The x86_64 image src\.example\/fedora:40-x86_64: unauthorized: authentication required/
    )
  })
})

describe('observeImages: an image a destination already serves as that platform needs no config read', () => {
  const AMD = image(amd64)
  const listed = (digest: string, platform: Platform): Current =>
    current('dst.example/fedora:40', [{ digest, platform }], { digest: fakeDigest('9') })
  /** The registry of the sources, its x86_64 tag on `img`. */
  const tagged = (img = AMD): FakeRegistry => new FakeRegistry().put(SOURCE, img).tag(`${SOURCE}:40-x86_64`, img.manifest)

  test('listed under the platform it claims: its config is not read, and the line says whose word it is', async () => {
    const reg = tagged()
    const { value: images, lines } = await observeImages(reg, inputs({ arches: ['x86_64'] }), Promise.resolve([listed(AMD.digest, amd64)]))
    expect(configReads(reg)).toEqual([])
    expect(images.get('x86_64')).toMatchObject({ digest: AMD.digest, platform: amd64 })
    expect(lines).toEqual([`x86_64: src.example/fedora:40-x86_64 is ${AMD.digest} (linux/amd64, as dst.example/fedora:40 lists it)`])
  })

  test('listed under another platform: the config is read, and the image-truth check still refuses a liar', async () => {
    const liar = image(arm64)
    const reg = tagged(liar)
    await expect(observeImages(reg, inputs({ arches: ['x86_64'] }), Promise.resolve([listed(liar.digest, arm64)]))).rejects.toThrow(
      /published as x86_64 \(linux\/amd64\) but its config says linux\/arm64$/
    )
    expect(configReads(reg)).toHaveLength(1)
  })

  test('an image that fails before the current lists fail leaves no rejection unhandled', async () => {
    const reg = failing(new FakeRegistry(), `${SOURCE}:40-x86_64`, 'unauthorized: authentication required')
    let fail: (e: Error) => void = () => undefined
    const reading = new Promise<Current[]>((_resolve, reject) => (fail = reject))
    reading.catch(() => undefined) // the reader's own handler; what is passed on is derived, as in publish
    const unhandled = jest.fn()
    process.on('unhandledRejection', unhandled)
    try {
      await expect(
        observeImages(
          reg,
          inputs({ arches: ['x86_64'] }),
          reading.then(c => c)
        )
      ).rejects.toThrow('unauthorized')
      fail(new Error('connection refused'))
      await new Promise(resolve => setTimeout(resolve, 20))
    } finally {
      process.off('unhandledRejection', unhandled)
    }
    expect(unhandled).not.toHaveBeenCalled()
  })

  test('a failed read of the current lists leaves it to its own reader: the config is read', async () => {
    const reg = tagged()
    const failed = Promise.reject(new Error('connection refused'))
    const { value: images } = await observeImages(reg, inputs({ arches: ['x86_64'] }), failed)
    expect(images.get('x86_64')).toMatchObject({ platform: amd64 })
    expect(configReads(reg)).toHaveLength(1)
    await expect(failed).rejects.toThrow('connection refused')
  })
})

describe('observeCurrent: what every destination serves, read afresh', () => {
  const A = 'a.example/fedora:40'
  const B = 'b.example:5000/fedora:40'
  const C = 'c.example/fedora:40'

  test('a list, a single image (a list of one, its platform from the config), nothing', async () => {
    const single = image(arm64)
    const served = list([{ digest: fakeDigest('5'), platform: amd64 }], { annotations: { k: 'v' } })
    const reg = new FakeRegistry().put('b.example:5000/fedora', single).tag(A, served).tag(B, single.manifest)
    const { value: now, lines } = await observeCurrent(reg, [A, B, C])
    expect(lines).toEqual([
      `${A}: serves ${sha256(served)} (linux/amd64)`,
      `${B}: serves ${single.digest} (linux/arm64)`,
      `${C}: no list yet`
    ])
    expect(now).toEqual([
      {
        ref: A,
        repository: 'a.example/fedora',
        exists: true,
        digest: sha256(served),
        mediaType: MEDIA.ociIndex,
        isList: true,
        entries: [{ platform: amd64, digest: fakeDigest('5'), mediaType: MEDIA.ociManifest }],
        attestations: [],
        annotations: { k: 'v' }
      },
      {
        ref: B,
        repository: 'b.example:5000/fedora',
        exists: true,
        digest: single.digest,
        mediaType: MEDIA.ociManifest,
        isList: false,
        entries: [{ platform: arm64, digest: single.digest, mediaType: MEDIA.ociManifest }],
        attestations: [],
        annotations: {}
      },
      { ref: C, repository: 'c.example/fedora', exists: false }
    ])
    for (const ref of [A, B, C]) expect(reg.reads).toContainEqual({ what: 'fresh manifest', ref })
  })

  test('the line names every platform a list serves', async () => {
    const served = list([
      { digest: fakeDigest('5'), platform: amd64 },
      { digest: fakeDigest('6'), platform: arm64 }
    ])
    const { lines } = await observeCurrent(new FakeRegistry().tag(A, served), [A])
    expect(lines).toEqual([`${A}: serves ${sha256(served)} (linux/amd64, linux/arm64)`])
  })

  test('a destination that cannot be read: nothing is published', async () => {
    const reg = failing(new FakeRegistry(), A, 'connection refused')
    await expect(observeCurrent(reg, [A])).rejects.toThrow(`Reading the current ${A}: connection refused; nothing was published`)
  })

  test('repositoryOf: a port is not a tag', () => {
    expect(repositoryOf(B)).toBe('b.example:5000/fedora')
  })
})

describe('imageRefs: every image the run reads from', () => {
  test('each repository at the per-arch tag of each arch, from the per-arch registry', () => {
    expect(imageRefs(inputs({ repos: ['fedora', 'team/fedora'], arches: ['x86_64', 'aarch64'], archTag: '{arch}-{tag}' }))).toEqual([
      'src.example/fedora:x86_64-40',
      'src.example/fedora:aarch64-40',
      'src.example/team/fedora:x86_64-40',
      'src.example/team/fedora:aarch64-40'
    ])
  })

  test('input "arch-images": its references only', () => {
    const archImages = { x86_64: 'a.example/app@sha256:1', aarch64: 'b.example/app:arm' }
    expect(imageRefs(inputs({ arches: ['x86_64', 'aarch64', 's390x'], archImages }))).toEqual([
      'a.example/app@sha256:1',
      'b.example/app:arm'
    ])
  })
})

describe('observeImages: attestations and the current lists', () => {
  const AMD = image(amd64)
  const ARM = image(arm64)
  const attests = (digest: string, subject: string) => ({
    digest,
    platform: unknownPlatform,
    annotations: { [ATTESTATION.type]: ATTESTATION.kind, [ATTESTATION.subject]: subject }
  })

  test("a per-arch list's attestations of the chosen image come with it, and the line counts them", async () => {
    const [mine, other] = [fakeDigest('a'), fakeDigest('b')]
    const reg = new FakeRegistry()
      .put(SOURCE, AMD, ARM)
      .tag(
        `${SOURCE}:40-x86_64`,
        list([
          { digest: AMD.digest, platform: amd64 },
          { digest: ARM.digest, platform: arm64 },
          attests(mine, AMD.digest),
          attests(other, ARM.digest)
        ])
      )
    const { value: images, lines } = await observeImages(reg, inputs({ arches: ['x86_64'] }))
    expect(images.get('x86_64')?.attestations).toEqual([
      { digest: mine, mediaType: MEDIA.ociManifest, subject: AMD.digest, annotations: attests(mine, AMD.digest).annotations }
    ])
    expect(lines).toEqual([`x86_64: src.example/fedora:40-x86_64 is ${AMD.digest} (linux/amd64), with 1 attestation(s)`])
  })

  test('only a list naming this very digest saves the config read; an absent destination names nothing', async () => {
    const reg = new FakeRegistry().put(SOURCE, AMD).tag(`${SOURCE}:40-x86_64`, AMD.manifest)
    const served = [absent('dst.example/fedora:40'), current('dst.example/fedora:40', [{ digest: fakeDigest('9'), platform: amd64 }])]
    const { lines } = await observeImages(reg, inputs({ arches: ['x86_64'] }), Promise.resolve(served))
    expect(configReads(reg)).toEqual([{ what: 'config', ref: `${SOURCE}@${AMD.digest}` }])
    expect(lines).toEqual([`x86_64: src.example/fedora:40-x86_64 is ${AMD.digest} (linux/amd64)`])
  })

  test('the platform a list names is the one kept (its variant included)', async () => {
    const v8 = { ...arm64, variant: 'v8' }
    const armV8 = image(v8)
    const reg = new FakeRegistry().put(SOURCE, armV8).tag(`${SOURCE}:40-aarch64`, armV8.manifest)
    const served = [current('dst.example/fedora:40', [{ digest: armV8.digest, platform: v8 }])]
    const { value: images, lines } = await observeImages(reg, inputs({ arches: ['aarch64'] }), Promise.resolve(served))
    expect(images.get('aarch64')?.platform).toEqual(v8)
    expect(configReads(reg)).toEqual([])
    expect(lines).toEqual([`aarch64: src.example/fedora:40-aarch64 is ${armV8.digest} (linux/arm64/v8, as dst.example/fedora:40 lists it)`])
  })
})
