/**
 * src/observe.ts with a fake skopeo: the new per-arch images (each checked against the arch it claims
 * to be: the image-truth check) and what the destinations serve now. Against real registries:
 * test/integration/security.test.ts ("image truth").
 */
import { ArchTable, Platform } from '../../src/arch'
import type { Inputs } from '../../src/inputs'
import { MEDIA, sha256 } from '../../src/manifest'
import { observeCurrent, observeImages } from '../../src/observe'
import { repositoryOf } from '../../src/reference'
import type { Current } from '../../src/model'
import type { Skopeo } from '../../src/skopeo'

jest.mock('../../src/log', () => ({ info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

const digest = (c: string): string => `sha256:${c.repeat(64)}`
const amd64: Platform = { os: 'linux', architecture: 'amd64' }
const arm64: Platform = { os: 'linux', architecture: 'arm64' }

const image = (config: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
      layers: []
    })
  )
const config = (p: Platform | Record<string, string>): Buffer =>
  Buffer.from(JSON.stringify({ ...p, rootfs: { type: 'layers', diff_ids: [] } }))
const index = (manifests: Array<{ digest: string; platform: Platform }>): Buffer =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: manifests.map(m => ({ mediaType: MEDIA.ociManifest, size: 100, ...m }))
    })
  )

/** A skopeo reading from `manifests` and `configs` (by ref); anything else does not exist. An Error is thrown. */
function fakeSkopeo(manifests: Record<string, Buffer | Error>, configs: Record<string, Buffer> = {}) {
  const fake = {
    manifest: jest.fn(async (ref: string) => {
      const m = manifests[ref]
      if (m instanceof Error) throw m
      return m ?? null
    }),
    config: jest.fn(async (ref: string) => {
      if (!configs[ref]) throw new Error(`${ref} disappeared while it was being read`)
      return configs[ref]
    })
  }
  return fake as typeof fake & Skopeo
}

const inputs = (arches: string[]): Inputs =>
  ({
    repo: 'fedora',
    tag: '40',
    arches,
    archTagRegistry: 'src.example',
    archTag: '{tag}-{arch}',
    archTable: new ArchTable(),
    archImages: {}
  }) as unknown as Inputs

describe('observeImages: each per-arch image, checked against the arch it claims to be', () => {
  const AMD = image(digest('1'))
  const ARM = image(digest('2'))

  test('single images and a per-arch list resolve to the image of that platform; no image is undefined', async () => {
    const other = image(digest('3'))
    const skopeo = fakeSkopeo(
      {
        'src.example/fedora:40-x86_64': AMD,
        'src.example/fedora:40-aarch64': index([
          { digest: sha256(ARM), platform: arm64 },
          { digest: sha256(other), platform: amd64 }
        ])
      },
      { [`src.example/fedora@${sha256(AMD)}`]: config(amd64), [`src.example/fedora@${sha256(ARM)}`]: config({ ...arm64, variant: 'v8' }) }
    )
    const { value: images, lines } = await observeImages(skopeo, inputs(['x86_64', 'aarch64', 's390x']))
    expect(lines).toEqual([
      `x86_64: src.example/fedora:40-x86_64 is ${sha256(AMD)} (linux/amd64)`,
      `aarch64: src.example/fedora:40-aarch64 is ${sha256(ARM)} (linux/arm64/v8)`,
      's390x: no image at src.example/fedora:40-s390x'
    ])
    expect(Object.fromEntries(images)).toEqual({
      x86_64: { digest: sha256(AMD), mediaType: MEDIA.ociManifest, platform: amd64, repository: 'src.example/fedora', attestations: [] },
      aarch64: {
        digest: sha256(ARM),
        mediaType: MEDIA.ociManifest,
        platform: { ...arm64, variant: 'v8' },
        repository: 'src.example/fedora',
        attestations: []
      },
      s390x: undefined
    })
  })

  test('input "arch-images": each arch from its own reference (its repository is where it is read from); an arch without one has no image', async () => {
    const ref = `src.example/elsewhere/app@${sha256(AMD)}`
    const skopeo = fakeSkopeo({ [ref]: AMD }, { [`src.example/elsewhere/app@${sha256(AMD)}`]: config(amd64) })
    const { value: images, lines } = await observeImages(skopeo, {
      ...inputs(['x86_64', 'aarch64']),
      archImages: { x86_64: ref }
    } as Inputs)
    expect(images.get('x86_64')).toMatchObject({ digest: sha256(AMD), repository: 'src.example/elsewhere/app' })
    expect(images.get('aarch64')).toBeUndefined()
    expect(lines).toEqual([`x86_64: ${ref} is ${sha256(AMD)} (linux/amd64)`, 'aarch64: no image in input "arch-images"'])
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
    const skopeo = fakeSkopeo({ 'src.example/fedora:40-aarch64': ARM }, { [`src.example/fedora@${sha256(ARM)}`]: config(cfg) })
    await expect(observeImages(skopeo, inputs(['aarch64']))).rejects.toThrow(message)
  })

  test('a per-arch list without the platform, and a read error, name the arch and the tag', async () => {
    const skopeo = fakeSkopeo({
      'src.example/fedora:40-aarch64': index([{ digest: sha256(AMD), platform: amd64 }]),
      'src.example/fedora:40-x86_64': new Error('unauthorized: authentication required')
    })
    await expect(observeImages(skopeo, inputs(['aarch64']))).rejects.toThrow(
      /^The aarch64 image src\.example\/fedora:40-aarch64: it is a list without a linux\/arm64 image/
    )
    await expect(observeImages(skopeo, inputs(['x86_64']))).rejects.toThrow(
      /^The x86_64 image src\.example\/fedora:40-x86_64: unauthorized: authentication required/
    )
  })
})

describe('observeImages: an image a destination already serves as that platform needs no config read', () => {
  const AMD = image(digest('1'))
  const listed = (platform: Platform): Current => ({
    ref: 'dst.example/fedora:40',
    repository: 'dst.example/fedora',
    exists: true,
    digest: digest('9'),
    mediaType: MEDIA.ociIndex,
    isList: true,
    entries: [{ digest: sha256(AMD), platform, mediaType: MEDIA.ociManifest }],
    attestations: [],
    annotations: {}
  })

  test('listed under the platform it claims: its config is not read, and the line says whose word it is', async () => {
    const skopeo = fakeSkopeo({ 'src.example/fedora:40-x86_64': AMD })
    const { value: images, lines } = await observeImages(skopeo, inputs(['x86_64']), Promise.resolve([listed(amd64)]))
    expect(skopeo.config).not.toHaveBeenCalled()
    expect(images.get('x86_64')).toMatchObject({ digest: sha256(AMD), platform: amd64 })
    expect(lines).toEqual([`x86_64: src.example/fedora:40-x86_64 is ${sha256(AMD)} (linux/amd64, as dst.example/fedora:40 lists it)`])
  })

  test('listed under another platform: the config is read, and the image-truth check still refuses a liar', async () => {
    const skopeo = fakeSkopeo({ 'src.example/fedora:40-x86_64': AMD }, { [`src.example/fedora@${sha256(AMD)}`]: config(arm64) })
    await expect(observeImages(skopeo, inputs(['x86_64']), Promise.resolve([listed(arm64)]))).rejects.toThrow(
      /published as x86_64 \(linux\/amd64\) but its config says linux\/arm64$/
    )
    expect(skopeo.config).toHaveBeenCalledTimes(1)
  })

  test('an image that fails before the current lists fail leaves no rejection unhandled', async () => {
    const skopeo = fakeSkopeo({ 'src.example/fedora:40-x86_64': new Error('unauthorized: authentication required') })
    let fail: (e: Error) => void = () => undefined
    const reading = new Promise<Current[]>((_resolve, reject) => (fail = reject))
    reading.catch(() => undefined) // the reader's own handler; what is passed on is derived, as in publish
    const unhandled = jest.fn()
    process.on('unhandledRejection', unhandled)
    try {
      await expect(
        observeImages(
          skopeo,
          inputs(['x86_64']),
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
    const skopeo = fakeSkopeo({ 'src.example/fedora:40-x86_64': AMD }, { [`src.example/fedora@${sha256(AMD)}`]: config(amd64) })
    const failed = Promise.reject(new Error('connection refused'))
    const { value: images } = await observeImages(skopeo, inputs(['x86_64']), failed)
    expect(images.get('x86_64')).toMatchObject({ platform: amd64 })
    expect(skopeo.config).toHaveBeenCalledTimes(1)
    await expect(failed).rejects.toThrow('connection refused')
  })
})

describe('observeCurrent: what every destination serves, read afresh', () => {
  const A = 'a.example/fedora:40'
  const B = 'b.example:5000/fedora:40'
  const C = 'c.example/fedora:40'

  test('a list, a single image (a list of one, its platform from the config), nothing', async () => {
    const single = image(digest('4'))
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.ociIndex,
        manifests: [{ mediaType: MEDIA.ociManifest, size: 100, digest: digest('5'), platform: amd64 }],
        annotations: { k: 'v' }
      })
    )
    const skopeo = fakeSkopeo({ [A]: list, [B]: single }, { [`b.example:5000/fedora@${sha256(single)}`]: config(arm64) })
    const { value: current, lines } = await observeCurrent(skopeo, [A, B, C])
    expect(lines).toEqual([
      `${A}: serves ${sha256(list)} (linux/amd64)`,
      `${B}: serves ${sha256(single)} (linux/arm64)`,
      `${C}: no list yet`
    ])
    expect(current).toEqual([
      {
        ref: A,
        repository: 'a.example/fedora',
        exists: true,
        digest: sha256(list),
        mediaType: MEDIA.ociIndex,
        isList: true,
        entries: [{ platform: amd64, digest: digest('5'), mediaType: MEDIA.ociManifest }],
        attestations: [],
        annotations: { k: 'v' }
      },
      {
        ref: B,
        repository: 'b.example:5000/fedora',
        exists: true,
        digest: sha256(single),
        mediaType: MEDIA.ociManifest,
        isList: false,
        entries: [{ platform: arm64, digest: sha256(single), mediaType: MEDIA.ociManifest }],
        attestations: [],
        annotations: {}
      },
      { ref: C, repository: 'c.example/fedora', exists: false }
    ])
    for (const ref of [A, B, C]) expect(skopeo.manifest).toHaveBeenCalledWith(ref, { fresh: true })
  })

  test('a destination that cannot be read: nothing is published', async () => {
    const skopeo = fakeSkopeo({ [A]: new Error('connection refused') })
    await expect(observeCurrent(skopeo, [A])).rejects.toThrow(`Reading the current ${A}: connection refused; nothing was published`)
  })

  test('repositoryOf: a port is not a tag', () => {
    expect(repositoryOf(B)).toBe('b.example:5000/fedora')
  })
})
