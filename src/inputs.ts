import * as fs from 'fs'
import { parse as parseYaml } from 'yaml'
import type { Format, Policy } from './model'
import { ArchTable, parseArchMap, platformKey } from './arch'
import { prefixKey, qualifyPrefix, qualifyReference, referenceKey, sameReference, underPrefix } from './reference'
import { inert, quote } from './text'

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

/** One entry of `registry-auth`: settings for the registries under `prefix` (a host, or host/namespace). */
export interface RegistryAuth {
  prefix: string
  username?: string
  password?: string
  certDir?: string
  tlsVerify?: boolean
}

/** A bad input: the message always names it, and quotes values through inert(). */
export class InputError extends Error {
  constructor(input: string, message: string) {
    super(`Input "${input}": ${message}`)
    this.name = 'InputError'
  }
}

// Grammar from the OCI distribution spec (and docker/distribution's reference package).
const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*'
const REPO = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`)
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?`
const REGISTRY = new RegExp(`^${HOST}(?:/${PATH_COMPONENT})*$`)
const ANNOTATION_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/
const NAME_MAX = 255
/** An auth file holds a few logins; a bigger "auth file" is some other file. */
const AUTH_FILE_MAX = 1 << 20

/** `core.getInput`'s shape: trims unless told not to (the password is taken verbatim). */
export type GetInput = (name: string, options?: { trimWhitespace?: boolean }) => string

/** Splits a list input: spaces, commas, newlines, or a YAML flow list such as `[a, b]`. */
export function parseList(name: string, value: string): string[] {
  const text = value.trim()
  let items: string[]
  // `[::1]:5000` is an IPv6 registry, not a flow list. failsafe keeps `1.10` the string it is.
  if (text.startsWith('[') && !/^\[[0-9a-fA-F:.]+\](?::\d+)?(?:[/\s,]|$)/.test(text)) {
    let doc: unknown
    try {
      // No aliases: a list has no use for them, and nested ones expand exponentially.
      doc = parseYaml(text, { schema: 'failsafe', maxAliasCount: 0 })
    } catch {
      throw new InputError(name, `${quote(text)} is not a valid YAML flow list (aliases are not allowed)`)
    }
    if (!Array.isArray(doc) || doc.some(v => typeof v !== 'string'))
      throw new InputError(name, `${quote(text)} must be a list of plain values`)
    items = doc.map(v => (v as string).trim()).filter(Boolean)
  } else {
    items = text.split(/[\s,]+/).filter(Boolean)
  }
  const seen = new Set<string>()
  for (const item of items) {
    if (seen.has(item)) throw new InputError(name, `${quote(item)} is listed twice`)
    seen.add(item)
  }
  return items
}

function parseBool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase()
  if (v === 'true') return true
  if (v === 'false') return false
  throw new InputError(name, `${quote(value)} must be true or false`)
}

function parseEnum<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const v = value.trim() as T
  if (!allowed.includes(v)) throw new InputError(name, `${quote(value)} must be one of ${allowed.join(', ')}`)
  return v
}

/**
 * `https://user:pass@host` → `https://***@host`: a password typed into a registry is not quoted back.
 * A short name's `app@sha256:…` is a digest, not credentials.
 */
function withoutUserinfo(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@(?!sha(?:256|512):)/i, '$1***@')
}

/** A registry prefix, qualified as Docker reads it (`myorg` is `docker.io/myorg`). */
function parseRegistry(name: string, value: string): string {
  const given = value.replace(/\/+$/, '')
  const shown = quote(withoutUserinfo(value))
  if (/^[^/]*@/.test(given) || /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(given)) {
    throw new InputError(name, `${shown} must not hold credentials; use inputs "username" and "password", or "auth-file"`)
  }
  if (/^[a-z]+:\/\//i.test(given)) {
    throw new InputError(name, `${shown} must be a registry prefix without a scheme, e.g. quay.io/fedora`)
  }
  const v = qualifyPrefix(given)
  if (!REGISTRY.test(v)) {
    throw new InputError(
      name,
      `${shown} is not a registry prefix such as registry.example.org or quay.io/fedora (path parts are lowercase)`
    )
  }
  return v
}

/** The levels of buildx's `--annotation [level,…][platform]:key=value` (docker/metadata-action writes the prefix). */
const ANNOTATION_LEVELS = ['index', 'manifest', 'manifest-descriptor', 'index-descriptor']
const ANNOTATION_PREFIX = /^([a-z-]+(?:,[a-z-]+)*)(\[[^\]]*\])?$/

/**
 * `annotations`, as written by hand or by docker/metadata-action: `key=value` lines, with an optional
 * level prefix. Unprefixed and `index:` lines annotate the list. The other levels belong to the
 * per-arch images (build-push-action applies them when it builds) or to an OCI layout's index.json:
 * no list carries them, so they are returned apart, for one notice.
 */
function parseAnnotations(value: string): { annotations: Record<string, string>; ignored: string[] } {
  const annotations: Record<string, string> = {}
  const ignored: string[] = []
  for (const line of value
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean)) {
    const eq = line.indexOf('=')
    const name = eq > 0 ? line.slice(0, eq).trim() : ''
    // A key has no colon, so the prefix is everything up to the last one.
    const colon = name.lastIndexOf(':')
    const key = name.slice(colon + 1)
    if (!ANNOTATION_KEY.test(key))
      throw new InputError('annotations', `${quote(line)} must be key=value with a key like org.opencontainers.image.source`)
    if (colon >= 0) {
      const prefix = ANNOTATION_PREFIX.exec(name.slice(0, colon))
      const levels = prefix?.[1].split(',') ?? []
      if (!prefix || !levels.every(l => ANNOTATION_LEVELS.includes(l)))
        throw new InputError(
          'annotations',
          `${quote(line)} has an unknown level; a prefix is one or more of ${ANNOTATION_LEVELS.join(', ')}, e.g. index:key=value`
        )
      if (!levels.includes('index')) {
        ignored.push(name)
        continue
      }
      if (prefix[2])
        throw new InputError('annotations', `${quote(line)}: an index annotation is for every platform; drop ${quote(prefix[2])}`)
    }
    if (key in annotations) throw new InputError('annotations', `${quote(key)} is given twice`)
    annotations[key] = line.slice(eq + 1).trim()
  }
  return { annotations, ignored }
}

/**
 * The per-arch tag for one arch, e.g. `40-x86_64`. A platform name gives its slashes as dashes
 * (`40-linux-arm-v7`), the form Docker's multi-platform workflow names its per-platform artifacts.
 */
export function archTagFor(template: string, tag: string, arch: string): string {
  return template.replace(/\{tag\}/g, tag).replace(/\{arch\}/g, arch.replace(/\//g, '-'))
}

/**
 * Reads and checks every input before anything touches a registry. Besides each input's own grammar,
 * it refuses what would destroy data: a tag or alias that is a per-arch tag this run reads (the list
 * would replace that image), and the same destination twice.
 */
export function getInputs(get: GetInput): Inputs {
  const required = (name: string): string => {
    const v = get(name).trim()
    if (!v) throw new InputError(name, 'is required')
    return v
  }
  // Read only to refuse: a workflow written for the old name would otherwise run without it.
  for (const [old, renamed] of Object.entries(RENAMED_INPUTS)) {
    if (get(old).trim()) throw new InputError(old, `was renamed to "${renamed}"; use "${renamed}" instead`)
  }

  let archTable: ArchTable
  try {
    archTable = new ArchTable(parseArchMap(get('arch-map')))
  } catch (e) {
    throw new InputError('arch-map', (e as Error).message)
  }
  const archImages = parseArchImages(get('arch-images'), archTable)
  const references = parseList('references', get('references')).map(r =>
    parseReference('references', r, { tag: 'required', digest: 'never' })
  )
  const fromArchImages = Object.keys(archImages).length > 0

  let repo: string, tag: string, aliases: string[], registries: string[], repos: string[]
  if (references.length > 0) {
    for (const name of ['registries', 'repo', 'tag', 'aliases']) {
      if (get(name).trim()) throw new InputError(name, 'must be empty when "references" is set: the references name every destination')
    }
    const seen = new Set<string>()
    for (const ref of references) {
      const key = referenceKey(ref.text)
      if (seen.has(key)) throw new InputError('references', `${quote(ref.text)} names a destination listed already`)
      seen.add(key)
    }
    repo = references[0].repository.slice(references[0].host.length + 1)
    repos = [repo]
    tag = references[0].tag as string
    aliases = []
    registries = [...new Set(references.map(r => r.host))]
  } else {
    repos = parseList('repo', required('repo'))
    for (const r of repos) {
      if (!REPO.test(r)) {
        throw new InputError(
          'repo',
          `${quote(r)} is not a valid repository name (lowercase letters, digits, separators . _ __ -, parts joined by /)`
        )
      }
    }
    repo = repos[0]
    tag = required('tag')
    if (!TAG.test(tag))
      throw new InputError('tag', `${quote(tag)} is not a valid tag (letters, digits, _ . -; at most 128; not starting with . or -)`)
    aliases = parseList('aliases', get('aliases'))
    for (const alias of aliases) {
      if (!TAG.test(alias)) throw new InputError('aliases', `${quote(alias)} is not a valid tag`)
      if (alias === tag) throw new InputError('aliases', `${quote(alias)} is the same as input "tag"`)
    }
    registries = parseList('registries', required('registries')).map(r => parseRegistry('registries', r))
    if (new Set(registries.map(prefixKey)).size !== registries.length) throw new InputError('registries', 'lists the same registry twice')
    for (const registry of registries) {
      for (const r of repos) {
        if (`${registry}/${r}`.length > NAME_MAX)
          throw new InputError('repo', `${quote(`${registry}/${r}`)} is longer than ${NAME_MAX} characters`)
      }
    }
  }
  if (repos.length > 1 && fromArchImages) throw new InputError('repo', 'must name one repository when "arch-images" is set')

  const archTagRegistryInput = get('arch-tag-registry').trim()
  const archTagInput = get('arch-tag').trim()
  if (fromArchImages && archTagRegistryInput)
    throw new InputError('arch-tag-registry', 'must be empty when "arch-images" is set: each arch names its own image there')
  if (fromArchImages && archTagInput && archTagInput !== '{tag}-{arch}')
    throw new InputError('arch-tag', 'must be empty (or the default) when "arch-images" is set')
  const archTagRegistry = fromArchImages
    ? Object.values(archImages)[0].host
    : archTagRegistryInput
      ? parseRegistry('arch-tag-registry', archTagRegistryInput)
      : registries[0]

  const arches = fromArchImages && !get('arches').trim() ? Object.keys(archImages) : parseList('arches', required('arches'))
  const byPlatform = new Map<string, string>()
  for (const arch of arches) {
    const platform = archTable.platform(arch)
    if (!platform) {
      throw new InputError(
        'arches',
        `${quote(arch)} is not a known arch; known: ${archTable.names().join(' ')}, or a platform such as linux/arm64; name others with input "arch-map"`
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

  const archTag = archTagInput || '{tag}-{arch}'
  const destinationRefs = repos.flatMap(r =>
    destinations({ registries, repo: r, tag, aliases, references: references.map(ref => ref.text) })
  )
  const inputOf = (ref: string): string => (references.length > 0 ? 'references' : ref.endsWith(`:${tag}`) ? 'tag' : 'aliases')
  if (fromArchImages) {
    // Publishing the list under a tag this run reads an image from would replace that image.
    for (const [arch, ref] of Object.entries(archImages)) {
      const same = destinationRefs.find(d => ref.tag !== undefined && sameReference(d, `${ref.repository}:${ref.tag}`))
      if (same)
        throw new InputError(
          inputOf(same),
          `${quote(same)} is where the ${arch} image is read from; publishing the list there would replace that image`
        )
    }
  } else {
    if (!archTag.includes('{arch}')) throw new InputError('arch-tag', `${quote(archTag)} must contain {arch}`)
    const unknownPlaceholder = archTag.replace(/\{(tag|arch)\}/g, '').match(/\{[^}]*\}/)
    if (unknownPlaceholder) throw new InputError('arch-tag', `unknown placeholder ${inert(unknownPlaceholder[0])}; use {tag} and {arch}`)
    for (const arch of arches) {
      const t = archTagFor(archTag, tag, arch)
      if (!TAG.test(t)) throw new InputError('arch-tag', `gives ${quote(t)} for ${arch}, which is not a valid tag`)
      // Publishing the list under a tag this run reads an image from would replace that image.
      const same = destinationRefs.find(d => repos.some(r => sameReference(d, `${archTagRegistry}/${r}:${t}`)))
      if (same) {
        const name = inputOf(same)
        const value = references.length > 0 ? same : same.slice(same.lastIndexOf(':') + 1)
        throw new InputError(
          name,
          `${quote(value)} is the per-arch tag of ${arch} (arch-tag ${quote(archTag)}); publishing the list there would replace that image`
        )
      }
    }
  }

  const format = parseEnum('format', get('format') || 'oci', ['oci', 'v2s2'] as const)
  const attestations = parseEnum('attestations', get('attestations') || 'drop', ['drop', 'keep'] as const)
  if (attestations === 'keep' && format !== 'oci') {
    throw new InputError('attestations', '"keep" needs format "oci": a Docker manifest list (v2s2) cannot carry attestation manifests')
  }
  const { annotations, ignored: ignoredAnnotations } = parseAnnotations(get('annotations'))
  if (Object.keys(annotations).length > 0 && format !== 'oci') {
    throw new InputError('annotations', 'index annotations need format "oci"; a Docker manifest list (v2s2) cannot carry them')
  }

  const retriesText = (get('retries') || '3').trim()
  if (!/^\d+$/.test(retriesText) || Number(retriesText) > 10) {
    throw new InputError('retries', `${quote(retriesText)} must be a whole number from 0 to 10`)
  }

  const authFile = get('auth-file').trim()
  const username = get('username').trim()
  // Verbatim: spaces at either end can be part of a password.
  const password = get('password', { trimWhitespace: false })
  if (username && !password) throw new InputError('password', 'is required when "username" is set')
  if (password && !username) throw new InputError('username', 'is required when "password" is set')
  // `user:password` is how the auth file stores them: a colon in the name would move the split.
  if (username.length > 256 || /[:\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(username)) {
    throw new InputError('username', `${quote(username)} must not hold ':' or control characters, and at most 256 characters`)
  }
  if (authFile && username) throw new InputError('auth-file', 'cannot be combined with "username"/"password"; use one of them')
  if (authFile) checkAuthFile(authFile)
  const registryAuth = parseRegistryAuth(get('registry-auth', { trimWhitespace: false }))
  if (authFile && registryAuth.some(a => a.username))
    throw new InputError('registry-auth', 'cannot give usernames and passwords together with "auth-file"; put them in one of the two')
  const certDir = get('cert-dir').trim()
  if (certDir && !isDirectory(certDir)) throw new InputError('cert-dir', `${quote(certDir)} is not a directory`)

  return {
    repo,
    tag,
    arches,
    registries,
    aliases,
    archTagRegistry,
    archTag,
    archTable,
    policy: parseEnum('missing-arch-policy', get('missing-arch-policy') || 'fail', ['fail', 'skip', 'hybrid', 'drop'] as const),
    format,
    annotations,
    ignoredAnnotations,
    dryRun: parseBool('dry-run', get('dry-run') || 'false'),
    atomic: parseBool('atomic', get('atomic') || 'true'),
    tlsVerify: parseBool('tls-verify', get('tls-verify') || 'true'),
    authFile,
    username,
    password,
    certDir,
    retries: Number(retriesText),
    reads: parseEnum('reads', get('reads') || 'auto', ['auto', 'skopeo'] as const),
    summary: parseEnum('summary', get('summary') || 'true', ['true', 'log', 'false'] as const),
    repos,
    registryAuth,
    archImages: Object.fromEntries(Object.entries(archImages).map(([arch, ref]) => [arch, ref.text])),
    references: references.map(r => r.text),
    attestations
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * A containers auth file or docker config.json: a readable regular file of JSON with an `auths` or
 * `credHelpers` object (or docker's `credsStore`). Its content is never quoted: it may be any file.
 */
function checkAuthFile(file: string): void {
  const shown = quote(file)
  let text: string
  try {
    fs.accessSync(file, fs.constants.R_OK)
    if (!fs.statSync(file).isFile()) throw new Error('not a regular file')
    text = readAtMost(file, AUTH_FILE_MAX + 1)
  } catch {
    throw new InputError('auth-file', `${shown} is not a readable file`)
  }
  if (Buffer.byteLength(text) > AUTH_FILE_MAX)
    throw new InputError('auth-file', `${shown} is larger than ${AUTH_FILE_MAX} bytes; it is not an auth file`)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new InputError('auth-file', `${shown} does not hold JSON; it must be a containers auth file (auth.json) or docker config.json`)
  }
  if (!isObject(doc) || !(isObject(doc.auths) || isObject(doc.credHelpers) || typeof doc.credsStore === 'string')) {
    throw new InputError(
      'auth-file',
      `${shown} has no "auths" or "credHelpers" object; it must be a containers auth file (auth.json) or docker config.json`
    )
  }
}

/** Reads up to `max` bytes: /proc files claim size 0, so the size from stat cannot bound the read. */
function readAtMost(file: string, max: number): string {
  const fd = fs.openSync(file, 'r')
  try {
    const buffer = Buffer.alloc(max)
    let length = 0
    for (let n = -1; n !== 0 && length < max; length += n) n = fs.readSync(fd, buffer, length, max - length, null)
    return buffer.subarray(0, length).toString('utf8')
  } finally {
    fs.closeSync(fd)
  }
}

function isDirectory(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** Every destination reference: `references` as given, or registry-major `<registry>/<repo>:<tag>` then the aliases. */
export function destinations(inputs: Pick<Inputs, 'registries' | 'repo' | 'tag' | 'aliases' | 'references'>): string[] {
  if (inputs.references.length > 0) return inputs.references
  return inputs.registries.flatMap(r => [inputs.tag, ...inputs.aliases].map(t => `${r}/${inputs.repo}:${t}`))
}

/** An image reference, split: `host/path/repo` (the repository), and its tag and/or digest. */
export interface Reference {
  text: string
  host: string
  repository: string
  tag?: string
  digest?: string
}

const DIGEST = /^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/

/**
 * `host[:port]/path/repo[:tag][@digest]`, or a Docker Hub short name (`user/app:1`, `app:1`) as
 * Docker reads it: `text` is the qualified reference, which outputs and the summary show. A tag or a
 * digest is required, as `want` says.
 */
export function parseReference(
  name: string,
  text: string,
  want: { tag: 'required' | 'optional'; digest: 'never' | 'optional' }
): Reference {
  const shown = quote(withoutUserinfo(text))
  // `user:password@host/…`; a short name by digest (`app@sha256:…`) has no `/` after its `@`.
  if (/^[^/]*@[^/]*\//.test(text) || /:\/\//.test(text))
    throw new InputError(name, `${shown} must be a plain reference such as ghcr.io/owner/app:1.0, without a scheme or credentials`)
  const qualified = qualifyReference(text)
  const at = qualified.indexOf('@')
  const digest = at >= 0 ? qualified.slice(at + 1) : undefined
  const named = at >= 0 ? qualified.slice(0, at) : qualified
  const slash = named.lastIndexOf('/')
  const colon = named.lastIndexOf(':')
  const tag = colon > slash ? named.slice(colon + 1) : undefined
  const repository = colon > slash ? named.slice(0, colon) : named
  const host = repository.split('/')[0]
  const path = repository.slice(host.length + 1)
  if (!new RegExp(`^${HOST}$`).test(host) || !REPO.test(path)) {
    throw new InputError(
      name,
      `${shown} is not a reference such as ghcr.io/owner/app:1.0 (a registry host, then a lowercase repository path)`
    )
  }
  if (repository.length > NAME_MAX) throw new InputError(name, `${shown} is longer than ${NAME_MAX} characters`)
  if (tag !== undefined && !TAG.test(tag)) throw new InputError(name, `${shown} has an invalid tag`)
  if (digest !== undefined && (want.digest === 'never' || !DIGEST.test(digest))) {
    throw new InputError(
      name,
      want.digest === 'never' ? `${shown} must name a tag, not a digest` : `${shown} has an invalid digest (sha256:<64 hex>)`
    )
  }
  if (tag === undefined && digest === undefined)
    throw new InputError(name, `${shown} must have a ${want.tag === 'required' ? 'tag' : 'tag or a digest'}`)
  if (tag === undefined && want.tag === 'required') throw new InputError(name, `${shown} must have a tag`)
  return { text: qualified, host, repository, tag, digest }
}

/** `arch-images`: a YAML mapping from an arch or platform name to an image reference, by digest or by tag. */
function parseArchImages(text: string, table: ArchTable): Record<string, Reference> {
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

/**
 * `registry-auth`: a YAML mapping from a registry prefix to its own `username`, `password`,
 * `cert-dir` and `tls-verify`. Its text holds passwords: it is never quoted back.
 */
function parseRegistryAuth(text: string): RegistryAuth[] {
  if (!text.trim()) return []
  let doc: unknown
  try {
    doc = parseYaml(text, { schema: 'failsafe', maxAliasCount: 0 })
  } catch {
    throw new InputError('registry-auth', 'is not valid YAML (aliases are not allowed); its text is not shown, it may hold passwords')
  }
  if (!isObject(doc))
    throw new InputError(
      'registry-auth',
      'must be a mapping from a registry prefix to its settings, e.g. {quay.io/fedora: {username: …, password: …}}'
    )
  const out: RegistryAuth[] = []
  const seen = new Set<string>()
  for (const [key, value] of Object.entries(doc)) {
    const prefix = parseRegistry('registry-auth', key)
    if (seen.has(prefixKey(prefix))) throw new InputError('registry-auth', `${quote(prefix)} is given twice`)
    seen.add(prefixKey(prefix))
    if (!isObject(value))
      throw new InputError(
        'registry-auth',
        `the settings of ${quote(prefix)} must be a mapping of username, password, cert-dir, tls-verify`
      )
    const unknown = Object.keys(value).filter(k => !['username', 'password', 'cert-dir', 'tls-verify'].includes(k))
    if (unknown.length)
      throw new InputError(
        'registry-auth',
        `${quote(prefix)} has unknown settings ${unknown.map(k => quote(k)).join(', ')}; known: username, password, cert-dir, tls-verify`
      )
    const field = (name: string): string | undefined => {
      const v = value[name]
      if (v === undefined) return undefined
      if (typeof v !== 'string') throw new InputError('registry-auth', `${name} of ${quote(prefix)} must be a plain value`)
      return v
    }
    const entry: RegistryAuth = { prefix }
    const username = field('username')?.trim()
    const password = field('password')
    if (username !== undefined || password !== undefined) {
      if (!username || !password) throw new InputError('registry-auth', `${quote(prefix)} needs both username and password`)
      if (username.length > 256 || /[:\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(username)) {
        throw new InputError(
          'registry-auth',
          `the username of ${quote(prefix)} must not hold ':' or control characters, and at most 256 characters`
        )
      }
      Object.assign(entry, { username, password })
    }
    const certDir = field('cert-dir')?.trim()
    if (certDir !== undefined) {
      if (!isDirectory(certDir))
        throw new InputError('registry-auth', `cert-dir of ${quote(prefix)}, ${quote(certDir)}, is not a directory`)
      entry.certDir = certDir
    }
    const tlsVerify = field('tls-verify')
    if (tlsVerify !== undefined) entry.tlsVerify = parseBool('registry-auth', tlsVerify)
    out.push(entry)
  }
  // Longest prefix first: the first that matches a reference is the one that applies.
  return out.sort((a, b) => b.prefix.length - a.prefix.length)
}

/** The `registry-auth` entry for a reference: the longest prefix it is under, as containers-auth.json matches keys. */
export function authFor(entries: RegistryAuth[], ref: string): RegistryAuth | undefined {
  return entries.find(a => underPrefix(ref, a.prefix) || prefixKey(ref) === prefixKey(a.prefix))
}
