import * as log from './log'
import { Buildah } from './buildah'
import type { Format } from './inputs'
import { FORMAT_MEDIA } from './manifest'
import { repositoryOf } from './observe'
import type { Entry, Plan } from './plan'
import { explain } from './retry'
import { Skopeo } from './skopeo'
import { checkLocal, servedDigest } from './verify'

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

/** Puts one image into one repository unless it is there already, then confirms it is. */
async function stageImage(skopeo: Skopeo, entry: Entry, repository: string): Promise<void> {
  const target = `${repository}@${entry.digest}`
  if ((await servedDigest(skopeo, target)) === entry.digest) return
  log.info(`Copying ${entry.arch} ${entry.ref} to ${repository}`)
  await skopeo.copy(entry.ref, target)
  const served = await servedDigest(skopeo, target)
  if (served !== entry.digest) throw new Error(`after the copy ${repository} serves ${served ?? 'nothing'} for ${entry.digest}`)
  log.info(`${entry.arch}: ${repository} has ${entry.digest}`)
}

/** Every entry into every repository of `refs`; all at once. Fails with every failure named. */
export async function stageImages(skopeo: Skopeo, p: Plan, refs: string[]): Promise<void> {
  const repositories = [...new Set(refs.map(repositoryOf))]
  const jobs = repositories.flatMap(repository =>
    p.entries.map(entry =>
      stageImage(skopeo, entry, repository).then(
        () => undefined,
        (e: unknown) => `${entry.arch} into ${repository}: ${explain(e)}`
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
export async function buildLocalList(buildah: Pick<Buildah, 'create' | 'add' | 'entries'>, name: string, p: Plan, annotations: Record<string, string>): Promise<void> {
  await buildah.create(name, annotations)
  for (const entry of p.entries) await buildah.add(name, entry.ref, entry.platform)
  const problem = checkLocal(await buildah.entries(name), p.entries)
  if (problem) throw new Error(`Refusing to push: ${problem}`)
}

/** Both halves of staging, side by side; waits for both so nothing runs on after a failure. */
export async function stage(o: { skopeo: Skopeo; buildah: Buildah; plan: Plan; refs: string[]; listName: string; format: Format; annotations: Record<string, string> }): Promise<void> {
  const results = await Promise.allSettled([
    imagesGoAhead(o.plan, o.format) ? stageImages(o.skopeo, o.plan, o.refs) : Promise.resolve(),
    buildLocalList(o.buildah, o.listName, o.plan, o.annotations)
  ])
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}
