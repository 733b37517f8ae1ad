import { createHash } from 'crypto'
import { isUnknownPlatform, Platform, platformKey } from './arch'
import type { Format } from './inputs'

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

/** A manifest as a registry served it: the digest is of these exact bytes. */
export interface Manifest {
  digest: string
  mediaType: string
  isList: boolean
  /** Index entries that are platforms (attestations and unknown/unknown left out). */
  entries: Descriptor[]
  annotations: Record<string, string>
  size: number
}

export function sha256(raw: Buffer | string): string {
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`
}

export function parseManifest(raw: Buffer): Manifest {
  let doc: {
    schemaVersion?: number
    mediaType?: string
    manifests?: Descriptor[]
    config?: unknown
    layers?: unknown
    annotations?: Record<string, string>
  }
  try {
    doc = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new Error('the registry served a manifest that is not JSON')
  }
  if (doc.schemaVersion !== 2) throw new Error(`unsupported manifest schemaVersion ${String(doc.schemaVersion)}`)
  const isList = Array.isArray(doc.manifests)
  const mediaType = doc.mediaType ?? (isList ? MEDIA.ociIndex : MEDIA.ociManifest)
  return {
    digest: sha256(raw),
    mediaType,
    isList,
    entries: isList ? (doc.manifests as Descriptor[]).filter(d => !isAttestation(d)) : [],
    annotations: doc.annotations ?? {},
    size: raw.length
  }
}

function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || isUnknownPlatform(d.platform)
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

/** Platforms an image config declares (config JSON as served). */
export function configPlatform(raw: Buffer): Platform {
  const doc = JSON.parse(raw.toString('utf8')) as { os?: string; architecture?: string; variant?: string }
  return { os: doc.os ?? '', architecture: doc.architecture ?? '', ...(doc.variant ? { variant: doc.variant } : {}) }
}
