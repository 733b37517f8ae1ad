import type { Platform } from './arch'
import type { Attestation } from './manifest'

/**
 * The domain's types, shared by the phases and the pure planner: what was observed, what the plan
 * is. No behaviour, so importing them loads nothing.
 */

export type Policy = 'fail' | 'skip' | 'hybrid' | 'drop'
export type Format = 'oci' | 'v2s2'

/** A per-arch image found for this build. */
export interface NewImage {
  digest: string
  mediaType: string
  platform: Platform
  /** `<source>/<repo>` the image lives in. */
  repository: string
  /** The attestation manifests its source index holds for it (buildx provenance, SBOM). */
  attestations: Attestation[]
}

export interface CurrentEntry {
  platform: Platform
  digest: string
  mediaType: string
}

/** What a destination serves now. A single image counts as a list of one. */
export type Current =
  | { ref: string; repository: string; exists: false }
  | {
      ref: string
      repository: string
      exists: true
      digest: string
      mediaType: string
      isList: boolean
      entries: CurrentEntry[]
      attestations: Attestation[]
      annotations: Record<string, string>
    }

/** An attestation manifest in the list to publish, with where buildah fetches it from. */
export interface PlannedAttestation extends Attestation {
  /** `<repository>@<digest>`. */
  ref: string
  /** The arch of the image it attests. */
  arch: string
}

/** One image in the list to publish. */
export interface Entry {
  arch: string
  platform: Platform
  digest: string
  mediaType: string
  /** Where buildah fetches it from: `<repository>@<digest>`. */
  ref: string
  kept: boolean
}

export type Decision = 'publish' | 'unchanged' | 'skip' | 'refuse'
export type ArchOutcome = 'new' | 'kept' | 'dropped' | 'lost' | 'missing'

export interface ArchRow {
  arch: string
  newDigest?: string
  /** How many destinations list this arch now. */
  inCurrent: number
  outcome: ArchOutcome
}

export interface Plan {
  decision: Decision
  /** The decision in one sentence. */
  reason: string
  entries: Entry[]
  missing: string[]
  lost: string[]
  kept: string[]
  dropped: string[]
  /** Destinations to push to. */
  push: string[]
  /** Destinations that already serve exactly these entries. */
  upToDate: string[]
  rows: ArchRow[]
  /** Attestation manifests that go into the list (none unless input `attestations` is `keep`). */
  attestations: PlannedAttestation[]
}
