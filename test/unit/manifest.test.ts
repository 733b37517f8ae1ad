import { createHash } from 'crypto'
import { Platform } from '../../src/arch'
import { configPlatform, FORMAT_MEDIA, Manifest, MEDIA, parseManifest, pickEntry, sha256 } from '../../src/manifest'

const D = (c: string): string => `sha256:${c.repeat(64)}`

const ociIndex = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('1'), size: 500, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('2'), size: 501, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }
  ],
  annotations: { 'org.opencontainers.image.source': 'https://example.org/x' }
}

const dockerList = {
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifests: [
    { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: D('3'), size: 428, platform: { architecture: 'ppc64le', os: 'linux' } },
    { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: D('4'), size: 428, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } }
  ]
}

const singleImage = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('c'), size: 300 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D('d'), size: 1000 }]
}

/** What `docker buildx build --provenance` pushes for one platform: the image plus an attestation manifest. */
const buildxIndex = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('5'), size: 673, platform: { architecture: 'arm64', os: 'linux' } },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: D('6'),
      size: 566,
      annotations: { 'vnd.docker.reference.digest': D('5'), 'vnd.docker.reference.type': 'attestation-manifest' },
      platform: { architecture: 'unknown', os: 'unknown' }
    },
    // An attestation with a real-looking platform is still not a platform entry.
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: D('7'),
      size: 566,
      annotations: { 'vnd.docker.reference.digest': D('5'), 'vnd.docker.reference.type': 'attestation-manifest' },
      platform: { architecture: 'arm64', os: 'linux' }
    },
    // No platform at all (an artifact): not a platform entry either.
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('8'), size: 100 }
  ]
}

const raw = (doc: unknown, indent?: number): Buffer => Buffer.from(JSON.stringify(doc, null, indent))

describe('sha256', () => {
  test.each<[string | Buffer, string]>([
    ['', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [Buffer.from('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad']
  ])('of %j', (input, digest) => {
    expect(sha256(input)).toBe(digest)
  })
})

describe('parseManifest', () => {
  test('an OCI index', () => {
    const bytes = raw(ociIndex)
    const m = parseManifest(bytes)
    expect(m).toEqual({
      digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      mediaType: MEDIA.ociIndex,
      isList: true,
      entries: ociIndex.manifests,
      annotations: { 'org.opencontainers.image.source': 'https://example.org/x' },
      size: bytes.length
    })
  })

  test('a Docker manifest list', () => {
    const m = parseManifest(raw(dockerList))
    expect(m.mediaType).toBe(MEDIA.dockerList)
    expect(m.isList).toBe(true)
    expect(m.entries.map(e => e.digest)).toEqual([D('3'), D('4')])
    expect(m.entries[1].platform).toEqual({ architecture: 'arm', os: 'linux', variant: 'v7' })
    expect(m.annotations).toEqual({})
  })

  test('a single image', () => {
    const bytes = raw(singleImage)
    expect(parseManifest(bytes)).toEqual({ digest: sha256(bytes), mediaType: MEDIA.ociManifest, isList: false, entries: [], annotations: {}, size: bytes.length })
  })

  test('a Docker v2s2 image', () => {
    const m = parseManifest(raw({ ...singleImage, mediaType: MEDIA.dockerManifest }))
    expect(m.mediaType).toBe(MEDIA.dockerManifest)
    expect(m.isList).toBe(false)
  })

  test.each<[string, object, string, boolean]>([
    ['an index without mediaType is an OCI index', { schemaVersion: 2, manifests: [] }, MEDIA.ociIndex, true],
    ['a manifest without mediaType is an OCI manifest', { schemaVersion: 2, config: {}, layers: [] }, MEDIA.ociManifest, false]
  ])('%s', (_, doc, mediaType, isList) => {
    expect(parseManifest(raw(doc))).toMatchObject({ mediaType, isList, entries: [] })
  })

  test('attestations, unknown/unknown and platform-less entries are left out', () => {
    const m = parseManifest(raw(buildxIndex))
    expect(m.isList).toBe(true)
    expect(m.entries).toEqual([buildxIndex.manifests[0]])
  })

  test('the digest is of the raw bytes, not of the JSON they hold', () => {
    const compact = raw(ociIndex)
    const pretty = raw(ociIndex, 3)
    const a = parseManifest(compact)
    const b = parseManifest(pretty)
    expect(a.entries).toEqual(b.entries)
    expect(a.digest).not.toBe(b.digest)
    expect(b.digest).toBe(sha256(pretty))
    expect(b.size).toBe(pretty.length)
    // Non-ASCII: size and digest count bytes, not characters.
    const unicode = Buffer.from(JSON.stringify({ ...ociIndex, annotations: { title: 'Fedora – Ünïcode' } }))
    const u = parseManifest(unicode)
    expect(u.size).toBe(unicode.length)
    expect(u.size).toBeGreaterThan(unicode.toString('utf8').length)
    expect(u.digest).toBe(`sha256:${createHash('sha256').update(unicode).digest('hex')}`)
  })

  test.each<[string, Buffer, string]>([
    ['not JSON', Buffer.from('<html>502 Bad Gateway</html>'), 'the registry served a manifest that is not JSON'],
    ['empty', Buffer.from(''), 'the registry served a manifest that is not JSON'],
    ['schema 1', raw({ schemaVersion: 1, name: 'x', tag: '40', fsLayers: [] }), 'unsupported manifest schemaVersion 1'],
    ['no schemaVersion', raw({ manifests: [] }), 'unsupported manifest schemaVersion undefined']
  ])('%s is refused', (_, bytes, message) => {
    expect(() => parseManifest(bytes)).toThrow(message)
  })
})

describe('pickEntry', () => {
  const list = (platforms: Array<Platform | undefined>): Manifest => ({
    digest: D('f'),
    mediaType: MEDIA.ociIndex,
    isList: true,
    entries: platforms.map((platform, i) => ({ mediaType: MEDIA.ociManifest, digest: D(String(i)), size: 1, ...(platform ? { platform } : {}) })),
    annotations: {},
    size: 1
  })

  test.each<[string, Array<Platform | undefined>, Platform, string]>([
    ['the only entry', [{ os: 'linux', architecture: 'arm64' }], { os: 'linux', architecture: 'arm64' }, D('0')],
    ['arm64/v8 in the list for arm64', [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }], { os: 'linux', architecture: 'arm64' }, D('1')],
    ['arm64 in the list for arm64/v8', [{ os: 'linux', architecture: 'arm64' }], { os: 'linux', architecture: 'arm64', variant: 'v8' }, D('0')],
    ['arm/v7 among arm/v6 and arm/v7', [{ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm', variant: 'v7' }], { os: 'linux', architecture: 'arm', variant: 'v7' }, D('1')]
  ])('%s', (_, platforms, want, digest) => {
    expect(pickEntry(list(platforms), want).digest).toBe(digest)
  })

  test('from a parsed buildx index, the image and not the attestation', () => {
    expect(pickEntry(parseManifest(raw(buildxIndex)), { os: 'linux', architecture: 'arm64' }).digest).toBe(D('5'))
  })

  test.each<[string, Array<Platform | undefined>, Platform, string]>([
    ['no match', [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }], { os: 'linux', architecture: 's390x' }, 'it is a list without a linux/s390x image (it has linux/amd64, linux/arm64)'],
    ['arm/v6 is not arm/v7', [{ os: 'linux', architecture: 'arm', variant: 'v6' }], { os: 'linux', architecture: 'arm', variant: 'v7' }, 'it is a list without a linux/arm/v7 image (it has linux/arm/v6)'],
    ['an empty list', [], { os: 'linux', architecture: 'amd64' }, 'it is a list without a linux/amd64 image (it has no platforms)'],
    ['an entry without platform', [undefined], { os: 'linux', architecture: 'amd64' }, 'it is a list without a linux/amd64 image (it has ?)'],
    ['two matches', [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64', variant: 'v1' }], { os: 'linux', architecture: 'amd64' }, 'it is a list with 2 entries for linux/amd64'],
    ['three matches', [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }], { os: 'linux', architecture: 'arm64' }, 'it is a list with 3 entries for linux/arm64']
  ])('%s', (_, platforms, want, message) => {
    expect(() => pickEntry(list(platforms), want)).toThrow(message)
  })
})

describe('configPlatform', () => {
  test.each<[object, Platform]>([
    [{ architecture: 'amd64', os: 'linux', rootfs: {} }, { os: 'linux', architecture: 'amd64' }],
    [{ architecture: 'arm', os: 'linux', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v7' }],
    [{ architecture: 'arm64', os: 'linux', variant: '' }, { os: 'linux', architecture: 'arm64' }],
    [{ rootfs: {} }, { os: '', architecture: '' }]
  ])('%j → %j', (doc, platform) => {
    expect(configPlatform(raw(doc))).toEqual(platform)
  })
})

test('FORMAT_MEDIA', () => {
  expect(FORMAT_MEDIA).toEqual({
    oci: { list: 'application/vnd.oci.image.index.v1+json', entry: 'application/vnd.oci.image.manifest.v1+json' },
    v2s2: { list: 'application/vnd.docker.distribution.manifest.list.v2+json', entry: 'application/vnd.docker.distribution.manifest.v2+json' }
  })
})
