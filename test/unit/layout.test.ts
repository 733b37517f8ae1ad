import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { LocalLayout } from '../../src/layout'
import { sha256 } from '../../src/manifest'
import type { Entry, Plan } from '../../src/model'
import type { Reader } from '../../src/registry/reader'
import { stage } from '../../src/stage'
import type { Buildah } from '../../src/buildah'

const OCI = 'application/vnd.oci.image.manifest.v1+json'
const DOCKER = 'application/vnd.docker.distribution.manifest.v2+json'

function image(architecture: string, mediaType = OCI): { manifest: Buffer; config: Buffer } {
  const config = Buffer.from(JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }))
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: []
    })
  )
  return { manifest, config }
}

let parent: string
beforeEach(() => {
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-layout-'))
})
afterEach(() => fs.rmSync(parent, { recursive: true, force: true }))

describe('LocalLayout', () => {
  test('holds each manifest and config under its digest, named in index.json; removed whole', () => {
    const layout = LocalLayout.create(parent)
    const amd = image('amd64')
    expect(layout.add(amd.manifest, amd.config)).toBe(`oci:${layout.dir}:e0`)
    const blob = (b: Buffer): Buffer => fs.readFileSync(path.join(layout.dir, 'blobs', 'sha256', sha256(b).slice(7)))
    expect(blob(amd.manifest)).toEqual(amd.manifest)
    expect(blob(amd.config)).toEqual(amd.config)
    const index = JSON.parse(fs.readFileSync(path.join(layout.dir, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations: object }>
    }
    expect(index.manifests).toEqual([
      {
        mediaType: OCI,
        digest: sha256(amd.manifest),
        size: amd.manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': 'e0' }
      }
    ])
    layout.remove()
    expect(fs.existsSync(layout.dir)).toBe(false)
  })

  test('a config that is not the one the manifest names is refused', () => {
    const layout = LocalLayout.create(parent)
    expect(() => layout.add(image('amd64').manifest, image('arm64').config)).toThrow(/is not the one its manifest names/)
  })
})

describe('stage: where buildah reads the list entries from', () => {
  const images = { amd: image('amd64'), arm: image('arm64'), docker: image('s390x', DOCKER) }
  const entry = (arch: string, architecture: string, raw: Buffer, mediaType = OCI): Entry => ({
    arch,
    platform: { os: 'linux', architecture },
    digest: sha256(raw),
    mediaType,
    ref: `src.example/x@${sha256(raw)}`,
    kept: false
  })
  const byRef = new Map(Object.values(images).map(i => [`src.example/x@${sha256(i.manifest)}`, i]))
  const reader: Reader = {
    manifest: async ref => byRef.get(ref)?.manifest ?? null,
    config: async ref => byRef.get(ref)?.config as Buffer,
    // Every copy lands: each repository serves each digest.
    digest: async ref => ref.slice(ref.indexOf('@') + 1)
  }
  const run = async (entries: Entry[], format: 'oci' | 'v2s2'): Promise<string[]> => {
    const added: string[] = []
    const buildah = {
      createTakes: () => false,
      create: async () => undefined,
      add: async (_name: string, ref: string) => void added.push(ref),
      entries: async () => entries.map(e => ({ digest: e.digest, platform: e.platform }))
    } as unknown as Buildah
    const plan = { entries, attestations: [], push: ['dst.example/x:1'] } as unknown as Plan
    await stage({
      skopeo: { copy: async () => undefined },
      reader,
      buildah,
      plan,
      refs: ['dst.example/x:1'],
      current: [],
      listName: 'localhost/l',
      format,
      annotations: {},
      layout: LocalLayout.create(parent)
    })
    return added
  }

  test('images that go ahead unchanged: OCI manifests from the layout, no registry read by buildah', async () => {
    const added = await run([entry('x86_64', 'amd64', images.amd.manifest), entry('aarch64', 'arm64', images.arm.manifest)], 'oci')
    expect(added.map(ref => ref.replace(/:[^:]*$/, ''))).toEqual(
      [`oci:${parent}`, `oci:${parent}`].map(() => expect.stringMatching(/^oci:\//))
    )
    expect(added.map(ref => ref.slice(ref.lastIndexOf(':') + 1))).toEqual(['e0', 'e1'])
  })

  test('a Docker manifest entry (the layout reader takes OCI only) and a converting push read the registry', async () => {
    expect(await run([entry('s390x', 's390x', images.docker.manifest, DOCKER)], 'v2s2')).toEqual([
      `src.example/x@${sha256(images.docker.manifest)}`
    ])
    // oci format with a Docker entry converts it: push --all reads the images, so no layout.
    expect(
      await run([entry('x86_64', 'amd64', images.amd.manifest), entry('s390x', 's390x', images.docker.manifest, DOCKER)], 'oci')
    ).toEqual([`src.example/x@${sha256(images.amd.manifest)}`, `src.example/x@${sha256(images.docker.manifest)}`])
  })
})
