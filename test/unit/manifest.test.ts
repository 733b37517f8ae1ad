import { createHash } from 'crypto'
import { Platform } from '../../src/arch'
import { configPlatform, ContentError, FORMAT_MEDIA, isDigest, Manifest, MEDIA, parseManifest, pickEntry, sha256 } from '../../src/manifest'

const D = (c: string): string => `sha256:${c.repeat(64)}`

const ociIndex = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: D('1'),
      size: 500,
      platform: { os: 'linux', architecture: 'amd64' }
    },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: D('2'),
      size: 501,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }
    }
  ],
  annotations: { 'org.opencontainers.image.source': 'https://example.org/x' }
}

const dockerList = {
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifests: [
    {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: D('3'),
      size: 428,
      platform: { architecture: 'ppc64le', os: 'linux' }
    },
    {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: D('4'),
      size: 428,
      platform: { architecture: 'arm', os: 'linux', variant: 'v7' }
    }
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
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: D('5'),
      size: 673,
      platform: { architecture: 'arm64', os: 'linux' }
    },
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
      attestations: [],
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
    expect(parseManifest(bytes)).toEqual({
      digest: sha256(bytes),
      mediaType: MEDIA.ociManifest,
      isList: false,
      entries: [],
      attestations: [],
      annotations: {},
      size: bytes.length
    })
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
    attestations: [],
    entries: platforms.map((platform, i) => ({
      mediaType: MEDIA.ociManifest,
      digest: D(String(i)),
      size: 1,
      ...(platform ? { platform } : {})
    })),
    annotations: {},
    size: 1
  })

  test.each<[string, Array<Platform | undefined>, Platform, string]>([
    ['the only entry', [{ os: 'linux', architecture: 'arm64' }], { os: 'linux', architecture: 'arm64' }, D('0')],
    [
      'arm64/v8 in the list for arm64',
      [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' }
      ],
      { os: 'linux', architecture: 'arm64' },
      D('1')
    ],
    [
      'arm64 in the list for arm64/v8',
      [{ os: 'linux', architecture: 'arm64' }],
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      D('0')
    ],
    [
      'arm/v7 among arm/v6 and arm/v7',
      [
        { os: 'linux', architecture: 'arm', variant: 'v6' },
        { os: 'linux', architecture: 'arm', variant: 'v7' }
      ],
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      D('1')
    ]
  ])('%s', (_, platforms, want, digest) => {
    expect(pickEntry(list(platforms), want).digest).toBe(digest)
  })

  test('from a parsed buildx index, the image and not the attestation', () => {
    expect(pickEntry(parseManifest(raw(buildxIndex)), { os: 'linux', architecture: 'arm64' }).digest).toBe(D('5'))
  })

  test.each<[string, Array<Platform | undefined>, Platform, string]>([
    [
      'no match',
      [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' }
      ],
      { os: 'linux', architecture: 's390x' },
      'it is a list without a linux/s390x image (it has linux/amd64, linux/arm64)'
    ],
    [
      'arm/v6 is not arm/v7',
      [{ os: 'linux', architecture: 'arm', variant: 'v6' }],
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      'it is a list without a linux/arm/v7 image (it has linux/arm/v6)'
    ],
    ['an empty list', [], { os: 'linux', architecture: 'amd64' }, 'it is a list without a linux/amd64 image (it has no platforms)'],
    [
      'an entry without platform',
      [undefined],
      { os: 'linux', architecture: 'amd64' },
      'it is a list without a linux/amd64 image (it has ?)'
    ],
    [
      'two matches',
      [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'amd64', variant: 'v1' }
      ],
      { os: 'linux', architecture: 'amd64' },
      'it is a list with 2 entries for linux/amd64'
    ],
    [
      'three matches',
      [
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' }
      ],
      { os: 'linux', architecture: 'arm64' },
      'it is a list with 3 entries for linux/arm64'
    ]
  ])('%s', (_, platforms, want, message) => {
    expect(() => pickEntry(list(platforms), want)).toThrow(message)
  })
})

describe('configPlatform', () => {
  test.each<[object, Platform]>([
    [
      { architecture: 'amd64', os: 'linux', rootfs: {} },
      { os: 'linux', architecture: 'amd64' }
    ],
    [
      { architecture: 'arm', os: 'linux', variant: 'v7' },
      { os: 'linux', architecture: 'arm', variant: 'v7' }
    ],
    [
      { architecture: 'arm64', os: 'linux', variant: '' },
      { os: 'linux', architecture: 'arm64' }
    ],
    [{ rootfs: {} }, { os: '', architecture: '' }]
  ])('%j → %j', (doc, platform) => {
    expect(configPlatform(raw(doc))).toEqual(platform)
  })
})

test('FORMAT_MEDIA', () => {
  expect(FORMAT_MEDIA).toEqual({
    oci: { list: 'application/vnd.oci.image.index.v1+json', entry: 'application/vnd.oci.image.manifest.v1+json' },
    v2s2: {
      list: 'application/vnd.docker.distribution.manifest.list.v2+json',
      entry: 'application/vnd.docker.distribution.manifest.v2+json'
    }
  })
})

describe('registry content is validated before use', () => {
  const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    mediaType: MEDIA.ociManifest,
    digest: D('1'),
    size: 500,
    platform: { os: 'linux', architecture: 'amd64' },
    ...over
  })
  const index = (manifests: unknown[], over: Record<string, unknown> = {}): Buffer =>
    raw({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests, ...over })
  const refusal = (bytes: Buffer): string => {
    try {
      parseManifest(bytes)
    } catch (e) {
      expect(e).toBeInstanceOf(ContentError)
      return (e as Error).message
    }
    throw new Error('parseManifest accepted it')
  }

  test.each<[string, Buffer, string]>([
    [
      'an architecture with a workflow command',
      index([entry({ platform: { os: 'linux', architecture: 'amd64\n::set-output name=digest::evil' } })]),
      'the list\'s entry 1 has platform architecture "amd64\\n::set-output name=digest::evil", which is not a platform value'
    ],
    [
      'an os with a mask command',
      index([entry({ platform: { os: 'linux\r\n::add-mask::linux', architecture: 'amd64' } })]),
      'has platform os "linux\\r\\n::add-mask::linux"'
    ],
    [
      'a variant with an escape sequence',
      index([entry(), entry({ digest: D('2'), platform: { os: 'linux', architecture: 'arm', variant: 'v7\u001b[2J' } })]),
      'the list\'s entry 2 has platform variant "v7\\u001b[2J"'
    ],
    [
      'an os.version with a newline',
      index([entry({ platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0\n::x::y' } })]),
      'has platform os.version "10.0\\n::x::y"'
    ],
    [
      'os.features that are not strings',
      index([entry({ platform: { os: 'windows', architecture: 'amd64', 'os.features': [{}] } })]),
      'has platform os.features {}'
    ],
    [
      'a 65-character architecture',
      index([entry({ platform: { os: 'linux', architecture: 'a'.repeat(65) } })]),
      'has platform architecture "aaaa'
    ],
    ['an architecture that is a number', index([entry({ platform: { os: 'linux', architecture: 64 } })]), 'has platform architecture 64'],
    ['an empty architecture', index([entry({ platform: { os: 'linux', architecture: '' } })]), 'has platform architecture ""'],
    ['a platform that is a string', index([entry({ platform: 'linux/amd64' })]), 'has a platform that is not an object: "linux/amd64"'],
    [
      'a right-to-left override in a platform',
      index([entry({ platform: { os: 'linux', architecture: '\u202e46dma' } })]),
      'has platform architecture "\\u202e46dma"'
    ],
    ['an absurd size', index([entry({ size: 1e300 })]), 'has the size 1e+300; a manifest is 1 to 4194304 bytes'],
    ['a negative size', index([entry({ size: -1 })]), 'has the size -1'],
    ['a fractional size', index([entry({ size: 1.5 })]), 'has the size 1.5'],
    ['a size that is a string', index([entry({ size: '500' })]), 'has the size "500"'],
    [
      'an unknown entry media type',
      index([entry({ mediaType: 'application/x-evil\n::set-output name=a::b' })]),
      'the list\'s entry 1 has the unknown media type "application/x-evil\\n::set-output name=a::b"'
    ],
    [
      'a schema 1 entry',
      index([entry({ mediaType: 'application/vnd.docker.distribution.manifest.v1+json' })]),
      'has the unknown media type "application/vnd.docker.distribution.manifest.v1+json"'
    ],
    ['an unknown list media type', index([entry()], { mediaType: 'text/html' }), 'the registry served the unknown media type "text/html"'],
    [
      'a list labelled as a manifest',
      index([entry()], { mediaType: MEDIA.ociManifest }),
      'the registry served a list labelled "application/vnd.oci.image.manifest.v1+json"'
    ],
    [
      'a manifest labelled as a list',
      raw({ ...singleImage, mediaType: MEDIA.dockerList }),
      'the registry served a single manifest labelled "application/vnd.docker.distribution.manifest.list.v2+json"'
    ],
    ['a digest with uppercase hex', index([entry({ digest: `sha256:${'A'.repeat(64)}` })]), 'has the digest "sha256:AAAA'],
    [
      'a short digest',
      index([entry({ digest: 'sha256:abc' })]),
      'has the digest "sha256:abc", which is not sha256:<64 hex> or sha512:<128 hex>'
    ],
    ['an unknown algorithm', index([entry({ digest: `md5:${'a'.repeat(32)}` })]), 'has the digest "md5:'],
    ['a digest with a newline', index([entry({ digest: `${D('1')}\n::add-mask::x` })]), '\\n::add-mask::x"'],
    ['no digest', index([entry({ digest: undefined })]), 'has the digest undefined'],
    ['an entry that is not an object', index(['sha256:1']), 'the list\'s entry 1 is not an object: "sha256:1"'],
    ['manifests that are not an array', raw({ schemaVersion: 2, manifests: { a: 1 } }), 'whose "manifests" is not an array: {"a":1}'],
    [
      'an annotation key with a newline',
      index([entry()], { annotations: { 'a\n::add-mask::b': 'x' } }),
      'the manifest has the annotation key "a\\n::add-mask::b": it must be 1 to 256 printable characters'
    ],
    [
      'an entry annotation key with a newline',
      index([entry({ annotations: { 'k\r::set-output name=a::b': 'v' } })]),
      'the list\'s entry 1 has the annotation key "k\\r::set-output name=a::b"'
    ],
    [
      'an annotation value that is not a string',
      index([entry()], { annotations: { k: 1 } }),
      'the manifest has the annotation "k" = 1: it must be a string'
    ],
    [
      'an annotation value of 20 kB',
      index([entry()], { annotations: { k: 'v'.repeat(20_000) } }),
      'the manifest has the annotation "k" = "vvv'
    ],
    [
      '300 annotations',
      index([entry()], { annotations: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 'v'])) }),
      'the manifest has 300 annotations; at most 256'
    ],
    [
      'annotations that are an array',
      index([entry()], { annotations: ['a'] }),
      'the manifest has annotations that are not an object: ["a"]'
    ],
    ['1001 entries', index(Array.from({ length: 1001 }, () => entry())), 'the registry served a list of 1001 entries; at most 1000'],
    ['a JSON array', raw([1]), 'the registry served a manifest that is not a JSON object'],
    ['a manifest over 4 MiB', Buffer.alloc((4 << 20) + 1, 32), 'the registry served a manifest of 4194305 bytes; at most 4194304']
  ])('%s is refused, quoted escaped', (_, bytes, fragment) => {
    const message = refusal(bytes)
    expect(message).toContain(fragment)
    expect(message).not.toMatch(/[\p{Cc}\p{Cf}]/u)
    expect(message.length).toBeLessThan(700)
  })

  test('an annotation value may span lines (descriptions do): it is kept, and only ever shown escaped', () => {
    const m = parseManifest(index([entry()], { annotations: { 'org.opencontainers.image.description': 'line 1\n::add-mask::line' } }))
    expect(m.annotations).toEqual({ 'org.opencontainers.image.description': 'line 1\n::add-mask::line' })
  })

  test('sha512 digests, os.version and features are accepted', () => {
    const m = parseManifest(
      index([
        entry({
          digest: `sha512:${'a'.repeat(128)}`,
          platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2340', 'os.features': ['win32k'] }
        })
      ])
    )
    expect(m.entries).toEqual([
      { mediaType: MEDIA.ociManifest, digest: `sha512:${'a'.repeat(128)}`, size: 500, platform: { os: 'windows', architecture: 'amd64' } }
    ])
  })

  test('unknown fields are not carried along', () => {
    const m = parseManifest(
      index([entry({ urls: ['http://evil'], data: 'xx', platform: { os: 'linux', architecture: 'amd64', extra: '\n::x::y' } })])
    )
    expect(m.entries).toEqual([
      { mediaType: MEDIA.ociManifest, digest: D('1'), size: 500, platform: { os: 'linux', architecture: 'amd64' } }
    ])
  })

  test('a nested index entry has a known media type', () => {
    expect(parseManifest(index([entry({ mediaType: MEDIA.ociIndex })])).entries).toHaveLength(1)
  })

  test('isDigest', () => {
    expect(
      [D('a'), `sha512:${'0'.repeat(128)}`, 'sha256:', `sha256:${'g'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, 42].map(isDigest)
    ).toEqual([true, true, false, false, false, false])
  })
})

describe('configPlatform validates too', () => {
  test.each<[string, Buffer, string]>([
    ['not JSON', Buffer.from('{'), 'the registry served an image config that is not JSON'],
    ['not an object', raw('amd64'), 'the registry served an image config that is not a JSON object'],
    [
      'a hostile architecture',
      raw({ os: 'linux', architecture: 'amd64\n::set-output name=digest::evil' }),
      'the image config has platform architecture "amd64\\n::set-output name=digest::evil"'
    ],
    [
      'a variant that is an object',
      raw({ os: 'linux', architecture: 'arm', variant: { v: 7 } }),
      'the image config has platform variant {"v":7}'
    ]
  ])('%s is refused', (_, bytes, message) => {
    expect(() => configPlatform(bytes)).toThrow(message)
  })
})

describe('parseManifest: attestations', () => {
  const image = { mediaType: MEDIA.ociManifest, digest: D('1'), size: 10, platform: { os: 'linux', architecture: 'amd64' } }
  const attestation = (subject: unknown) => ({
    mediaType: MEDIA.ociManifest,
    digest: D('2'),
    size: 10,
    platform: { os: 'unknown', architecture: 'unknown' },
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subject }
  })

  test('an attestation entry is kept apart, with the image it attests; it is no platform entry', () => {
    const m = parseManifest(raw({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [image, attestation(D('1'))] }))
    expect(m.entries.map(e => e.digest)).toEqual([D('1')])
    expect(m.attestations).toEqual([
      { digest: D('2'), mediaType: MEDIA.ociManifest, subject: D('1'), annotations: attestation(D('1')).annotations }
    ])
  })

  test('an attestation whose subject is no digest is refused, quoted inert', () => {
    expect(() =>
      parseManifest(raw({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [image, attestation('x\n::set-output name=a::b')] }))
    ).toThrow(/an attestation names the image "x\\n::set-output name=a::b", which is not a digest/)
  })
})

/** The Stryker survivors of src/manifest.ts (issue 19): each test below fails with its mutant applied. */
describe('registry content at the limits', () => {
  const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    mediaType: MEDIA.ociManifest,
    digest: D('1'),
    size: 500,
    platform: { os: 'linux', architecture: 'amd64' },
    ...over
  })
  const index = (manifests: unknown[], over: Record<string, unknown> = {}): Buffer =>
    raw({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests, ...over })
  const annotated = (annotations: Record<string, string>): Buffer => index([entry()], { annotations })

  test('a refusal is a ContentError by name too', () => {
    expect(() => parseManifest(raw(null))).toThrow(expect.objectContaining({ name: 'ContentError' }))
  })

  test.each<[string, Buffer, string]>([
    ['JSON null', raw(null), 'the registry served a manifest that is not a JSON object'],
    ['an entry that is null', index([null]), "the list's entry 1 is not an object: null"],
    ['a platform that is null', index([entry({ platform: null })]), "the list's entry 1 has a platform that is not an object: null"],
    ['annotations that are null', index([entry()], { annotations: null }), 'the manifest has annotations that are not an object: null'],
    ['a digest in an array', index([entry({ digest: [D('1')] })]), `the list's entry 1 has the digest ["${D('1')}"]`],
    [
      'an architecture in an array',
      index([entry({ platform: { os: 'linux', architecture: ['amd64'] } })]),
      'has platform architecture ["amd64"]'
    ],
    [
      'features with a newline',
      index([entry({ platform: { os: 'linux', architecture: 'amd64', features: ['sse4\n::x::y'] } })]),
      'has platform features "sse4\\n::x::y"'
    ],
    [
      'os.features that are a string',
      index([entry({ platform: { os: 'windows', architecture: 'amd64', 'os.features': 'win32k' } })]),
      'has platform os.features "win32k", which is not a short list'
    ],
    [
      '65 os.features',
      index([entry({ platform: { os: 'windows', architecture: 'amd64', 'os.features': Array.from({ length: 65 }, () => 'f') } })]),
      'which is not a short list'
    ],
    [
      '257 annotations',
      annotated(Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, 'v']))),
      'the manifest has 257 annotations; at most 256'
    ],
    ['an empty annotation key', annotated({ '': 'v' }), 'the manifest has the annotation key "": it must be 1 to 256 printable characters'],
    ['an annotation key of 257 characters', annotated({ ['k'.repeat(257)]: 'v' }), 'the manifest has the annotation key "kkk'],
    ['an annotation value of 16385 characters', annotated({ k: 'v'.repeat(16385) }), 'the manifest has the annotation "k" = "vvv'],
    ['a size of 0', index([entry({ size: 0 })]), 'has the size 0; a manifest is 1 to 4194304 bytes'],
    ['a size of 4 MiB + 1', index([entry({ size: (4 << 20) + 1 })]), 'has the size 4194305']
  ])('%s is refused', (_, bytes, message) => {
    expect(() => parseManifest(bytes)).toThrow(message)
  })

  test('at the limits: 64 os.features, 256 annotations, a key of 256 and a value of 16384 characters, sizes 1 and 4 MiB, 1000 entries', () => {
    const features = Array.from({ length: 64 }, () => 'f')
    expect(
      parseManifest(index([entry({ platform: { os: 'windows', architecture: 'amd64', 'os.features': features } })])).entries
    ).toHaveLength(1)
    const many = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`k${i}`, 'v']))
    expect(Object.keys(parseManifest(annotated(many)).annotations)).toHaveLength(256)
    const long = { ['k'.repeat(256)]: 'v'.repeat(16384) }
    expect(parseManifest(annotated(long)).annotations).toEqual(long)
    expect(parseManifest(index([entry({ size: 1 }), entry({ digest: D('2'), size: 4 << 20 })])).entries.map(e => e.size)).toEqual([
      1,
      4 << 20
    ])
    expect(parseManifest(index(Array.from({ length: 1000 }, () => entry()))).entries).toHaveLength(1000)
  })

  test('a manifest of exactly 4 MiB is read', () => {
    const doc = raw({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [entry()] })
    const bytes = Buffer.concat([doc, Buffer.alloc((4 << 20) - doc.length, ' ')])
    expect(parseManifest(bytes)).toMatchObject({ size: 4 << 20, isList: true })
  })

  test('an attestation-manifest entry that names no image: neither a platform entry nor an attestation', () => {
    const m = parseManifest(
      index([entry(), entry({ digest: D('2'), annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } })])
    )
    expect(m.entries.map(e => e.digest)).toEqual([D('1')])
    expect(m.attestations).toEqual([])
  })

  test('an unknown/unknown entry without annotations is no platform entry', () => {
    const m = parseManifest(index([entry(), entry({ digest: D('2'), platform: { os: 'unknown', architecture: 'unknown' } })]))
    expect(m.entries.map(e => e.digest)).toEqual([D('1')])
  })
})

test('an entry that names an image but is no attestation-manifest is a platform entry, not an attestation', () => {
  const m = parseManifest(
    raw({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: [
        {
          mediaType: MEDIA.ociManifest,
          digest: D('1'),
          size: 10,
          platform: { os: 'linux', architecture: 'amd64' },
          annotations: { 'vnd.docker.reference.digest': D('2') }
        }
      ]
    })
  )
  expect(m.entries.map(e => e.digest)).toEqual([D('1')])
  expect(m.attestations).toEqual([])
})
