import { formatPlatform, Platform, platformKey } from './arch'
import type { Inputs } from './inputs'
import { archTagFor } from './inputs/references'
import { configPlatform, parseManifest, pickEntry } from './manifest'
import type { Current, NewImage } from './model'
import { repositoryOf } from './reference'
import { explain } from './retry'
import type { Reader } from './registry/reader'

/** The per-arch tag an arch's image is read from when `arch-images` does not name it. */
function perArchRef(inputs: Inputs, arch: string): string {
  return `${inputs.archTagRegistry}/${inputs.repo}:${archTagFor(inputs.archTag, inputs.tag, arch)}`
}

/** Every image this run reads from: what registries.conf mirrors and locations apply to. */
export function imageRefs(inputs: Inputs): string[] {
  if (Object.keys(inputs.archImages).length > 0) return Object.values(inputs.archImages)
  return inputs.repos.flatMap(repo => inputs.arches.map(arch => perArchRef({ ...inputs, repo }, arch)))
}

/** What was read, and a line about each read in a stable order (the reads themselves run at once). */
export interface Observation<T> {
  value: T
  lines: string[]
}

/**
 * The new image for every arch asked for (undefined: none), each checked against the arch it claims
 * to be. `served`: what the destinations serve, read meanwhile; an image a current list already
 * names under the platform it claims needs no config read (it is served as that today).
 */
export async function observeImages(
  reader: Reader,
  inputs: Inputs,
  served: Promise<Current[]> = Promise.resolve([])
): Promise<Observation<Map<string, NewImage | undefined>>> {
  // At once: an image that fails first must not leave a failed reading unhandled. Its own reader reports it.
  const current = served.catch(() => [] as Current[])
  const lines: string[][] = inputs.arches.map(() => [])
  const images = await Promise.all(inputs.arches.map((arch, i) => lookUpImage(reader, inputs, arch, current, line => lines[i].push(line))))
  return { value: new Map(inputs.arches.map((arch, i) => [arch, images[i]])), lines: lines.flat() }
}

/** The current list that names `digest` as `platform`, if any. */
async function listing(
  served: Promise<Current[]>,
  digest: string,
  platform: Platform
): Promise<{ ref: string; platform: Platform } | undefined> {
  for (const c of await served) {
    const entry = c.exists ? c.entries.find(e => e.digest === digest && platformKey(e.platform) === platformKey(platform)) : undefined
    if (entry) return { ref: c.ref, platform: entry.platform }
  }
  return undefined
}

async function lookUpImage(
  reader: Reader,
  inputs: Inputs,
  arch: string,
  served: Promise<Current[]>,
  note: (line: string) => void
): Promise<NewImage | undefined> {
  const given = inputs.archImages[arch] as string | undefined
  if (Object.keys(inputs.archImages).length > 0 && !given) {
    note(`${arch}: no image in input "arch-images"`)
    return undefined
  }
  const ref = given ?? perArchRef(inputs, arch)
  const repository = repositoryOf(ref)
  const want = inputs.archTable.platform(arch) as Platform // getInputs refused unknown arches
  try {
    const raw = await reader.manifest(ref)
    if (!raw) {
      note(`${arch}: no image at ${ref}`)
      return undefined
    }
    const manifest = parseManifest(raw)
    const chosen = manifest.isList ? pickEntry(manifest, want) : manifest
    const listed = await listing(served, chosen.digest, want)
    const platform = listed?.platform ?? configPlatform(await reader.config(`${repository}@${chosen.digest}`))
    if (platformKey(platform) !== platformKey(want)) {
      throw new Error(`it is published as ${arch} (${formatPlatform(want)}) but its config says ${formatPlatform(platform) || 'nothing'}`)
    }
    const attestations = manifest.attestations.filter(a => a.subject === chosen.digest)
    note(
      `${arch}: ${ref} is ${chosen.digest} (${formatPlatform(platform)}${listed ? `, as ${listed.ref} lists it` : ''})${attestations.length ? `, with ${attestations.length} attestation(s)` : ''}`
    )
    return { digest: chosen.digest, mediaType: chosen.mediaType, platform, repository, attestations }
  } catch (e) {
    throw new Error(`The ${arch} image ${ref}: ${explain(e)}`)
  }
}

/** What every destination serves now, read afresh (a re-plan must not see the first reading). */
export async function observeCurrent(reader: Reader, refs: string[]): Promise<Observation<Current[]>> {
  const lines: string[] = refs.map(() => '')
  const current = await Promise.all(refs.map((ref, i) => readCurrent(reader, ref, line => (lines[i] = line))))
  return { value: current, lines }
}

/** A single image is read as a list of one, with its config's platform. */
async function readCurrent(reader: Reader, ref: string, note: (line: string) => void): Promise<Current> {
  const repository = repositoryOf(ref)
  try {
    const raw = await reader.manifest(ref, { fresh: true })
    if (!raw) {
      note(`${ref}: no list yet`)
      return { ref, repository, exists: false }
    }
    const m = parseManifest(raw)
    const entries = m.isList
      ? m.entries.map(d => ({ platform: d.platform as Platform, digest: d.digest, mediaType: d.mediaType }))
      : [{ platform: configPlatform(await reader.config(`${repository}@${m.digest}`)), digest: m.digest, mediaType: m.mediaType }]
    note(`${ref}: serves ${m.digest} (${entries.map(e => formatPlatform(e.platform)).join(', ')})`)
    return {
      ref,
      repository,
      exists: true,
      digest: m.digest,
      mediaType: m.mediaType,
      isList: m.isList,
      entries,
      attestations: m.attestations,
      annotations: m.annotations
    }
  } catch (e) {
    throw new Error(`Reading the current ${ref}: ${explain(e)}; nothing was published`)
  }
}
