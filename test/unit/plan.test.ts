import { createHash } from 'crypto'
import { ArchTable, parsePlatform, Platform } from '../../src/arch'
import type { Policy } from '../../src/model'
import { MEDIA } from '../../src/manifest'
import type { Attestation } from '../../src/manifest'
import type { Current, Decision, NewImage } from '../../src/model'
import { Observed, plan } from '../../src/plan'
import { absent, current } from './builders'

const table = new ArchTable()
const p = (text: string): Platform => parsePlatform(text) as Platform
const PLATFORM: Record<string, string> = { x86_64: 'linux/amd64', aarch64: 'linux/arm64', s390x: 'linux/s390x', ppc64le: 'linux/ppc64le' }
/** A well-formed digest named after what it stands for (registry content is validated, so fakes must be too). */
const H = (name: string): string => `sha256:${createHash('sha256').update(name).digest('hex')}`
const NEW = (arch: string): string => H(`new-${arch}`)
const OLD = (arch: string): string => H(`old-${arch}`)

function images(...arches: string[]): Map<string, NewImage | undefined> {
  return new Map(
    arches.map(a => [
      a,
      { digest: NEW(a), mediaType: MEDIA.ociManifest, platform: p(PLATFORM[a]), repository: 'src.example/fedora', attestations: [] }
    ])
  )
}

/** A destination serving an OCI index of these arches (digest of the list given or derived). */
function list(
  ref: string,
  entries: Record<string, string>,
  listDigest = H(`list-${Object.values(entries).join('-')}`),
  mediaType = MEDIA.ociIndex
): Current {
  const served = Object.entries(entries).map(([arch, digest]) => ({ digest, platform: p(PLATFORM[arch]) }))
  return current(ref, served, { digest: listDigest, mediaType })
}
const A = 'reg-a.example/fedora:40'
const B = 'reg-b.example/fedora:40'

function observe(o: Partial<Observed> & Pick<Observed, 'images' | 'current'>): Observed {
  return { arches: ['x86_64', 'aarch64', 's390x'], table, policy: 'fail', format: 'oci', annotations: {}, attestations: 'drop', ...o }
}

describe('plan: missing-arch policies with s390x lost', () => {
  const current = [
    list(A, { x86_64: OLD('x86_64'), aarch64: OLD('aarch64'), s390x: OLD('s390x') }),
    list(B, { x86_64: OLD('x86_64'), aarch64: OLD('aarch64'), s390x: OLD('s390x') })
  ]
  test.each<[Policy, Decision, string[], string[], string[]]>([
    // policy, decision, arches in the list, kept, dropped
    ['fail', 'refuse', [], [], []],
    ['skip', 'skip', [], [], []],
    ['hybrid', 'publish', ['x86_64', 'aarch64', 's390x'], ['s390x'], []],
    ['drop', 'publish', ['x86_64', 'aarch64'], [], ['s390x']]
  ])('%s → %s', (policy, decision, arches, kept, dropped) => {
    const result = plan(observe({ images: images('x86_64', 'aarch64'), current, policy }))
    expect(result.decision).toBe(decision)
    expect(result.lost).toEqual(['s390x'])
    expect(result.missing).toEqual(['s390x'])
    expect(result.entries.map(e => e.arch)).toEqual(arches)
    expect(result.kept).toEqual(kept)
    expect(result.dropped).toEqual(dropped)
    expect(result.push).toEqual(decision === 'publish' ? [A, B] : [])
  })

  test('fail names the lost arch and the way out', () => {
    const result = plan(observe({ images: images('x86_64', 'aarch64'), current }))
    expect(result.reason).toMatch(/^Refusing to publish: s390x \(at every destination\) is in the current list but has no new image/)
    expect(result.reason).toContain('hybrid')
    expect(result.rows.find(r => r.arch === 's390x')).toEqual({ arch: 's390x', newDigest: undefined, inCurrent: 2, outcome: 'lost' })
  })

  test('hybrid keeps the previous image by digest, fetched from where it is served', () => {
    const result = plan(observe({ images: images('x86_64', 'aarch64'), current, policy: 'hybrid' }))
    expect(result.entries.find(e => e.arch === 's390x')).toEqual({
      arch: 's390x',
      platform: p('linux/s390x'),
      digest: OLD('s390x'),
      mediaType: MEDIA.ociManifest,
      ref: `reg-a.example/fedora@${OLD('s390x')}`,
      kept: true
    })
    expect(result.entries.find(e => e.arch === 'x86_64')?.ref).toBe(`src.example/fedora@${NEW('x86_64')}`)
  })

  test('hybrid: the reason names what is kept and nothing as "without"', () => {
    const result = plan(observe({ images: images('x86_64', 'aarch64'), current, policy: 'hybrid' }))
    expect(result.reason).toBe('Publishing x86_64, aarch64, s390x to 2 destinations, keeping the previous image for s390x.')
  })

  test('hybrid refuses when destinations disagree on the image to keep', () => {
    const split = [list(A, { x86_64: OLD('x86_64'), s390x: H('one') }), list(B, { x86_64: OLD('x86_64'), s390x: H('two') })]
    const result = plan(observe({ images: images('x86_64'), current: split, policy: 'hybrid' }))
    expect(result.decision).toBe('refuse')
    expect(result.reason).toContain('disagree on the previous s390x image')
  })

  test('an arch nobody asked for that is in the current list is lost too', () => {
    const result = plan(
      observe({ arches: ['x86_64'], images: images('x86_64'), current: [list(A, { x86_64: OLD('x86_64'), ppc64le: OLD('ppc64le') })] })
    )
    expect(result.decision).toBe('refuse')
    expect(result.lost).toEqual(['ppc64le'])
    expect(result.missing).toEqual([])
  })
})

describe('plan: first publish, unchanged, single images, empty', () => {
  test('first publish pushes everywhere and only warns about arches that never existed', () => {
    const result = plan(observe({ images: images('x86_64', 'aarch64'), current: [absent(A), absent(B)] }))
    expect(result.decision).toBe('publish')
    expect(result.push).toEqual([A, B])
    expect(result.missing).toEqual(['s390x'])
    expect(result.lost).toEqual([])
    expect(result.reason).toContain('without s390x')
  })

  test('every destination already serving the same images → unchanged', () => {
    const same = { x86_64: NEW('x86_64'), aarch64: NEW('aarch64') }
    const result = plan(
      observe({
        arches: ['x86_64', 'aarch64'],
        images: images('x86_64', 'aarch64'),
        current: [list(A, same, H('L')), list(B, same, H('L'))]
      })
    )
    expect(result.decision).toBe('unchanged')
    expect(result.push).toEqual([])
    expect(result.upToDate).toEqual([A, B])
  })

  test('only the stale destination is pushed', () => {
    const same = { x86_64: NEW('x86_64'), aarch64: NEW('aarch64') }
    const result = plan(
      observe({ arches: ['x86_64', 'aarch64'], images: images('x86_64', 'aarch64'), current: [list(A, same, H('L')), absent(B)] })
    )
    expect(result.decision).toBe('publish')
    expect(result.push).toEqual([B])
    expect(result.upToDate).toEqual([A])
  })

  test('up-to-date lists with different digests are all rewritten so one digest is served', () => {
    const same = { x86_64: NEW('x86_64') }
    const result = plan(
      observe({ arches: ['x86_64'], images: images('x86_64'), current: [list(A, same, H('L1')), list(B, same, H('L2'))] })
    )
    expect(result.decision).toBe('publish')
    expect(result.push).toEqual([A, B])
  })

  test('same images but an annotation no longer asked for → publish (it is removed)', () => {
    const annotated = list(A, { x86_64: NEW('x86_64') }, H('L'))
    if (annotated.exists) annotated.annotations = { 'org.example.release': '40' }
    expect(plan(observe({ arches: ['x86_64'], images: images('x86_64'), current: [annotated] })).decision).toBe('publish')
    expect(
      plan(observe({ arches: ['x86_64'], images: images('x86_64'), current: [annotated], annotations: { 'org.example.release': '40' } }))
        .decision
    ).toBe('unchanged')
  })

  test.each([
    ['another format', { format: 'v2s2' as const }],
    ['missing annotations', { annotations: { 'org.example.release': '40' } }]
  ])('same images but %s → publish', (_name, extra) => {
    const same = { x86_64: NEW('x86_64') }
    const result = plan(observe({ arches: ['x86_64'], images: images('x86_64'), current: [list(A, same, H('L'))], ...extra }))
    expect(result.decision).toBe('publish')
  })

  test('a current tag that is a single image counts as a list of one', () => {
    const single = current(A, [{ digest: OLD('x86_64'), platform: p('linux/amd64') }], {
      digest: OLD('x86_64'),
      mediaType: MEDIA.ociManifest,
      isList: false
    })
    expect(plan(observe({ images: images('x86_64', 'aarch64'), current: [single] })).decision).toBe('publish')
    const lost = plan(observe({ images: images('aarch64'), current: [single], policy: 'hybrid' }))
    expect(lost.lost).toEqual(['x86_64'])
    expect(lost.entries.map(e => [e.arch, e.digest])).toEqual([
      ['x86_64', OLD('x86_64')],
      ['aarch64', NEW('aarch64')]
    ])
  })

  test.each<[Policy]>([['fail'], ['drop'], ['hybrid']])('no images at all is never an empty list (policy %s)', policy => {
    const result = plan(observe({ images: new Map(), current: [absent(A)], policy }))
    expect(result.decision).toBe('refuse')
    expect(result.entries).toEqual([])
    expect(result.reason).toContain('empty list')
  })

  test('drop that would leave nothing refuses too', () => {
    const result = plan(observe({ arches: ['x86_64'], images: new Map(), current: [list(A, { x86_64: OLD('x86_64') })], policy: 'drop' }))
    expect(result.decision).toBe('refuse')
    expect(result.reason).toContain('x86_64 would be dropped')
  })

  test('a platform that maps to no arch fails loudly, naming it', () => {
    const odd = list(A, { x86_64: OLD('x86_64') })
    if (odd.exists) odd.entries.push({ platform: p('linux/mips64le'), digest: H('m'), mediaType: MEDIA.ociManifest })
    const result = plan(observe({ images: images('x86_64'), current: [odd], policy: 'drop' }))
    expect(result.decision).toBe('refuse')
    expect(result.reason).toContain('linux/mips64le')
    expect(result.reason).toContain('arch-map')
  })

  test('arch-map names unknown platforms so they can be handled', () => {
    const odd = list(A, { x86_64: OLD('x86_64') })
    if (odd.exists) odd.entries.push({ platform: p('linux/mips64le'), digest: H('m'), mediaType: MEDIA.ociManifest })
    const result = plan(
      observe({ table: new ArchTable({ mips: p('linux/mips64le') }), images: images('x86_64'), current: [odd], policy: 'drop' })
    )
    expect(result.decision).toBe('publish')
    expect(result.dropped).toEqual(['mips'])
  })

  test('entries follow the order of the arches input, kept ones included', () => {
    const result = plan(
      observe({
        arches: ['s390x', 'x86_64', 'aarch64'],
        images: images('x86_64', 's390x'),
        current: [list(A, { aarch64: OLD('aarch64') })],
        policy: 'hybrid'
      })
    )
    expect(result.entries.map(e => e.arch)).toEqual(['s390x', 'x86_64', 'aarch64'])
  })
})

describe('plan: attestations', () => {
  const att = (subject: string, name: string): Attestation => ({
    digest: H(`att-${name}`),
    mediaType: MEDIA.ociManifest,
    subject,
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subject }
  })
  const withAttestations = (...arches: string[]): Map<string, NewImage | undefined> => {
    const m = images(...arches)
    for (const [arch, image] of m) if (image) image.attestations = [att(image.digest, `new-${arch}`)]
    return m
  }

  test('keep: each new image brings its attestations, fetched from its own repository; they are no arch', () => {
    const result = plan(
      observe({ arches: ['x86_64', 'aarch64'], images: withAttestations('x86_64', 'aarch64'), current: [absent(A)], attestations: 'keep' })
    )
    expect(result.decision).toBe('publish')
    expect(result.entries.map(e => e.arch)).toEqual(['x86_64', 'aarch64'])
    expect(result.attestations.map(a => [a.arch, a.subject, a.ref])).toEqual([
      ['x86_64', NEW('x86_64'), `src.example/fedora@${H('att-new-x86_64')}`],
      ['aarch64', NEW('aarch64'), `src.example/fedora@${H('att-new-aarch64')}`]
    ])
  })

  test('drop: none, even when the sources have them', () => {
    expect(plan(observe({ arches: ['x86_64'], images: withAttestations('x86_64'), current: [absent(A)] })).attestations).toEqual([])
  })

  test('keep with hybrid: the kept arch keeps its attestation from the current list', () => {
    const current = list(A, { x86_64: OLD('x86_64'), aarch64: OLD('aarch64') })
    if (current.exists) current.attestations = [att(OLD('x86_64'), 'old-x86_64'), att(OLD('aarch64'), 'old-aarch64')]
    const result = plan(
      observe({
        arches: ['x86_64', 'aarch64'],
        images: withAttestations('x86_64'),
        current: [current],
        policy: 'hybrid',
        attestations: 'keep'
      })
    )
    expect(result.kept).toEqual(['aarch64'])
    expect(result.attestations.map(a => [a.arch, a.subject, a.ref])).toEqual([
      ['x86_64', NEW('x86_64'), `src.example/fedora@${H('att-new-x86_64')}`],
      ['aarch64', OLD('aarch64'), `reg-a.example/fedora@${H('att-old-aarch64')}`]
    ])
  })

  test.each<['drop' | 'keep', Decision]>([
    ['keep', 'unchanged'],
    ['drop', 'publish']
  ])('a current list with these images and their attestations, attestations %s → %s', (attestations, decision) => {
    const current = list(A, { x86_64: NEW('x86_64') })
    if (current.exists) current.attestations = [att(NEW('x86_64'), 'new-x86_64')]
    expect(plan(observe({ arches: ['x86_64'], images: withAttestations('x86_64'), current: [current], attestations })).decision).toBe(
      decision
    )
  })
})

describe('plan: the reason and rows name exactly what happened', () => {
  const C = 'reg-c.example/fedora:40'
  const all = { x86_64: OLD('x86_64'), s390x: OLD('s390x') }

  test('fail says "every destination" only when the lost arch is at every one of several', () => {
    const reason = (current: Current[]): string | undefined =>
      plan(observe({ arches: ['x86_64'], images: images('x86_64'), current })).reason
    expect(reason([list(A, all), list(B, all)])).toMatch(/^Refusing to publish: s390x \(at every destination\) is/)
    // One destination of one: named, not "every destination".
    expect(reason([list(A, all)])).toMatch(/^Refusing to publish: s390x \(at reg-a\.example\/fedora:40\) is/)
    // Two of three: the two are named.
    expect(reason([list(A, all), list(B, all), list(C, { x86_64: OLD('x86_64') })])).toMatch(
      /^Refusing to publish: s390x \(at reg-a\.example\/fedora:40, reg-b\.example\/fedora:40\) is/
    )
  })

  test('fail with several lost arches lists each with where it is, in the order of the arches input', () => {
    // The current list serves them in another order than the arches input: the plan follows the input.
    const current = [list(A, { x86_64: OLD('x86_64'), s390x: OLD('s390x'), aarch64: OLD('aarch64') }), list(B, { aarch64: OLD('aarch64') })]
    const result = plan(observe({ images: images('x86_64'), current }))
    expect(result.lost).toEqual(['aarch64', 's390x'])
    expect(result.reason).toMatch(/^Refusing to publish: aarch64 \(at every destination\); s390x \(at reg-a\.example\/fedora:40\) are in/)
    expect(result.rows.map(r => r.arch)).toEqual(['x86_64', 'aarch64', 's390x'])
  })

  test('hybrid refusal names each destination and the digest it has for the arch', () => {
    const split = [list(A, { x86_64: OLD('x86_64'), s390x: H('one') }), list(B, { x86_64: OLD('x86_64'), s390x: H('two') })]
    const result = plan(observe({ images: images('x86_64'), current: split, policy: 'hybrid' }))
    expect(result.reason).toBe(
      `Refusing to publish: the destinations disagree on the previous s390x image (${A} has ${H('one')}, ${B} has ${H('two')}), so there is no single image to keep.`
    )
  })

  test.each<[Policy]>([['fail'], ['hybrid'], ['drop']])('nothing lost: nothing kept or dropped (policy %s)', policy => {
    const result = plan(observe({ arches: ['x86_64'], images: images('x86_64'), current: [list(A, { x86_64: OLD('x86_64') })], policy }))
    expect([result.decision, result.kept, result.dropped]).toEqual(['publish', [], []])
  })

  test('rows: new, kept, dropped, lost and missing each for its arch', () => {
    const current = [list(A, { x86_64: OLD('x86_64'), aarch64: OLD('aarch64') })]
    const row = (policy: Policy): string[] =>
      plan(observe({ images: images('x86_64'), current, policy })).rows.map(r => `${r.arch} ${r.outcome}`)
    expect(row('hybrid')).toEqual(['x86_64 new', 'aarch64 kept', 's390x missing'])
    expect(row('drop')).toEqual(['x86_64 new', 'aarch64 dropped', 's390x missing'])
    expect(row('fail')).toEqual(['x86_64 new', 'aarch64 lost', 's390x missing'])
  })

  test('a refused plan has no destination up to date', () => {
    const refused = [
      plan(observe({ arches: ['x86_64'], images: images('x86_64'), current: [list(A, { x86_64: OLD('x86_64'), s390x: OLD('s390x') })] })),
      plan(observe({ images: new Map(), current: [absent(A)] }))
    ]
    expect(refused.map(r => [r.decision, r.upToDate])).toEqual([
      ['refuse', []],
      ['refuse', []]
    ])
  })
})
