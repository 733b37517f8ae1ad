/**
 * src/compare.ts: every check of what a list holds, without a read. The checks are also proven
 * against lying registries in test/integration/transaction.test.ts; here each branch is pinned down
 * on its own.
 */
import { parsePlatform, Platform } from '../../src/arch'
import { checkLocal, checkServed, servesPlanned, signature } from '../../src/compare'
import { MEDIA, parseManifest } from '../../src/manifest'
import type { Current, PlannedAttestation } from '../../src/model'
import { absent, amd64, arm64, current as serving, entry, fakeDigest, image, list, ListEntry, unknownPlatform } from './builders'

const AMD = fakeDigest('a')
const ARM = fakeDigest('b')
const OTHER = fakeDigest('c')
const ENTRIES = [entry('x86_64', amd64, AMD), entry('aarch64', arm64, ARM)]
const PLANNED = [
  { digest: AMD, platform: amd64 },
  { digest: ARM, platform: arm64 }
]
/** A list as a registry would serve it, parsed. */
const parsed = (entries: ListEntry[], o?: Parameters<typeof list>[1]) => parseManifest(list(entries, o))
/** A destination serving the planned entries; `o` changes what differs. */
const current = (o: Parameters<typeof serving>[2] = {}): Current => serving('r.example/x:1', PLANNED, { digest: OTHER, ...o })

describe('signature and checkLocal: the local list against the plan', () => {
  test('order does not matter; an entry without a platform is named so', () => {
    expect(
      signature([
        { digest: ARM, platform: arm64 },
        { digest: AMD, platform: amd64 }
      ])
    ).toBe(signature(ENTRIES))
    expect(signature([{ digest: AMD }])).toBe(`no platform@${AMD}`)
  })

  test('exactly the plan passes; a lost, stray or unplatformed entry is named', () => {
    expect(checkLocal(PLANNED, ENTRIES)).toBeUndefined()
    expect(checkLocal([PLANNED[0]], ENTRIES)).toBe(
      `the local list holds [linux/amd64@${AMD}] but the plan is [linux/amd64@${AMD}, linux/arm64@${ARM}]`
    )
    expect(checkLocal([...PLANNED, { digest: OTHER, platform: { os: 'linux', architecture: 's390x' } }], ENTRIES)).toMatch(/linux\/s390x@/)
    expect(checkLocal([PLANNED[0], { digest: ARM }], ENTRIES)).toMatch(/no platform@/)
  })
})

describe('servesPlanned: is a destination already up to date?', () => {
  test.each<[string, Current, Record<string, string>, boolean]>([
    ['exactly these entries', current(), {}, true],
    ['exactly these entries and annotations', current({ annotations: { k: 'v' } }), { k: 'v' }, true],
    ['nothing there', absent('r.example/x:1'), {}, false],
    ['a single image', current({ isList: false }), {}, false],
    ['a Docker list when oci is asked for', current({ mediaType: MEDIA.dockerList }), {}, false],
    ['an annotation fewer', current(), { k: 'v' }, false],
    ['an annotation more (dropped from the input)', current({ annotations: { k: 'v' } }), {}, false],
    ['an annotation with another value', current({ annotations: { k: 'w' } }), { k: 'v' }, false],
    ['an entry fewer', current({ entries: [{ ...PLANNED[0], mediaType: MEDIA.ociManifest }] }), {}, false],
    [
      'another image for an arch',
      current({
        entries: [
          { ...PLANNED[0], mediaType: MEDIA.ociManifest },
          { digest: OTHER, platform: arm64, mediaType: MEDIA.ociManifest }
        ]
      }),
      {},
      false
    ]
  ])('%s → %s', (_name, c, annotations, expected) => {
    expect(servesPlanned(c, ENTRIES, 'oci', annotations)).toBe(expected)
  })
})

describe('checkServed: what a destination serves after the push', () => {
  test.each<[string, ReturnType<typeof parsed> | null, string | undefined]>([
    ['exactly the plan', parsed(PLANNED), undefined],
    [
      'exactly the plan, other order, annotations the input did not ask for',
      parsed([...PLANNED].reverse(), { annotations: { extra: 'x' } }),
      undefined
    ],
    ['nothing', null, 'it serves nothing'],
    ['a single image', parseManifest(image(amd64).manifest), `it serves ${MEDIA.ociManifest}, not ${MEDIA.ociIndex}`],
    ['a Docker list', parsed(PLANNED, { mediaType: MEDIA.dockerList }), `it serves ${MEDIA.dockerList}, not ${MEDIA.ociIndex}`],
    ['an entry lost', parsed([PLANNED[0]]), 'it lists platforms [linux/amd64], planned [linux/amd64, linux/arm64]'],
    [
      'an entry more',
      parsed([...PLANNED, { digest: OTHER, platform: { os: 'linux', architecture: 's390x' } }]),
      'it lists platforms [linux/amd64, linux/arm64, linux/s390x], planned [linux/amd64, linux/arm64]'
    ],
    [
      'an entry without a platform (not a platform entry, like an attestation)',
      parsed([PLANNED[0], { digest: ARM }]),
      'it lists platforms [linux/amd64], planned [linux/amd64, linux/arm64]'
    ],
    ['another image for an arch', parsed([PLANNED[0], { digest: OTHER, platform: arm64 }]), `its aarch64 entry is ${OTHER}, planned ${ARM}`]
  ])('%s', (_name, served, problem) => {
    expect(checkServed(served, ENTRIES, 'oci')).toBe(problem)
  })

  test('entries planned in another order than served are what was planned', () => {
    expect(checkServed(parsed(PLANNED), [...ENTRIES].reverse(), 'oci')).toBeUndefined()
  })

  test('annotations asked for must be served, each with its value', () => {
    const want = { 'org.example.a': '1', 'org.example.b': '2' }
    expect(checkServed(parsed(PLANNED, { annotations: want }), ENTRIES, 'oci', want)).toBeUndefined()
    expect(checkServed(parsed(PLANNED), ENTRIES, 'oci', want)).toBe('its annotations lack org.example.a, org.example.b')
    expect(checkServed(parsed(PLANNED, { annotations: { 'org.example.a': '1', 'org.example.b': 'other' } }), ENTRIES, 'oci', want)).toBe(
      'its annotations lack org.example.b'
    )
  })

  test('an entry buildah had to convert (OCI image into a v2s2 list) is compared by platform only', () => {
    const converted = parsed(
      [
        { digest: OTHER, platform: amd64, mediaType: MEDIA.dockerManifest },
        { digest: ARM, platform: arm64, mediaType: MEDIA.dockerManifest }
      ],
      { mediaType: MEDIA.dockerList }
    )
    const entries = [entry('x86_64', amd64, AMD), entry('aarch64', arm64, ARM, { mediaType: MEDIA.dockerManifest })]
    expect(checkServed(converted, entries, 'v2s2')).toBeUndefined()
    // The Docker entry was not converted: its digest must be the planned one.
    const wrong = parsed(
      [
        { digest: AMD, platform: amd64, mediaType: MEDIA.dockerManifest },
        { digest: OTHER, platform: arm64, mediaType: MEDIA.dockerManifest }
      ],
      { mediaType: MEDIA.dockerList }
    )
    expect(checkServed(wrong, entries, 'v2s2')).toBe(`its aarch64 entry is ${OTHER}, planned ${ARM}`)
  })
})

describe('attestations (input attestations: keep): part of every comparison', () => {
  const ATT = fakeDigest('d')
  const attestationOf = (digest: string, subject: string, arch: string): PlannedAttestation => ({
    digest,
    mediaType: MEDIA.ociManifest,
    subject,
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subject },
    ref: `src.example/r@${digest}`,
    arch
  })
  const attestation = attestationOf(ATT, AMD, 'x86_64')
  const ARM_ATT = fakeDigest('e')
  const armAttestation = attestationOf(ARM_ATT, ARM, 'aarch64')
  const served = (attestations: PlannedAttestation[]) =>
    parsed([
      ...PLANNED,
      ...attestations.map(a => ({ mediaType: a.mediaType, digest: a.digest, platform: unknownPlatform, annotations: a.annotations }))
    ])

  test('checkLocal: an attestation is an unknown/unknown entry of the local list', () => {
    expect(checkLocal([...PLANNED, { digest: ATT, platform: unknownPlatform }], ENTRIES, [attestation])).toBeUndefined()
    expect(checkLocal(PLANNED, ENTRIES, [attestation])).toMatch(/but the plan is \[.*unknown\/unknown@sha256:d{64}/)
  })

  test('checkServed: the attestations served must be the planned ones', () => {
    expect(checkServed(served([attestation]), ENTRIES, 'oci', {}, [attestation])).toBeUndefined()
    expect(checkServed(served([]), ENTRIES, 'oci', {}, [attestation])).toBe(`its attestations are [], planned [${AMD}→${ATT}]`)
    expect(checkServed(served([attestation]), ENTRIES, 'oci')).toBe(`its attestations are [${AMD}→${ATT}], planned []`)
  })

  test('checkServed: a wrong attestation set is named one attestation after the other', () => {
    expect(checkServed(served([attestation, armAttestation]), ENTRIES, 'oci', {}, [attestation])).toBe(
      `its attestations are [${AMD}→${ATT}, ${ARM}→${ARM_ATT}], planned [${AMD}→${ATT}]`
    )
  })

  test('servesPlanned: a list without the planned attestations (or with others) is not up to date', () => {
    expect(servesPlanned(current({ attestations: [attestation] }), ENTRIES, 'oci', {}, [attestation])).toBe(true)
    expect(servesPlanned(current({ attestations: [] }), ENTRIES, 'oci', {}, [attestation])).toBe(false)
    expect(servesPlanned(current({ attestations: [attestation] }), ENTRIES, 'oci', {})).toBe(false)
  })

  test('servesPlanned: the same attestations in another order are up to date', () => {
    const both = current({ attestations: [armAttestation, attestation] })
    expect(servesPlanned(both, ENTRIES, 'oci', {}, [attestation, armAttestation])).toBe(true)
    expect(servesPlanned(both, ENTRIES, 'oci', {}, [armAttestation])).toBe(false)
  })
})

describe('checkServed: the read-back after a push', () => {
  const index = (manifests: Array<{ digest: string; platform: string }>, mediaType?: string): Buffer =>
    list(
      manifests.map(m => ({ digest: m.digest, size: 1, platform: parsePlatform(m.platform) })),
      { mediaType }
    )
  test.each([
    [
      'exactly the plan',
      index([
        { digest: AMD, platform: 'linux/amd64' },
        { digest: ARM, platform: 'linux/arm64/v8' }
      ]),
      undefined
    ],
    ['nothing', null, 'it serves nothing'],
    ['an empty list', index([]), 'it lists platforms []'],
    [
      'a Docker list',
      index(
        [
          { digest: AMD, platform: 'linux/amd64' },
          { digest: ARM, platform: 'linux/arm64' }
        ],
        MEDIA.dockerList
      ),
      'not application/vnd.oci.image.index.v1+json'
    ],
    ['a missing platform', index([{ digest: AMD, platform: 'linux/amd64' }]), 'planned [linux/amd64, linux/arm64]'],
    [
      'another image',
      index([
        { digest: AMD, platform: 'linux/amd64' },
        { digest: OTHER, platform: 'linux/arm64' }
      ]),
      `its aarch64 entry is ${OTHER}`
    ]
  ])('%s', (_name, raw, problem) => {
    const result = checkServed(raw ? parseManifest(raw) : null, ENTRIES, 'oci')
    // The problem named, or none.
    expect(problem !== undefined && result?.includes(problem) ? problem : result).toBe(problem)
  })
})

test('checkServed: annotations asked for must be served', () => {
  const entries = [ENTRIES[0]]
  const raw = (annotations: Record<string, string>): Buffer => list([{ digest: AMD, size: 1, platform: amd64 }], { annotations })
  expect(checkServed(parseManifest(raw({ 'org.example.k': 'v' })), entries, 'oci', { 'org.example.k': 'v' })).toBeUndefined()
  expect(checkServed(parseManifest(raw({})), entries, 'oci', { 'org.example.k': 'v' })).toBe('its annotations lack org.example.k')
})

describe('checkLocal', () => {
  const amd = entry('x86_64', amd64, 'sha256:aa', { repository: 'r' })
  const arm = entry('aarch64', arm64, 'sha256:bb', { repository: 'r' })

  test.each<[string, Array<{ digest: string; platform?: Platform }>, string | undefined]>([
    [
      'same entries, same order',
      [
        { digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:bb', platform: { os: 'linux', architecture: 'arm64' } }
      ],
      undefined
    ],
    [
      'same entries, other order',
      [
        { digest: 'sha256:bb', platform: { os: 'linux', architecture: 'arm64' } },
        { digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } }
      ],
      undefined
    ],
    [
      'arm64/v8 is arm64',
      [
        { digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:bb', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }
      ],
      undefined
    ],
    [
      'an entry short',
      [{ digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } }],
      'the local list holds [linux/amd64@sha256:aa] but the plan is [linux/amd64@sha256:aa, linux/arm64@sha256:bb]'
    ],
    ['empty', [], 'the local list holds [] but the plan is [linux/amd64@sha256:aa, linux/arm64@sha256:bb]'],
    [
      'a wrong digest',
      [
        { digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:cc', platform: { os: 'linux', architecture: 'arm64' } }
      ],
      'the local list holds [linux/amd64@sha256:aa, linux/arm64@sha256:cc] but the plan is [linux/amd64@sha256:aa, linux/arm64@sha256:bb]'
    ],
    [
      'a wrong platform',
      [
        { digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:bb', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }
      ],
      'the local list holds [linux/amd64@sha256:aa, linux/arm/v7@sha256:bb] but the plan is [linux/amd64@sha256:aa, linux/arm64@sha256:bb]'
    ],
    [
      'no platform',
      [{ digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } }, { digest: 'sha256:bb' }],
      'the local list holds [linux/amd64@sha256:aa, no platform@sha256:bb] but the plan is [linux/amd64@sha256:aa, linux/arm64@sha256:bb]'
    ],
    [
      'an extra entry',
      [
        { digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:bb', platform: { os: 'linux', architecture: 'arm64' } },
        { digest: 'sha256:bb', platform: { os: 'linux', architecture: 'arm64' } }
      ],
      'the local list holds [linux/amd64@sha256:aa, linux/arm64@sha256:bb, linux/arm64@sha256:bb] but the plan is [linux/amd64@sha256:aa, linux/arm64@sha256:bb]'
    ]
  ])('%s', (_, local, expected) => {
    expect(checkLocal(local, [amd, arm])).toBe(expected)
  })
})
