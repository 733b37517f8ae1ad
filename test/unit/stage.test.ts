import { Platform } from '../../src/arch'
import type { Entry, Plan } from '../../src/model'
import { buildLocalList, imagesGoAhead } from '../../src/stage'

const OCI = 'application/vnd.oci.image.manifest.v1+json'
const DOCKER = 'application/vnd.docker.distribution.manifest.v2+json'
const entry = (arch: string, architecture: string, digest: string, mediaType = OCI): Entry => ({
  arch,
  platform: { os: 'linux', architecture },
  digest,
  mediaType,
  ref: `r.example/x@${digest}`,
  kept: false
})
const planOf = (entries: Entry[]): Plan =>
  ({
    decision: 'publish',
    reason: '',
    entries,
    missing: [],
    lost: [],
    kept: [],
    dropped: [],
    push: [],
    upToDate: [],
    rows: [],
    attestations: []
  }) as Plan

/** A fake buildah whose list ends up holding `holds` whatever was added (a lost add, a stray entry). */
function fakeBuildah(holds?: Array<{ digest: string; platform?: Platform }>, together = false) {
  const added: Array<{ ref: string; platform: Platform }> = []
  return {
    added,
    createTakes: () => together,
    create: jest.fn(async (_name: string, _annotations: Record<string, string>, images: string[] = []) => {
      for (const ref of images) added.push({ ref, platform: { os: 'linux', architecture: ref.endsWith('aa') ? 'amd64' : 'arm64' } })
    }),
    add: jest.fn(async (_name: string, ref: string, platform: Platform) => {
      added.push({ ref, platform })
    }),
    entries: jest.fn(async () => holds ?? added.map(a => ({ digest: a.ref.split('@')[1], platform: a.platform })))
  }
}

describe('buildLocalList', () => {
  const p = planOf([entry('x86_64', 'amd64', 'sha256:aa'), entry('aarch64', 'arm64', 'sha256:bb')])

  test('creates the list empty, adds each entry by digest with its platform, in plan order', async () => {
    const buildah = fakeBuildah()
    await buildLocalList(buildah, 'localhost/l', p, { k: 'v' })
    expect(buildah.create).toHaveBeenCalledWith('localhost/l', { k: 'v' }, [])
    expect(buildah.added).toEqual([
      { ref: 'r.example/x@sha256:aa', platform: { os: 'linux', architecture: 'amd64' } },
      { ref: 'r.example/x@sha256:bb', platform: { os: 'linux', architecture: 'arm64' } }
    ])
  })

  test('where buildah can, the new images go in with the create; kept ones are added with their platform', async () => {
    const kept = { ...entry('s390x', 's390x', 'sha256:cc'), kept: true }
    const buildah = fakeBuildah(undefined, true)
    await buildLocalList(
      buildah,
      'localhost/l',
      planOf([entry('x86_64', 'amd64', 'sha256:aa'), entry('aarch64', 'arm64', 'sha256:bb'), kept]),
      {}
    )
    expect(buildah.create).toHaveBeenCalledWith('localhost/l', {}, ['r.example/x@sha256:aa', 'r.example/x@sha256:bb'])
    expect(buildah.add).toHaveBeenCalledTimes(1)
    expect(buildah.add).toHaveBeenCalledWith('localhost/l', 'r.example/x@sha256:cc', { os: 'linux', architecture: 's390x' })
  })

  test.each<[string, Array<{ digest: string; platform?: Platform }>]>([
    ['an entry lost (parallel adds before 1.35)', [{ digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } }]],
    ['empty (a failed create with images)', []],
    [
      'a stray entry',
      [
        { digest: 'sha256:aa', platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:bb', platform: { os: 'linux', architecture: 'arm64' } },
        { digest: 'sha256:cc', platform: { os: 'linux', architecture: 's390x' } }
      ]
    ]
  ])('refuses to go on when the local list is not the plan: %s', async (_, holds) => {
    await expect(buildLocalList(fakeBuildah(holds), 'localhost/l', p, {})).rejects.toThrow(
      /^Refusing to push: the local list holds \[.*\] but the plan is \[linux\/amd64@sha256:aa, linux\/arm64@sha256:bb\]$/
    )
  })
})

describe('imagesGoAhead', () => {
  test.each<[string, string[], 'oci' | 'v2s2', boolean]>([
    ['OCI images into an OCI index', [OCI, OCI], 'oci', true],
    ['Docker images into a Docker list', [DOCKER, DOCKER], 'v2s2', true],
    ['OCI images into a Docker list: converted by push --all', [OCI, DOCKER], 'v2s2', false]
  ])('%s', (_, media, format, expected) => {
    expect(imagesGoAhead(planOf(media.map((m, i) => entry(`a${i}`, `arch${i}`, `sha256:${i}`, m))), format)).toBe(expected)
  })
})
