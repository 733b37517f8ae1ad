import * as core from '@actions/core'
import { formatPlatform, Platform, platformKey } from './arch'
import { prepareCredentials, removeCredentials } from './auth'
import { Buildah, checkLocal, checkSupported, detectVersion, localListName } from './buildah'
import { archTagFor, destinations, Format, Inputs } from './inputs'
import { configPlatform, FORMAT_MEDIA, parseManifest, pickEntry } from './manifest'
import { checkServed, Current, NewImage, Plan, plan } from './plan'
import { AccessOptions, checkSkopeo, Registry } from './registry'
import { DestinationReport, Report } from './report'
import { explain } from './retry'

/** Names of the values the post step needs if the main step dies before cleaning up. */
export const STATE = { localList: 'local-list', authDir: 'auth-dir' } as const

function destination(report: Report, ref: string): DestinationReport {
  return report.destinations.find(d => d.ref === ref) as DestinationReport
}

/** `host/ns/repo:tag` → `host/ns/repo` (a port's colon comes before the last slash). */
function repositoryOf(ref: string): string {
  return ref.slice(0, ref.lastIndexOf(':'))
}

/** Gathers the facts, plans, and carries the plan out. Throws when the step must fail; `report` says how far it got. */
export async function publish(inputs: Inputs, report: Report): Promise<void> {
  const credentials = prepareCredentials(inputs)
  core.saveState(STATE.authDir, credentials.tempDir ?? '')
  try {
    const access: AccessOptions = {
      tlsVerify: inputs.tlsVerify,
      authFile: credentials.authFile,
      certDir: inputs.certDir || undefined,
      env: credentials.env,
      retries: inputs.retries
    }
    const [version, skopeo] = await Promise.all([detectVersion(access.env), checkSkopeo(access.env)])
    report.buildah = version.text
    core.info(`buildah ${version.text}, ${skopeo}`)
    checkSupported(version, Object.keys(inputs.annotations).length > 0)

    const registry = new Registry(access)
    const refs = destinations(inputs)
    report.destinations = refs.map(ref => ({ ref, status: 'not pushed' }))
    const [images, current] = await Promise.all([
      Promise.all(inputs.arches.map(arch => lookUpImage(registry, inputs, arch))),
      Promise.all(refs.map(ref => readCurrent(registry, ref)))
    ])
    const p = plan({
      arches: inputs.arches,
      table: inputs.archTable,
      images: new Map(inputs.arches.map((arch, i) => [arch, images[i]])),
      current,
      policy: inputs.policy,
      format: inputs.format,
      annotations: inputs.annotations
    })
    report.plan = p
    if (p.decision !== 'refuse') core.info(p.reason)
    for (const ref of p.upToDate) destination(report, ref).status = 'up to date'

    if (p.decision === 'refuse') throw new Error(p.reason)
    if (inputs.dryRun) {
      for (const ref of p.push) destination(report, ref).status = 'would push'
      report.result = 'dry-run'
      return
    }
    if (p.decision === 'skip') {
      core.warning(p.reason)
      report.result = 'skipped'
      return
    }
    if (p.decision === 'unchanged') {
      report.digest = current[0].exists ? current[0].digest : ''
      report.result = 'unchanged'
      return
    }
    await carryOut(p, inputs, new Buildah(version, access), registry, current, report)
  } finally {
    removeCredentials(credentials)
    core.saveState(STATE.authDir, '')
  }
}

/** The new image for one arch, resolved to a single image and checked against the arch it claims to be. */
async function lookUpImage(registry: Registry, inputs: Inputs, arch: string): Promise<NewImage | undefined> {
  const repository = `${inputs.source}/${inputs.repo}`
  const ref = `${repository}:${archTagFor(inputs.archTag, inputs.tag, arch)}`
  const want = inputs.archTable.platform(arch) as Platform // getInputs refused unknown arches
  try {
    const raw = await registry.manifest(ref)
    if (!raw) {
      core.info(`${arch}: no image at ${ref}`)
      return undefined
    }
    const manifest = parseManifest(raw)
    const chosen = manifest.isList ? pickEntry(manifest, want) : manifest
    const platform = configPlatform(await registry.config(`${repository}@${chosen.digest}`))
    if (platformKey(platform) !== platformKey(want)) {
      throw new Error(`it is published as ${arch} (${formatPlatform(want)}) but its config says ${formatPlatform(platform) || 'nothing'}`)
    }
    core.info(`${arch}: ${ref} is ${chosen.digest} (${formatPlatform(platform)})`)
    return { digest: chosen.digest, mediaType: chosen.mediaType, platform, repository }
  } catch (e) {
    throw new Error(`The ${arch} image ${ref}: ${explain(e)}`)
  }
}

/** What a destination serves now; a single image is read as a list of one, with its config's platform. */
async function readCurrent(registry: Registry, ref: string): Promise<Current> {
  const repository = repositoryOf(ref)
  try {
    const raw = await registry.manifest(ref)
    if (!raw) return { ref, repository, exists: false }
    const m = parseManifest(raw)
    const entries = m.isList
      ? m.entries.map(d => ({ platform: d.platform as Platform, digest: d.digest, mediaType: d.mediaType }))
      : [{ platform: configPlatform(await registry.config(`${repository}@${m.digest}`)), digest: m.digest, mediaType: m.mediaType }]
    return { ref, repository, exists: true, digest: m.digest, mediaType: m.mediaType, isList: m.isList, entries, annotations: m.annotations }
  } catch (e) {
    throw new Error(`Reading the current ${ref}: ${explain(e)}; nothing was published`)
  }
}

/**
 * Pushes to every destination. When the images are already in every repository, all pushes run at
 * once: each writes only the list. Otherwise, per repository, the first push uploads the images and
 * the other tags follow: concurrent uploads into one repository race ("manifest blob unknown").
 */
async function pushAll(refs: string[], pushOne: (ref: string) => Promise<void>, imagesInPlace: boolean): Promise<void> {
  if (imagesInPlace) {
    await Promise.all(refs.map(pushOne))
    return
  }
  const byRepository = new Map<string, string[]>()
  for (const ref of refs) byRepository.set(repositoryOf(ref), [...(byRepository.get(repositoryOf(ref)) ?? []), ref])
  await Promise.all(
    [...byRepository.values()].map(async ([first, ...rest]) => {
      await pushOne(first)
      await Promise.all(rest.map(pushOne))
    })
  )
}

/**
 * Copies each image, by digest and unchanged, into each destination repository that does not list it
 * yet, all at once and while the local list is built; the list push then only has to write the list.
 * Images the format converts (an OCI image into a v2s2 list) cannot go ahead: `push --all` converts
 * them. `done` resolves to the first failure per repository; it never rejects.
 */
function copyImages(p: Plan, format: Format, registry: Registry, current: Current[]): { done: Promise<Map<string, unknown>>; inPlace: boolean } {
  const failures = new Map<string, unknown>()
  const inPlace = p.entries.every(e => e.mediaType === FORMAT_MEDIA[format].entry)
  if (!inPlace) return { done: Promise.resolve(failures), inPlace }
  const jobs = [...new Set(p.push.map(repositoryOf))].flatMap(repository => {
    const listed = new Set(current.flatMap(c => (c.exists && c.repository === repository ? c.entries.map(e => e.digest) : [])))
    return p.entries
      .filter(e => e.ref.slice(0, e.ref.lastIndexOf('@')) !== repository && !listed.has(e.digest))
      .map(async e => {
        try {
          await registry.copy(e.ref, `${repository}@${e.digest}`)
        } catch (error) {
          if (!failures.has(repository)) failures.set(repository, error)
        }
      })
  })
  return { done: Promise.all(jobs).then(() => failures), inPlace }
}

/** Builds the local list, pushes it where the plan says, and trusts only what the registries serve afterwards. */
async function carryOut(p: Plan, inputs: Inputs, buildah: Buildah, registry: Registry, current: Current[], report: Report): Promise<void> {
  const name = localListName(inputs.repo, inputs.tag)
  core.saveState(STATE.localList, name)
  // While the list is built, the images go ahead into the repositories that lack them (untagged until the list is pushed).
  const copies = copyImages(p, inputs.format, registry, current)
  try {
    await buildah.create(name, inputs.annotations)
    for (const entry of p.entries) await buildah.add(name, entry.ref, entry.platform)
    const problem = checkLocal(await buildah.entries(name), p.entries)
    if (problem) throw new Error(`Refusing to push: ${problem}`)
    const copyFailures = await copies.done

    const digests = new Map<string, string>()
    const pushAndVerify = async (ref: string): Promise<void> => {
      const d = destination(report, ref)
      try {
        const copyFailure = copyFailures.get(repositoryOf(ref))
        if (copyFailure) throw copyFailure
        const pushed = await buildah.push(name, ref, inputs.format, !copies.inPlace)
        const raw = await registry.manifest(ref, { fresh: true })
        const served = raw ? parseManifest(raw) : null
        const wrong = checkServed(served, p.entries, inputs.format, inputs.annotations)
        if (wrong || !served) throw new Error(`after the push ${wrong}`)
        if (pushed && pushed !== served.digest) throw new Error(`buildah pushed ${pushed} but the registry serves ${served.digest}`)
        digests.set(ref, served.digest)
        Object.assign(d, { status: 'published', detail: undefined })
        core.info(`${ref}: pushed, and it serves ${served.digest}`)
      } catch (e) {
        Object.assign(d, { status: 'failed', detail: explain(e) })
        core.info(`${ref}: failed: ${d.detail}`)
      }
    }
    await pushAll(p.push, pushAndVerify, copies.inPlace)

    // One digest everywhere: the first destination's is the reference.
    const reference = p.push.map(ref => digests.get(ref)).find(Boolean)
    for (const [ref, digest] of digests) {
      if (digest !== reference) Object.assign(destination(report, ref), { status: 'failed', detail: `serves ${digest}, other destinations ${reference}` })
    }
    if (reference) {
      report.digest = reference
      // Lists already holding these images but under another digest are rewritten, so they agree.
      const stale = current.filter(c => p.upToDate.includes(c.ref) && c.exists && c.digest !== reference).map(c => c.ref)
      await pushAll(stale, pushAndVerify, copies.inPlace)
    }
  } finally {
    await copies.done
    await buildah.remove(name).catch((e: unknown) => core.warning(`Could not remove the local list ${name}: ${explain(e)}`))
    core.saveState(STATE.localList, '')
  }
  const failed = report.destinations.filter(d => d.status === 'failed')
  if (failed.length > 0) {
    throw new Error(
      `Published to ${report.destinations.length - failed.length} of ${report.destinations.length} destinations; failed: ${failed.map(d => `${d.ref} (${d.detail})`).join('; ')}`
    )
  }
  report.result = 'published'
}
