import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { LocalLayout } from '../../src/layout'
import { MEDIA, sha256 } from '../../src/manifest'
import type { Entry } from '../../src/model'
import { stage } from '../../src/stage'
import { amd64, arm64, entry as planned, FakeBuildah, FakeRegistry, image, planOf, s390x } from './builders'

const OCI = MEDIA.ociManifest
const DOCKER = MEDIA.dockerManifest

let parent: string
beforeEach(() => {
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-layout-'))
})
afterEach(() => fs.rmSync(parent, { recursive: true, force: true }))

describe('LocalLayout', () => {
  test('holds each manifest and config under its digest, named in index.json; removed whole', () => {
    const layout = LocalLayout.create(parent)
    const amd = image(amd64)
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

  test('is a new directory in the parent named as ours, marked as an OCI layout the way containers/image requires', () => {
    const layout = LocalLayout.create(parent)
    // The prefix says whose it is if a killed run leaves it behind.
    expect(path.dirname(layout.dir)).toBe(parent)
    expect(path.basename(layout.dir)).toMatch(/^multiarch-publish-layout-.+/)
    // containers/image refuses a layout whose oci-layout file lacks this version.
    expect(JSON.parse(fs.readFileSync(path.join(layout.dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' })
  })

  // A clean-up after a failure may remove a layout already gone.
  test('remove takes the whole directory, blobs included, and a second remove is harmless', () => {
    const layout = LocalLayout.create(parent)
    layout.add(image(amd64).manifest, image(amd64).config)
    layout.remove()
    expect(fs.existsSync(layout.dir)).toBe(false)
    expect(() => layout.remove()).not.toThrow()
  })

  test('a config that is not the one the manifest names is refused', () => {
    const layout = LocalLayout.create(parent)
    expect(() => layout.add(image(amd64).manifest, image(arm64).config)).toThrow(/is not the one its manifest names/)
  })
})

describe('stage: where buildah reads the list entries from', () => {
  const images = { amd: image(amd64), arm: image(arm64), docker: image(s390x, { mediaType: DOCKER }) }
  const entry = (arch: string, architecture: string, raw: Buffer, mediaType: string = OCI): Entry =>
    planned(arch, { os: 'linux', architecture }, sha256(raw), { mediaType, repository: 'src.example/x' })
  const run = async (entries: Entry[], format: 'oci' | 'v2s2'): Promise<string[]> => {
    const registry = new FakeRegistry().put('src.example/x', ...Object.values(images))
    const buildah = new FakeBuildah(registry)
    await stage({
      skopeo: registry,
      reader: registry,
      buildah,
      plan: planOf(entries, { push: ['dst.example/x:1'] }),
      refs: ['dst.example/x:1'],
      current: [],
      listName: 'localhost/l',
      format,
      annotations: {},
      layout: LocalLayout.create(parent)
    })
    return buildah.adds.map(a => a.ref)
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
