/**
 * The unit tests' one set of builders (images, lists, Current values, entries, plans, inputs) and
 * their one in-memory registry and buildah. The fakes take the real types (`Reader`, `Pick<Skopeo,
 * 'copy'>`, a `Buildah` subclass), so a change to those interfaces fails to compile here, not in a
 * run. Content is honest: a manifest is stored under the sha256 of its bytes, and a reference by
 * digest only ever answers with those bytes.
 */
import * as fs from 'fs'
import * as path from 'path'
import { ArchTable, type Platform } from '../../src/arch'
import { Buildah, parseVersion, type Version } from '../../src/buildah'
import type { Inputs } from '../../src/inputs'
import { FORMAT_MEDIA, MEDIA, sha256 } from '../../src/manifest'
import type { Current, Entry, Format, Plan } from '../../src/model'
import { repositoryOf } from '../../src/reference'
import type { Reader } from '../../src/registry/reader'
import type { Skopeo } from '../../src/skopeo'

/** A well-formed digest that names no content: for comparisons that never read what it names. */
export const fakeDigest = (c: string): string => `sha256:${c.repeat(64)}`

export const amd64: Platform = { os: 'linux', architecture: 'amd64' }
export const arm64: Platform = { os: 'linux', architecture: 'arm64' }
export const s390x: Platform = { os: 'linux', architecture: 's390x' }
/** The platform of an attestation manifest in a list. */
export const unknownPlatform: Platform = { os: 'unknown', architecture: 'unknown' }

export interface Image {
  manifest: Buffer
  config: Buffer
  /** The digest of `manifest`. */
  digest: string
}

/**
 * An image whose config says `platform` (or anything else, for an image that lies); `build` tells
 * apart images of one platform (a new build from an old one).
 */
export function image(platform: Platform | Record<string, string>, o: { build?: string; mediaType?: string } = {}): Image {
  const config = Buffer.from(
    JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [] }, ...(o.build ? { history: [{ created_by: o.build }] } : {}) })
  )
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: o.mediaType ?? MEDIA.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: []
    })
  )
  return { manifest, config, digest: sha256(manifest) }
}

/** One entry of a list as a registry serves it. */
export interface ListEntry {
  digest: string
  mediaType?: string
  size?: number
  platform?: Platform
  annotations?: Record<string, string>
}

/** The list entry that names these manifest bytes (what buildah writes for an added image). */
export function descriptorOf(raw: Buffer, platform?: Platform, annotations?: Record<string, string>): ListEntry {
  const { mediaType } = JSON.parse(raw.toString('utf8')) as { mediaType: string }
  return { digest: sha256(raw), mediaType, size: raw.length, platform, annotations }
}

/** A list's bytes: an OCI index unless told; an entry without a media type is an OCI manifest. */
export function list(entries: ListEntry[], o: { mediaType?: string; annotations?: Record<string, string> } = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: o.mediaType ?? MEDIA.ociIndex,
      manifests: entries.map(e => ({
        mediaType: e.mediaType ?? MEDIA.ociManifest,
        digest: e.digest,
        size: e.size ?? 100,
        ...(e.platform ? { platform: e.platform } : {}),
        ...(e.annotations ? { annotations: e.annotations } : {})
      })),
      ...(o.annotations ? { annotations: o.annotations } : {})
    })
  )
}

/** An entry of the plan, fetched from `repository` (src.example/r unless told). */
export function entry(
  arch: string,
  platform: Platform,
  digest: string,
  o: { mediaType?: string; repository?: string; kept?: boolean } = {}
): Entry {
  return {
    arch,
    platform,
    digest,
    mediaType: o.mediaType ?? MEDIA.ociManifest,
    ref: `${o.repository ?? 'src.example/r'}@${digest}`,
    kept: o.kept ?? false
  }
}

/** A plan to publish `entries`, pushed to `o.push` (nowhere unless told). */
export function planOf(entries: Entry[], o: Partial<Plan> = {}): Plan {
  return {
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
    attestations: [],
    ...o
  }
}

export type Serving = Extract<Current, { exists: true }>

/** A destination serving an OCI index of `entries` (OCI manifests unless told); `o` changes the rest. */
export function current(ref: string, entries: ListEntry[], o: Partial<Serving> = {}): Current {
  return {
    ref,
    repository: repositoryOf(ref),
    exists: true,
    digest: sha256(list(entries)),
    mediaType: MEDIA.ociIndex,
    isList: true,
    entries: entries.map(e => ({ platform: e.platform ?? unknownPlatform, digest: e.digest, mediaType: e.mediaType ?? MEDIA.ociManifest })),
    attestations: [],
    annotations: {},
    ...o
  }
}

/** A destination with nothing at `ref` yet. */
export const absent = (ref: string): Current => ({ ref, repository: repositoryOf(ref), exists: false })

/** Every input, as getInputs would give them for a run over src.example/fedora:40; `o` changes some. */
export function inputs(o: Partial<Inputs> = {}): Inputs {
  return {
    repo: 'fedora',
    repos: ['fedora'],
    tag: '40',
    arches: ['x86_64'],
    registries: ['dst.example'],
    aliases: [],
    archTagRegistry: 'src.example',
    archTag: '{tag}-{arch}',
    archTable: new ArchTable(),
    policy: 'fail',
    format: 'oci',
    annotations: {},
    ignoredAnnotations: [],
    dryRun: false,
    atomic: true,
    tlsVerify: true,
    authFile: '',
    username: '',
    password: '',
    certDir: '',
    retries: 0,
    reads: 'skopeo',
    summary: 'true',
    archImages: {},
    references: [],
    attestations: 'drop',
    registryAuth: [],
    ...o
  }
}

type Hook = (ref: string) => void | Promise<void>

/** One call to the reader: `fresh manifest` is a manifest read that passes the cache. */
export interface Read {
  what: 'manifest' | 'fresh manifest' | 'config' | 'digest'
  ref: string
}

/**
 * A registry in memory, read and written as skopeo does: tags, manifests by digest and config blobs,
 * each per repository. Manifest reads are memoised unless `fresh`, as the real readers do. `onRead`
 * runs before each read that reaches the registry and `onCopy` before each copy (throw to fail it).
 */
export class FakeRegistry implements Reader, Pick<Skopeo, 'copy'> {
  /** `repository@digest` → bytes, manifests and config blobs alike. */
  private readonly content = new Map<string, Buffer>()
  /** Tag reference → the digest it points at. */
  private readonly tags = new Map<string, string>()
  private readonly memo = new Map<string, Buffer | null>()
  readonly reads: Read[] = []
  readonly copies: Array<{ from: string; to: string; indexOnly: boolean }> = []
  onRead: Hook = () => undefined
  onCopy: Hook = () => undefined

  /** Stores images (manifest and config) in `repository`, untagged. */
  put(repository: string, ...images: Image[]): this {
    for (const i of images) {
      this.content.set(`${repository}@${i.digest}`, i.manifest)
      this.content.set(`${repository}@${sha256(i.config)}`, i.config)
    }
    return this
  }

  /** Points `ref` at these manifest bytes, stored under their digest. */
  tag(ref: string, raw: Buffer): this {
    this.content.set(`${repositoryOf(ref)}@${sha256(raw)}`, raw)
    this.tags.set(ref, sha256(raw))
    return this
  }

  /** Someone deleted the tag. */
  untag(ref: string): void {
    this.tags.delete(ref)
  }

  /** Someone deleted what `repository@digest` names (or it was never stored). */
  delete(byDigest: string): void {
    this.content.delete(byDigest)
  }

  /** The digest `ref` serves now, or null: for assertions, so not a read. */
  served(ref: string): string | null {
    const raw = this.get(ref)
    return raw ? sha256(raw) : null
  }

  /** The bytes at `ref` (a tag or `repository@digest`), or null. */
  get(ref: string): Buffer | null {
    const at = ref.indexOf('@')
    const byDigest = at >= 0 ? ref : this.tags.has(ref) ? `${repositoryOf(ref)}@${this.tags.get(ref)}` : ''
    return this.content.get(byDigest) ?? null
  }

  async manifest(ref: string, { fresh = false } = {}): Promise<Buffer | null> {
    this.reads.push({ what: fresh ? 'fresh manifest' : 'manifest', ref })
    const cached = this.memo.get(ref)
    if (cached !== undefined && !fresh) return cached
    await this.onRead(ref)
    const raw = this.get(ref)
    this.memo.set(ref, raw)
    return raw
  }

  async config(ref: string): Promise<Buffer> {
    this.reads.push({ what: 'config', ref })
    await this.onRead(ref)
    const raw = this.get(ref)
    const { config } = raw ? (JSON.parse(raw.toString('utf8')) as { config?: { digest: string } }) : { config: undefined }
    const blob = config && this.content.get(`${repositoryOf(ref)}@${config.digest}`)
    if (!blob) throw new Error(`${ref} disappeared while it was being read`)
    return blob
  }

  async digest(ref: string): Promise<string | null> {
    this.reads.push({ what: 'digest', ref })
    await this.onRead(ref)
    return this.served(ref)
  }

  /** As `skopeo copy --preserve-digests`: the manifest, and unless `indexOnly` what it refers to. */
  async copy(from: string, to: string, { indexOnly = false } = {}): Promise<void> {
    this.copies.push({ from, to, indexOnly })
    await this.onCopy(to)
    this.transfer(from, to, !indexOnly)
  }

  private transfer(from: string, to: string, withContent: boolean): void {
    const raw = this.get(from)
    if (!raw) throw new Error(`reading manifest ${from}: manifest unknown`)
    const [source, target] = [repositoryOf(from), repositoryOf(to)]
    if (withContent) {
      const doc = JSON.parse(raw.toString('utf8')) as { manifests?: Array<{ digest: string }>; config?: { digest: string } }
      for (const m of doc.manifests ?? []) this.transfer(`${source}@${m.digest}`, `${target}@${m.digest}`, true)
      const blob = doc.config && this.content.get(`${source}@${doc.config.digest}`)
      if (doc.config && !blob) throw new Error(`reading blob ${doc.config.digest}: blob unknown`)
      if (doc.config && blob) this.content.set(`${target}@${doc.config.digest}`, blob)
    }
    if (to.includes('@')) this.content.set(`${target}@${sha256(raw)}`, raw)
    else this.tag(to, raw)
  }
}

interface LocalList {
  annotations: Record<string, string>
  entries: ListEntry[]
}

/**
 * buildah in memory: local lists built from what `registry` (or an `oci:` layout) holds, pushed as a
 * list of exactly those entries. `onPush` runs before each push writes (throw to fail it).
 */
export class FakeBuildah extends Buildah {
  readonly lists = new Map<string, LocalList>()
  readonly creates: Array<{ name: string; annotations: Record<string, string>; images: string[] }> = []
  readonly adds: Array<{ name: string; ref: string; platform: Platform }> = []
  readonly pushes: Array<{ ref: string; withImages: boolean; start: number; end?: number }> = []
  /** Whether `create` takes the images (see Buildah.createTakes). */
  together = false
  /** What every list ends up holding whatever was added: a buildah that loses or strays entries. */
  holds?: Array<{ digest: string; platform?: Platform }>
  onPush: Hook = () => undefined
  /** What buildah says it pushed: the digest of what it wrote, unless told otherwise ('' = did not say). */
  pushedDigest: (ref: string, written: string) => string = (_ref, written) => written
  private clock = 0

  constructor(private readonly registry: FakeRegistry) {
    super(parseVersion('1.39.3') as Version, { tlsVerify: true, env: {}, retries: 0 })
  }

  override createTakes(): boolean {
    return this.together
  }

  override async create(name: string, annotations: Record<string, string>, images: string[] = []): Promise<void> {
    this.creates.push({ name, annotations, images })
    this.lists.set(name, { annotations, entries: [] })
    // Their platform comes from their config, as buildah reads it.
    for (const ref of images)
      this.local(name).entries.push(descriptorOf(this.read(ref), JSON.parse(this.configOf(ref).toString('utf8')) as Platform))
  }

  override async add(name: string, ref: string, platform: Platform, annotations?: Record<string, string>): Promise<void> {
    this.adds.push({ name, ref, platform })
    this.local(name).entries.push(descriptorOf(this.read(ref), platform, annotations))
  }

  override async entries(name: string): Promise<Array<{ digest: string; platform?: Platform }>> {
    return this.holds ?? this.local(name).entries.map(e => ({ digest: e.digest, platform: e.platform }))
  }

  override async push(name: string, ref: string, format: Format, withImages: boolean): Promise<string> {
    const p: { ref: string; withImages: boolean; start: number; end?: number } = { ref, withImages, start: this.clock++ }
    this.pushes.push(p)
    // A push takes time: other pushes may start meanwhile.
    await new Promise(resolve => setImmediate(resolve))
    try {
      await this.onPush(ref)
      const { annotations, entries } = this.local(name)
      const raw = list(entries, { mediaType: FORMAT_MEDIA[format].list, ...(Object.keys(annotations).length ? { annotations } : {}) })
      this.registry.tag(ref, raw)
      return this.pushedDigest(ref, sha256(raw))
    } finally {
      p.end = this.clock++
    }
  }

  override async remove(name: string): Promise<void> {
    this.lists.delete(name)
  }

  private local(name: string): LocalList {
    const l = this.lists.get(name)
    if (!l) throw new Error(`${name}: image not known`)
    return l
  }

  /** A manifest from the registry, or from an `oci:<dir>:<name>` layout as containers/image reads it. */
  private read(ref: string): Buffer {
    const layout = /^oci:(.*):([^:]+)$/.exec(ref)
    if (!layout) {
      const raw = this.registry.get(ref)
      if (!raw) throw new Error(`reading manifest ${ref}: manifest unknown`)
      return raw
    }
    const [, dir, refName] = layout
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations?: Record<string, string> }>
    }
    const found = index.manifests.find(m => m.annotations?.['org.opencontainers.image.ref.name'] === refName)
    if (!found) throw new Error(`${ref}: no such image in the layout`)
    return fs.readFileSync(path.join(dir, 'blobs', 'sha256', found.digest.slice('sha256:'.length)))
  }

  private configOf(ref: string): Buffer {
    const { config } = JSON.parse(this.read(ref).toString('utf8')) as { config: { digest: string } }
    const blob = this.registry.get(`${repositoryOf(ref)}@${config.digest}`)
    if (!blob) throw new Error(`${ref}: config blob unknown`)
    return blob
  }
}
