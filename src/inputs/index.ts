import { parseYaml } from '../yaml'
import type { Format, Policy } from '../model'
import { ArchTable, parseArchMap, platformKey } from '../arch'
import { quote } from '../text'
import { parseAnnotations } from './annotations'
import { readDestinations } from './destinations'
import { checkAuthFile, isDirectory } from './files'
import { refuseOverwrites } from './overwrites'
import { parseReference, parseRegistry, Reference } from './references'
import { isUsername, parseRegistryAuth, RegistryAuth } from './registry-auth'
import { GetInput, InputError, isObject, parseBool, parseEnum, parseList, required } from './values'

/** `true`: the summary file, and the log where the runner does not show the file; `log`: the log only. */
export type SummaryMode = 'true' | 'log' | 'false'

/** Inputs renamed before the first release: the old name is refused, naming the new one. */
export const RENAMED_INPUTS: Readonly<Record<string, string>> = { sources: 'arch-images', source: 'arch-tag-registry' }

/** Every input, validated. Built in one place so nothing downstream re-parses strings. */
export interface Inputs {
  /** The first of `repos`; for a run over one repository, the repository. */
  repo: string
  /** Every repository to publish (input `repo` is a list): each gets its own list, plan and commit. */
  repos: string[]
  tag: string
  arches: string[]
  registries: string[]
  aliases: string[]
  /** Registry prefix of the per-arch tags (input `arch-tag-registry`; default the first registry). */
  archTagRegistry: string
  archTag: string
  archTable: ArchTable
  policy: Policy
  format: Format
  /** Index annotations: the list's own, from unprefixed and `index:` lines. */
  annotations: Record<string, string>
  /** `manifest:` and other per-image lines of `annotations` (metadata-action's default), as given: not for a list. */
  ignoredAnnotations: string[]
  dryRun: boolean
  /** All destinations move together: a failed commit puts back the tags it already moved. */
  atomic: boolean
  tlsVerify: boolean
  authFile: string
  username: string
  password: string
  certDir: string
  retries: number
  /** auto: reads in process where the configuration allows; skopeo: every read through skopeo. */
  reads: 'auto' | 'skopeo'
  summary: SummaryMode
  /** arch → image reference (by digest or tag), from `arch-images`; empty: `<arch-tag-registry>/<repo>:<arch-tag>`. */
  archImages: Record<string, string>
  /** Full destination references, from `references`; empty: `registries` x `repo` x `tag` and `aliases`. */
  references: string[]
  /** `keep`: the attestation manifests of the source indexes go into the list with their images. */
  attestations: 'drop' | 'keep'
  /** Per-registry settings from `registry-auth`, longest prefix first. */
  registryAuth: RegistryAuth[]
}

/**
 * Reads and checks every input before anything touches a registry. Besides each input's own grammar,
 * it refuses what would destroy data: a tag or alias that is a per-arch tag this run reads (the list
 * would replace that image), and the same destination twice. The steps run in this order, and each
 * throws its first error: a run with several bad inputs names the same one every time.
 */
export function getInputs(get: GetInput): Inputs {
  refuseRenamed(get)
  const archTable = readArchTable(get)
  const archImages = readArchImages(get, archTable)
  const destinations = readDestinations(get)
  const { archTagRegistry, archTag } = readArchTagSource(get, archImages, destinations)
  const arches = readArches(get, archTable, archImages)
  refuseOverwrites(destinations, { archImages, arches, archTagRegistry, archTag })
  const { format, attestations, annotations, ignoredAnnotations } = readListFormat(get)
  const retries = readRetries(get)
  const { authFile, username, password, registryAuth, certDir } = readCredentials(get)
  const { policy, dryRun, atomic, tlsVerify, reads, summary } = readRunOptions(get)
  const { repo, repos, tag, aliases, registries, references } = destinations
  return {
    repo,
    tag,
    arches,
    registries,
    aliases,
    archTagRegistry,
    archTag,
    archTable,
    policy,
    format,
    annotations,
    ignoredAnnotations,
    dryRun,
    atomic,
    tlsVerify,
    authFile,
    username,
    password,
    certDir,
    retries,
    reads,
    summary,
    repos,
    registryAuth,
    archImages: Object.fromEntries(Object.entries(archImages).map(([arch, ref]) => [arch, ref.text])),
    references: references.map(r => r.text),
    attestations
  }
}

/** Read only to refuse: a workflow written for the old name would otherwise run without it. */
function refuseRenamed(get: GetInput): void {
  for (const [old, renamed] of Object.entries(RENAMED_INPUTS)) {
    if (get(old).trim()) throw new InputError(old, `was renamed to "${renamed}"; use "${renamed}" instead`)
  }
}

function readArchTable(get: GetInput): ArchTable {
  try {
    return new ArchTable(parseArchMap(get('arch-map')))
  } catch (e) {
    throw new InputError('arch-map', (e as Error).message)
  }
}

/** `arch-images`: a YAML mapping from an arch or platform name to an image reference, by digest or by tag. */
function readArchImages(get: GetInput, table: ArchTable): Record<string, Reference> {
  const text = get('arch-images')
  if (!text.trim()) return {}
  let doc: unknown
  try {
    doc = parseYaml(text, { schema: 'failsafe', maxAliasCount: 0 })
  } catch {
    throw new InputError('arch-images', 'is not valid YAML (aliases are not allowed)')
  }
  if (!isObject(doc))
    throw new InputError('arch-images', 'must be a mapping from arch to image, e.g. {linux/amd64: ghcr.io/o/app@sha256:…}')
  const out: Record<string, Reference> = {}
  for (const [arch, value] of Object.entries(doc)) {
    if (!table.platform(arch))
      throw new InputError(
        'arch-images',
        `${quote(arch)} is not a known arch; use a platform such as linux/arm64, or name it with input "arch-map"`
      )
    if (typeof value !== 'string') throw new InputError('arch-images', `the image of ${quote(arch)} must be a reference`)
    out[arch] = parseReference('arch-images', value.trim(), { tag: 'optional', digest: 'optional' })
  }
  return out
}

/** Where the per-arch tags are, when `arch-images` does not name each image itself. */
function readArchTagSource(
  get: GetInput,
  archImages: Record<string, Reference>,
  d: { repos: string[]; registries: string[] }
): { archTagRegistry: string; archTag: string } {
  const fromArchImages = Object.keys(archImages).length > 0
  if (d.repos.length > 1 && fromArchImages) throw new InputError('repo', 'must name one repository when "arch-images" is set')
  const registryInput = get('arch-tag-registry').trim()
  const tagInput = get('arch-tag').trim()
  if (fromArchImages && registryInput)
    throw new InputError('arch-tag-registry', 'must be empty when "arch-images" is set: each arch names its own image there')
  if (fromArchImages && tagInput && tagInput !== '{tag}-{arch}')
    throw new InputError('arch-tag', 'must be empty (or the default) when "arch-images" is set')
  return {
    archTagRegistry: fromArchImages
      ? Object.values(archImages)[0].host
      : registryInput
        ? parseRegistry('arch-tag-registry', registryInput)
        : d.registries[0],
    archTag: tagInput || '{tag}-{arch}'
  }
}

/** `arches`, each a known arch or platform and no two the same platform; by default the arches of `arch-images`. */
function readArches(get: GetInput, table: ArchTable, archImages: Record<string, Reference>): string[] {
  const fromArchImages = Object.keys(archImages).length > 0
  const arches = fromArchImages && !get('arches').trim() ? Object.keys(archImages) : parseList('arches', required(get, 'arches'))
  const byPlatform = new Map<string, string>()
  for (const arch of arches) {
    const platform = table.platform(arch)
    if (!platform) {
      throw new InputError(
        'arches',
        `${quote(arch)} is not a known arch; known: ${table.names().join(' ')}, or a platform such as linux/arm64; name others with input "arch-map"`
      )
    }
    const key = platformKey(platform)
    const other = byPlatform.get(key)
    if (other) throw new InputError('arches', `"${other}" and "${arch}" are the same platform (${key})`)
    byPlatform.set(key, arch)
  }
  for (const arch of Object.keys(archImages)) {
    if (!arches.includes(arch)) throw new InputError('arch-images', `names ${quote(arch)}, which is not in "arches"`)
  }
  return arches
}

/** What the list is: its manifest format, whether it keeps attestations, and its own annotations. */
function readListFormat(get: GetInput): Pick<Inputs, 'format' | 'attestations' | 'annotations' | 'ignoredAnnotations'> {
  const format = parseEnum('format', get('format') || 'oci', ['oci', 'v2s2'] as const)
  const attestations = parseEnum('attestations', get('attestations') || 'drop', ['drop', 'keep'] as const)
  if (attestations === 'keep' && format !== 'oci') {
    throw new InputError('attestations', '"keep" needs format "oci": a Docker manifest list (v2s2) cannot carry attestation manifests')
  }
  const { annotations, ignored: ignoredAnnotations } = parseAnnotations(get('annotations'))
  if (Object.keys(annotations).length > 0 && format !== 'oci') {
    throw new InputError('annotations', 'index annotations need format "oci"; a Docker manifest list (v2s2) cannot carry them')
  }
  return { format, attestations, annotations, ignoredAnnotations }
}

function readRetries(get: GetInput): number {
  const text = (get('retries') || '3').trim()
  if (!/^\d+$/.test(text) || Number(text) > 10) throw new InputError('retries', `${quote(text)} must be a whole number from 0 to 10`)
  return Number(text)
}

/** One login (`username` and `password`) or an `auth-file`; per-registry logins in `registry-auth`; `cert-dir`. */
function readCredentials(get: GetInput): Pick<Inputs, 'authFile' | 'username' | 'password' | 'registryAuth' | 'certDir'> {
  const authFile = get('auth-file').trim()
  const username = get('username').trim()
  // Verbatim: spaces at either end can be part of a password.
  const password = get('password', { trimWhitespace: false })
  if (username && !password) throw new InputError('password', 'is required when "username" is set')
  if (password && !username) throw new InputError('username', 'is required when "password" is set')
  if (!isUsername(username)) {
    throw new InputError('username', `${quote(username)} must not hold ':' or control characters, and at most 256 characters`)
  }
  if (authFile && username) throw new InputError('auth-file', 'cannot be combined with "username"/"password"; use one of them')
  if (authFile) checkAuthFile(authFile)
  const registryAuth = parseRegistryAuth(get('registry-auth', { trimWhitespace: false }))
  if (authFile && registryAuth.some(a => a.username))
    throw new InputError('registry-auth', 'cannot give usernames and passwords together with "auth-file"; put them in one of the two')
  const certDir = get('cert-dir').trim()
  if (certDir && !isDirectory(certDir)) throw new InputError('cert-dir', `${quote(certDir)} is not a directory`)
  return { authFile, username, password, registryAuth, certDir }
}

/** How the run behaves and reports; `tls-verify` is the default a `registry-auth` entry may override. */
function readRunOptions(get: GetInput): Pick<Inputs, 'policy' | 'dryRun' | 'atomic' | 'tlsVerify' | 'reads' | 'summary'> {
  return {
    policy: parseEnum('missing-arch-policy', get('missing-arch-policy') || 'fail', ['fail', 'skip', 'hybrid', 'drop'] as const),
    dryRun: parseBool('dry-run', get('dry-run') || 'false'),
    atomic: parseBool('atomic', get('atomic') || 'true'),
    tlsVerify: parseBool('tls-verify', get('tls-verify') || 'true'),
    reads: parseEnum('reads', get('reads') || 'auto', ['auto', 'skopeo'] as const),
    summary: parseEnum('summary', get('summary') || 'true', ['true', 'log', 'false'] as const)
  }
}
