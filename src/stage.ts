import * as log from './log'
import { Buildah } from './buildah'
import type { Format } from './model'
import { LocalLayout } from './layout'
import { FORMAT_MEDIA, MEDIA } from './manifest'
import { repositoryOf, sameReference } from './reference'
import type { Current, Entry, Plan } from './model'
import { explain } from './retry'
import type { Reader } from './registry/reader'
import { Skopeo, type LoopbackSource } from './skopeo'
import { checkLocal } from './compare'

/**
 * Stage: everything the list needs goes where it will be needed, and nothing a user pulls by tag
 * changes. Every image goes into every destination repository by digest (untagged) and is read back
 * there; meanwhile the local list is built and checked against the plan.
 */

/**
 * Whether the images can go ahead unchanged. When the format converts them (OCI images into a v2s2
 * list), only `push --all` can write the converted images, so they travel with the list at commit.
 */
export function imagesGoAhead(p: Plan, format: Format): boolean {
  return p.entries.every(e => e.mediaType === FORMAT_MEDIA[format].entry)
}

/** What staging moves: an image, or an attestation manifest (named after the arch it attests). */
interface Item {
  label: string
  ref: string
  digest: string
}

/** Everything the list refers to: its images and, with `attestations: keep`, their attestations. */
export function itemsOf(p: Plan): Item[] {
  return [
    ...p.entries.map(e => ({ label: e.arch, ref: e.ref, digest: e.digest })),
    ...p.attestations.map(a => ({ label: `${a.arch} attestation`, ref: a.ref, digest: a.digest }))
  ]
}

/** Where a copy reads an image from, when not from its registry directly (the relay, registry/relay.ts). */
export interface CopySources {
  source(ref: string): LoopbackSource | undefined
}

/** Copies one image into one repository, by digest, then confirms the repository serves it. */
async function stageItem(skopeo: Pick<Skopeo, 'copy'>, reader: Reader, item: Item, repository: string, via?: CopySources): Promise<void> {
  const target = `${repository}@${item.digest}`
  log.info(`Copying ${item.label} ${item.ref} to ${repository}`)
  await skopeo.copy(item.ref, target, { via: via?.source(item.ref) })
  const served = await reader.digest(target)
  if (served !== item.digest) throw new Error(`after the copy ${repository} serves ${served ?? 'nothing'} for ${item.digest}`)
  log.info(`${item.label}: ${repository} has ${item.digest}`)
}

/**
 * Every item into every repository of `refs` that does not have it yet; all at once. A repository
 * has an item when it is where the item was read from, or when a list it serves now refers to it
 * (the registry checked the entries exist when that list was written). Fails with every failure named.
 */
export async function stageImages(
  skopeo: Pick<Skopeo, 'copy'>,
  reader: Reader,
  p: Plan,
  refs: string[],
  current: Current[],
  via?: CopySources
): Promise<void> {
  const repositories = [...new Set(refs.map(repositoryOf))]
  const has = (repository: string, item: Item): boolean =>
    sameReference(repositoryOf(item.ref), repository) ||
    current.some(
      c => c.exists && sameReference(c.repository, repository) && [...c.entries, ...c.attestations].some(e => e.digest === item.digest)
    )
  const jobs = repositories.flatMap(repository =>
    itemsOf(p)
      .filter(item => !has(repository, item))
      .map(item =>
        stageItem(skopeo, reader, item, repository, via).then(
          () => undefined,
          (e: unknown) => `${item.label} into ${repository}: ${explain(e)}`
        )
      )
  )
  const failures = (await Promise.all(jobs)).filter(Boolean)
  if (failures.length > 0) throw new Error(`Staging failed, nothing was published: ${failures.join('; ')}`)
}

/**
 * The local list: created empty (a failed `create NAME IMAGE…` leaves an empty list behind that
 * `push --all` publishes), filled one image at a time by digest with an explicit platform, then read
 * back: it must hold exactly the plan.
 */
export async function buildLocalList(
  buildah: Pick<Buildah, 'create' | 'createTakes' | 'add' | 'entries'>,
  name: string,
  p: Plan,
  annotations: Record<string, string>,
  sourceOf: (e: Entry) => Promise<string> = async e => e.ref
): Promise<void> {
  // Each entry as buildah reads it: from its registry, or from the local layout.
  const entries = await Promise.all(p.entries.map(async e => ({ ...e, ref: await sourceOf(e) })))
  // New images in one `create` where buildah can; kept ones (their platform is the list's word, not
  // their config's) and the rest one at a time, with an explicit platform.
  const fresh = entries.filter(e => !e.kept)
  const together = buildah.createTakes(fresh.map(e => e.ref)) ? fresh : []
  await buildah.create(
    name,
    annotations,
    together.map(e => e.ref)
  )
  for (const entry of entries.filter(e => !together.includes(e))) await buildah.add(name, entry.ref, entry.platform)
  for (const a of p.attestations) await buildah.add(name, a.ref, { os: 'unknown', architecture: 'unknown' }, a.annotations)
  const problem = checkLocal(await buildah.entries(name), p.entries, p.attestations)
  if (problem) throw new Error(`Refusing to push: ${problem}`)
}

function missing(e: Entry): never {
  throw new Error(`${e.ref} disappeared while it was being read`)
}

/** Both halves of staging, side by side; waits for both so nothing runs on after a failure. */
export async function stage(o: {
  skopeo: Pick<Skopeo, 'copy'>
  reader: Reader
  buildah: Buildah
  plan: Plan
  refs: string[]
  current: Current[]
  listName: string
  format: Format
  annotations: Record<string, string>
  /** Where the local list's images are read from instead of their registries (when they go ahead). */
  layout?: LocalLayout
  /** Where copies read their images from instead of their registries. */
  via?: CopySources
}): Promise<void> {
  const goAhead = imagesGoAhead(o.plan, o.format)
  const layout = goAhead ? o.layout : undefined
  // Only what the push needs is in the layout: no layers, so only a push without `--all` may use it.
  const sourceOf = async (e: Entry): Promise<string> =>
    layout && e.mediaType === MEDIA.ociManifest
      ? layout.add((await o.reader.manifest(e.ref)) ?? missing(e), await o.reader.config(e.ref))
      : e.ref
  const results = await Promise.allSettled([
    goAhead ? stageImages(o.skopeo, o.reader, o.plan, o.refs, o.current, o.via) : Promise.resolve(),
    buildLocalList(o.buildah, o.listName, o.plan, o.annotations, sourceOf)
  ])
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}
