import { createHash } from 'crypto'
import { isUnknownPlatform, Platform, platformKey } from './arch'
import type { Format } from './model'
import { inert, quote } from './text'

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json'
} as const

/** The media types a list of the given format has, and that its entries have. */
export const FORMAT_MEDIA: Record<Format, { list: string; entry: string }> = {
  oci: { list: MEDIA.ociIndex, entry: MEDIA.ociManifest },
  v2s2: { list: MEDIA.dockerList, entry: MEDIA.dockerManifest }
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: Platform
  annotations?: Record<string, string>
}

/** An attestation manifest of an index: `subject` is the image it attests (vnd.docker.reference.digest). */
export interface Attestation {
  digest: string
  mediaType: string
  subject: string
  annotations: Record<string, string>
}

export const ATTESTATION = {
  type: 'vnd.docker.reference.type',
  subject: 'vnd.docker.reference.digest',
  kind: 'attestation-manifest'
} as const

/** A manifest as a registry served it: the digest is of these exact bytes. */
export interface Manifest {
  digest: string
  mediaType: string
  isList: boolean
  /** Index entries that are platforms (attestations and unknown/unknown left out). */
  entries: Descriptor[]
  /** Attestation manifests (buildx provenance, SBOM) and the digest of the image each is about. */
  attestations: Attestation[]
  annotations: Record<string, string>
  size: number
}

export function sha256(raw: Buffer | string): string {
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`
}

/** Registries must accept manifests of 4 MiB (distribution spec); nothing this action reads is near it. */
export const MANIFEST_MAX = 4 << 20
/** Far more platforms (and attestations) than any real list has. */
const ENTRIES_MAX = 1000
const ANNOTATIONS_MAX = 256
const ANNOTATION_KEY_MAX = 256
const ANNOTATION_VALUE_MAX = 16 << 10

/** os, architecture, variant, os.version and features: containerd's specifier characters, bounded. */
const PLATFORM_VALUE = /^[A-Za-z0-9_.-]{1,64}$/
/** The registered algorithms of the OCI image spec, hex as it must be written (lowercase). */
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/
const KNOWN_MEDIA: ReadonlySet<string> = new Set(Object.values(MEDIA))
const LIST_MEDIA: ReadonlySet<string> = new Set([MEDIA.ociIndex, MEDIA.dockerList])
/** Control and format characters, or text a runner would read as a line of its own. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Cs}/u

/** Registry content failed validation; the message quotes the bad value through inert(). */
export class ContentError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ContentError'
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

function show(value: unknown): string {
  return typeof value === 'string' ? quote(value) : inert(JSON.stringify(value) ?? String(value))
}

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value)
}

/** One platform field, checked: `where` says whose, e.g. "entry 2". */
function platformValue(where: string, field: string, value: unknown, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined
  if (typeof value !== 'string' || !PLATFORM_VALUE.test(value)) {
    throw new ContentError(
      `${where} has platform ${field} ${show(value)}, which is not a platform value (letters, digits, _ . -; at most 64)`
    )
  }
  return value
}

function parsePlatformObject(where: string, value: unknown): Platform {
  if (!isObject(value)) throw new ContentError(`${where} has a platform that is not an object: ${show(value)}`)
  const os = platformValue(where, 'os', value.os, true) as string
  const architecture = platformValue(where, 'architecture', value.architecture, true) as string
  const variant = platformValue(where, 'variant', value.variant, false)
  platformValue(where, 'os.version', value['os.version'], false)
  for (const field of ['os.features', 'features']) {
    const list = value[field]
    if (list === undefined) continue
    if (!Array.isArray(list) || list.length > 64)
      throw new ContentError(`${where} has platform ${field} ${show(list)}, which is not a short list`)
    for (const item of list) platformValue(where, field, item, true)
  }
  return variant ? { os, architecture, variant } : { os, architecture }
}

function parseAnnotations(where: string, value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) throw new ContentError(`${where} has annotations that are not an object: ${show(value)}`)
  const entries = Object.entries(value)
  if (entries.length > ANNOTATIONS_MAX) throw new ContentError(`${where} has ${entries.length} annotations; at most ${ANNOTATIONS_MAX}`)
  const out: Record<string, string> = {}
  for (const [key, v] of entries) {
    if (!key || key.length > ANNOTATION_KEY_MAX || UNPRINTABLE.test(key)) {
      throw new ContentError(`${where} has the annotation key ${quote(key)}: it must be 1 to ${ANNOTATION_KEY_MAX} printable characters`)
    }
    // Values may span lines (descriptions do); they are only ever shown through inert().
    if (typeof v !== 'string' || v.length > ANNOTATION_VALUE_MAX) {
      throw new ContentError(
        `${where} has the annotation ${quote(key)} = ${show(v)}: it must be a string of at most ${ANNOTATION_VALUE_MAX} characters`
      )
    }
    out[key] = v
  }
  return out
}

function parseDescriptor(where: string, value: unknown): Descriptor {
  if (!isObject(value)) throw new ContentError(`${where} is not an object: ${show(value)}`)
  const { mediaType, digest, size } = value
  if (typeof mediaType !== 'string' || !KNOWN_MEDIA.has(mediaType))
    throw new ContentError(`${where} has the unknown media type ${show(mediaType)}`)
  if (!isDigest(digest)) throw new ContentError(`${where} has the digest ${show(digest)}, which is not sha256:<64 hex> or sha512:<128 hex>`)
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1 || size > MANIFEST_MAX) {
    throw new ContentError(`${where} has the size ${show(size)}; a manifest is 1 to ${MANIFEST_MAX} bytes`)
  }
  const platform = value.platform === undefined ? undefined : parsePlatformObject(where, value.platform)
  const annotations = parseAnnotations(where, value.annotations)
  return { mediaType, digest, size, ...(platform ? { platform } : {}), ...(annotations ? { annotations } : {}) }
}

/**
 * A manifest or list as a registry served it. Registry content is untrusted: everything used later
 * (media types, digests, sizes, platforms, annotations) is checked here, and anything else is refused
 * with a ContentError that quotes it escaped.
 */
export function parseManifest(raw: Buffer): Manifest {
  if (raw.length > MANIFEST_MAX) throw new ContentError(`the registry served a manifest of ${raw.length} bytes; at most ${MANIFEST_MAX}`)
  let doc: unknown
  try {
    doc = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new ContentError('the registry served a manifest that is not JSON')
  }
  if (!isObject(doc)) throw new ContentError('the registry served a manifest that is not a JSON object')
  if (doc.schemaVersion !== 2) throw new ContentError(`unsupported manifest schemaVersion ${show(doc.schemaVersion)}`)
  const isList = doc.manifests !== undefined
  if (isList && !Array.isArray(doc.manifests))
    throw new ContentError(`the registry served a list whose "manifests" is not an array: ${show(doc.manifests)}`)
  const mediaType = doc.mediaType ?? (isList ? MEDIA.ociIndex : MEDIA.ociManifest)
  if (typeof mediaType !== 'string' || !KNOWN_MEDIA.has(mediaType))
    throw new ContentError(`the registry served the unknown media type ${show(mediaType)}`)
  if (LIST_MEDIA.has(mediaType) !== isList) {
    throw new ContentError(`the registry served ${isList ? 'a list' : 'a single manifest'} labelled ${quote(mediaType)}`)
  }
  const manifests = (doc.manifests ?? []) as unknown[]
  if (manifests.length > ENTRIES_MAX)
    throw new ContentError(`the registry served a list of ${manifests.length} entries; at most ${ENTRIES_MAX}`)
  const entries = manifests.map((d, i) => parseDescriptor(`the list's entry ${i + 1}`, d))
  return {
    digest: sha256(raw),
    mediaType,
    isList,
    entries: entries.filter(d => !isAttestation(d)),
    attestations: entries.flatMap(d => {
      const subject = d.annotations?.[ATTESTATION.subject]
      if (d.annotations?.[ATTESTATION.type] !== ATTESTATION.kind || !subject) return []
      if (!DIGEST.test(subject)) throw new ContentError(`an attestation names the image ${show(subject)}, which is not a digest`)
      return [{ digest: d.digest, mediaType: d.mediaType, subject, annotations: d.annotations ?? {} }]
    }),
    annotations: parseAnnotations('the manifest', doc.annotations) ?? {},
    size: raw.length
  }
}

function isAttestation(d: Descriptor): boolean {
  return d.annotations?.[ATTESTATION.type] === ATTESTATION.kind || isUnknownPlatform(d.platform)
}

/**
 * The one entry of a list for a platform. A per-arch tag can be a list (buildx pushes one with an
 * attestation); it must hold exactly one entry for the arch it is published as.
 */
export function pickEntry(list: Manifest, platform: Platform): Descriptor {
  const key = platformKey(platform)
  const matches = list.entries.filter(d => d.platform && platformKey(d.platform) === key)
  if (matches.length === 0) {
    const have = list.entries.map(d => (d.platform ? platformKey(d.platform) : '?')).join(', ') || 'no platforms'
    throw new Error(`it is a list without a ${key} image (it has ${have})`)
  }
  if (matches.length > 1) throw new Error(`it is a list with ${matches.length} entries for ${key}`)
  return matches[0]
}

/** The platform an image config declares (config JSON as served); fields it lacks are ''. */
export function configPlatform(raw: Buffer): Platform {
  let doc: unknown
  try {
    doc = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new ContentError('the registry served an image config that is not JSON')
  }
  if (!isObject(doc)) throw new ContentError('the registry served an image config that is not a JSON object')
  const field = (name: string): string | undefined =>
    doc[name] === undefined || doc[name] === '' ? undefined : platformValue('the image config', name, doc[name], true)
  const variant = field('variant')
  return { os: field('os') ?? '', architecture: field('architecture') ?? '', ...(variant ? { variant } : {}) }
}
