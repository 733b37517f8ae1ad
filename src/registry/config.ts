import { X509Certificate, createPrivateKey } from 'crypto'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { isIP } from 'net'
import { TomlError, parseToml, type TomlTable, type TomlValue } from './toml'

/**
 * How an in-process registry read reaches a reference, decided before any request exactly as
 * containers/image (inside skopeo) decides it: credentials, registries.conf, certificates, proxies.
 * What the reader does not implement (credential helpers, mirrors, a rewritten location, proxies,
 * a configuration this module cannot read exactly) is a Handoff: skopeo does that read.
 * References are containers/image's pkg/docker/config, pkg/sysregistriesv2, pkg/tlsclientconfig and
 * docker/docker_client.go (read at df7e80d), and Go's crypto/x509 and x/net/http/httpproxy.
 */

/** identityToken, when set, is what a Bearer challenge gets (an OAuth2 refresh); Basic still gets username and password. */
export interface Credential {
  username: string
  password: string
  identityToken?: string
}

export interface Endpoint {
  via: 'native'
  /** The registry as containers/image names it: `docker.io` for `index.docker.io` and for no host at all. */
  registry: string
  /** host[:port] to connect to: `registry-1.docker.io` for docker.io. */
  host: string
  /** The repository path on that host (`library/alpine` for a one-part Docker Hub name). */
  path: string
  credential?: Credential
  /** Where the credential came from, for the log: `<file>, key <key>`. Never the secret. */
  credentialFrom?: string
  /** No certificate verification, and plain http allowed after a failed https ping. */
  insecure: boolean
  /** PEM roots: the system's as Go finds them, plus the cert dir's `*.crt`. Undefined when there are none, or when nothing is verified (insecure). */
  ca?: string[]
  /** The client certificate (PEM chain) and key of the cert dir's one `*.cert`/`*.key` pair. */
  cert?: string
  key?: string
}

export interface Handoff {
  via: 'skopeo'
  reason: string
}

export interface RegistryConfigOptions {
  env: NodeJS.ProcessEnv
  /** The run's own auth file or its `auth-file` input: skopeo gets it as --authfile, so it is the only one read. */
  authFile?: string
  /** Roots of the system paths, for tests. */
  etc?: string
  run?: string
  /** Defaults to HOME, then the user database (containers/storage homedir.Get). */
  home?: string
  uid?: number
}

export interface TlsInputs {
  tlsVerify: boolean
  /** skopeo --cert-dir: used as is, instead of the per-host lookup. */
  certDir?: string
}

/** A reference as containers/image parses it (docker/reference ParseNormalizedNamed). */
interface ParsedReference {
  domain: string
  path: string
  /** domain/path: what registries.conf prefixes and auth keys are matched against. */
  name: string
  digested: boolean
}

interface Mirror {
  location: string
  pullFromMirror: string
}

interface RegistryEntry {
  prefix: string
  location: string
  insecure: boolean
  blocked: boolean
  mirrors: Mirror[]
  mirrorByDigestOnly: boolean
  file: string
}

interface RegistriesConf {
  registries: RegistryEntry[]
  /** undefined when no file set them (containers/image merges "present", even empty, over absent). */
  credentialHelpers?: string[]
  /** Where credentialHelpers were last set, for the reason. */
  credentialHelpersFile?: string
}

interface AuthEntry {
  auth?: string
  identitytoken?: string
}

interface AuthFile {
  auths: Map<string, AuthEntry>
  credHelpers: Map<string, string>
}

interface CertDir {
  crts: string[]
  pairs: Array<{ cert: string; key: string; file: string }>
}

type Loaded<T> = { ok: T } | { error: string }

const AUTH_FILE_HELPER = 'containers-auth.json'
const NAME_TOTAL_LENGTH_MAX = 255

// docker/reference/regexp.go, as containers/image has it (no IPv6 hosts).
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`
const NAME_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*'
const NAME = `(?:${DOMAIN}/)?${NAME_COMPONENT}(?:/${NAME_COMPONENT})*`
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}'
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`)
const ANCHORED_NAME = new RegExp(`^(?:(${DOMAIN})/)?(${NAME_COMPONENT}(?:/${NAME_COMPONENT})*)$`)
const ANCHORED_DOMAIN = new RegExp(`^${DOMAIN}$`)
const IDENTIFIER = /^[a-f0-9]{64}$/
/** go-digest's registered algorithms and their encodings. */
const DIGEST_ENCODINGS: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha384: /^[a-f0-9]{96}$/, sha512: /^[a-f0-9]{128}$/ }

// Go's crypto/x509 root_linux.go: the first bundle that can be read, then every file of these directories.
const GO_CERT_FILES = [
  'ssl/certs/ca-certificates.crt',
  'pki/tls/certs/ca-bundle.crt',
  'ssl/ca-bundle.pem',
  'pki/tls/cacert.pem',
  'pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  'ssl/cert.pem'
]
const GO_CERT_DIRECTORIES = ['ssl/certs', 'pki/tls/certs']

export class RegistryConfig {
  private readonly env: NodeJS.ProcessEnv
  private readonly authFile?: string
  private readonly etc: string
  private readonly run: string
  private readonly home: string
  private readonly uid: number
  private registriesConf?: Loaded<RegistriesConf>
  private readonly authFiles = new Map<string, Loaded<AuthFile>>()
  private systemRoots?: string[]
  private readonly certDirs = new Map<string, Loaded<CertDir>>()

  constructor(o: RegistryConfigOptions) {
    this.env = o.env
    this.authFile = o.authFile
    this.etc = o.etc ?? '/etc'
    this.run = o.run ?? '/run'
    this.home = o.home ?? (o.env.HOME || os.homedir())
    this.uid = o.uid ?? process.getuid?.() ?? 0
  }

  /**
   * `role` 'source' is an image read from (registries.conf mirrors and location apply to it);
   * 'destination' a tag we publish to, read as written. Throws when the cert dir is broken, as the
   * request would fail in containers/image.
   */
  endpointFor(ref: string, role: 'source' | 'destination', tls: TlsInputs): Endpoint | Handoff {
    const parsed = parseReference(ref)
    if (!parsed) return handoff('the reference is not one containers/image parses')
    const host = parsed.domain === 'docker.io' ? 'registry-1.docker.io' : parsed.domain

    // Released skopeo and buildah do not read it (only the unreleased configfile code does), so which file applies depends on the tools' version.
    for (const name of ['CONTAINERS_REGISTRIES_CONF', 'REGISTRIES_CONFIG_PATH']) {
      if (this.env[name] !== undefined) return handoff(`${name} is set, and whether skopeo reads it depends on its version`)
    }
    const conf = this.loadRegistriesConf()
    if ('error' in conf) return handoff(conf.error)
    const registry = findRegistry(conf.ok.registries, parsed.name)
    if (registry?.blocked) return handoff(`${registry.prefix} is blocked in ${registry.file}`)
    if (registry && role === 'source') {
      const rewritten =
        registry.location !== '' && registry.location + parsed.name.slice(matchingPrefix(parsed.name, registry.prefix)) !== parsed.name
      if (rewritten) return handoff(`${registry.file} gives ${registry.prefix} the location ${registry.location}`)
      if (pullMirrors(registry, parsed.digested).length > 0) return handoff(`${registry.file} gives ${registry.prefix} a mirror`)
    }

    const credentials = this.credentials(parsed, conf.ok)
    if ('reason' in credentials) return handoff(credentials.reason)

    const insecure = !tls.tlsVerify || (registry?.insecure ?? false)
    const proxy = this.proxyFor(`https://${host}/`) ?? (insecure ? this.proxyFor(`http://${host}/`) : undefined)
    if (proxy) return handoff(`${proxy} is set and applies to ${host}`)

    const certDir = this.loadCertDir(tls.certDir ?? this.certDirFor(parsed.domain))
    if ('error' in certDir) throw new Error(certDir.error)
    if (certDir.ok.pairs.length > 1)
      return handoff(`${certDir.ok.pairs.map(p => p.file).join(' and ')} are several client certificates, and Go picks one per server`)
    // Roots only where certificates are verified: an insecure endpoint never uses them, and reading them is the start-up's cost.
    const ca = insecure ? [] : [...new Set([...this.loadSystemRoots(), ...certDir.ok.crts])]
    const pair = certDir.ok.pairs[0]
    return {
      via: 'native',
      registry: parsed.domain,
      host,
      path: parsed.path,
      ...credentials,
      insecure,
      ...(ca.length > 0 ? { ca } : {}),
      ...(pair ? { cert: pair.cert, key: pair.key } : {})
    }
  }

  /**
   * The proxy variable Go's ProxyFromEnvironment would use for `url`, if any. Exposed for the token
   * realm, which may be on another host (auth.docker.io) than the registry endpointFor checked.
   */
  proxyFor(url: string): string | undefined {
    const u = new URL(url)
    const names = u.protocol === 'https:' ? ['HTTPS_PROXY', 'https_proxy'] : ['HTTP_PROXY', 'http_proxy']
    const name = names.find(n => this.env[n])
    if (!name) return undefined
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
    const port = u.port || (u.protocol === 'https:' ? '443' : '80')
    return bypassesProxy(host.toLowerCase(), port, this.env.NO_PROXY || this.env.no_proxy || '') ? undefined : name
  }

  /**
   * getCredentialsWithHomeDir: registries.conf credential-helpers in order, where the reserved
   * `containers-auth.json` means the auth files. The first that has an entry wins.
   */
  private credentials(ref: ParsedReference, conf: RegistriesConf): Pick<Endpoint, 'credential' | 'credentialFrom'> | { reason: string } {
    const helpers = conf.credentialHelpers && conf.credentialHelpers.length > 0 ? conf.credentialHelpers : [AUTH_FILE_HELPER]
    for (const helper of helpers) {
      if (helper !== AUTH_FILE_HELPER) return { reason: `${conf.credentialHelpersFile} names the credential helper ${helper}` }
      for (const file of this.authFilePaths()) {
        const found = this.findInAuthFile(ref, file)
        if (found) return found
      }
      // Older containers/image (skopeo 1.9's) goes on to the default files after a given one with
      // nothing for the reference; newer stops there. Where that changes the answer, skopeo reads.
      const given = this.givenAuthFile()
      const fallback = given ? this.defaultAuthFilePaths(false).find(file => this.findInAuthFile(ref, file)) : undefined
      if (fallback)
        return {
          reason: `${given} has nothing for ${ref.domain} but ${fallback.path} has, and whether skopeo reads that depends on its version`
        }
    }
    return {}
  }

  private givenAuthFile(): string | undefined {
    return this.authFile || this.env.REGISTRY_AUTH_FILE || undefined
  }

  /** getAuthFilePaths; skopeo passes REGISTRY_AUTH_FILE as --authfile, and a given file is the only one. */
  private authFilePaths(): Array<{ path: string; legacy: boolean }> {
    const given = this.givenAuthFile()
    return given ? [{ path: given, legacy: false }] : this.defaultAuthFilePaths(true)
  }

  /** The files read when none is given; after a given one (older containers/image), all but the runtime dir's. */
  private defaultAuthFilePaths(withRuntimeDir: boolean): Array<{ path: string; legacy: boolean }> {
    const paths: Array<{ path: string; legacy: boolean }> = []
    // A runtime dir that does not exist is only a warning there, and a missing file is an empty one here.
    const runtimeDir = this.env.XDG_RUNTIME_DIR
    if (withRuntimeDir)
      paths.push({
        path: runtimeDir
          ? path.join(runtimeDir, 'containers', 'auth.json')
          : path.join(this.run, 'containers', String(this.uid), 'auth.json'),
        legacy: false
      })
    const configHome = this.env.XDG_CONFIG_HOME || path.join(this.home, '.config')
    paths.push({ path: path.join(configHome, 'containers', 'auth.json'), legacy: false })
    const dockerConfig = this.env.DOCKER_CONFIG
    paths.push({
      path: dockerConfig ? path.join(dockerConfig, 'config.json') : path.join(this.home, '.docker', 'config.json'),
      legacy: false
    })
    paths.push({ path: path.join(this.home, '.dockercfg'), legacy: true })
    return paths
  }

  /** findCredentialsInFile: undefined when the file has nothing for the reference (the next file is read). */
  private findInAuthFile(
    ref: ParsedReference,
    file: { path: string; legacy: boolean }
  ): Pick<Endpoint, 'credential' | 'credentialFrom'> | { reason: string } | undefined {
    const loaded = this.loadAuthFile(file.path, file.legacy)
    if ('error' in loaded) return { reason: loaded.error }
    const { auths, credHelpers } = loaded.ok
    const helper = credHelpers.get(ref.domain)
    if (helper !== undefined) return { reason: `${file.path} names the credential helper ${helper} for ${ref.domain}` }

    // Whole path components, most specific first; a legacy file has host keys only.
    const keys = file.legacy ? [ref.domain] : ref.name.split('/').map((_, i, parts) => parts.slice(0, parts.length - i).join('/'))
    for (const key of keys) {
      const entry = auths.get(key)
      if (entry) return decodeEntry(file.path, key, entry)
    }
    // Keys written as URLs (`https://index.docker.io/v1/`) or as a Docker Hub alias.
    const registry = normalizeRegistry(ref.domain)
    const matches = [...auths].filter(([key]) => normalizeAuthKey(key, file.legacy) === registry)
    const distinct = new Set(matches.map(([, e]) => JSON.stringify([e.auth ?? '', e.identitytoken ?? ''])))
    // Go walks a map here: with entries that differ, which one skopeo uses is chance.
    if (distinct.size > 1) return { reason: `${file.path} has several different entries for ${ref.domain}` }
    return matches.length > 0 ? decodeEntry(file.path, matches[0][0], matches[0][1]) : undefined
  }

  private loadAuthFile(file: string, legacy: boolean): Loaded<AuthFile> {
    let loaded = this.authFiles.get(file)
    if (!loaded) {
      loaded = readAuthFile(file, legacy)
      this.authFiles.set(file, loaded)
    }
    return loaded
  }

  /**
   * newConfigWrapperWithHomeDir: the user's registries.conf with only the user's drop-ins, or the
   * system's with the system's and then the user's drop-ins.
   */
  private loadRegistriesConf(): Loaded<RegistriesConf> {
    if (this.registriesConf) return this.registriesConf
    const userFile = path.join(this.home, '.config', 'containers', 'registries.conf')
    const userDir = path.join(this.home, '.config', 'containers', 'registries.conf.d')
    const files: Array<{ file: string; dropIn: boolean }> = []
    let dirs: string[]
    if (fs.existsSync(userFile)) {
      files.push({ file: userFile, dropIn: false })
      dirs = [userDir]
    } else {
      files.push({ file: path.join(this.etc, 'containers', 'registries.conf'), dropIn: false })
      dirs = [path.join(this.etc, 'containers', 'registries.conf.d'), userDir]
    }
    try {
      for (const dir of dirs) files.push(...dropIns(dir).map(file => ({ file, dropIn: true })))
      const merged: RegistriesConf = { registries: [] }
      for (const { file, dropIn } of files) {
        let bytes: Buffer
        try {
          bytes = fs.readFileSync(file)
        } catch (e) {
          if (errorCode(e) === 'ENOENT') continue // no main file is an empty one; a drop-in may go between listing and reading
          throw new ConfigError(`reading ${file}: ${errorCode(e) ?? 'error'}`)
        }
        mergeRegistriesConf(merged, readRegistriesConf(bytes, file, dropIn))
      }
      this.registriesConf = { ok: merged }
    } catch (e) {
      this.registriesConf = { error: errorText(e) }
    }
    return this.registriesConf
  }

  /** dockerCertDir: the first that exists, named by the reference's host (docker.io for Docker Hub). */
  private certDirFor(domain: string): string {
    const candidates = [
      path.join(this.home, '.config', 'containers', 'certs.d', domain),
      path.join(this.etc, 'containers', 'certs.d', domain),
      path.join(this.etc, 'docker', 'certs.d', domain)
    ]
    return candidates.find(dir => fs.existsSync(dir)) ?? candidates[candidates.length - 1]
  }

  private loadCertDir(dir: string): Loaded<CertDir> {
    let loaded = this.certDirs.get(dir)
    if (!loaded) {
      try {
        loaded = { ok: readCertDir(dir) }
      } catch (e) {
        loaded = { error: errorText(e) }
      }
      this.certDirs.set(dir, loaded)
    }
    return loaded
  }

  /** loadSystemRoots (crypto/x509 root_unix.go): Node's own store is not the one skopeo trusts. */
  private loadSystemRoots(): string[] {
    if (this.systemRoots) return this.systemRoots
    const roots: string[] = []
    const files = this.env.SSL_CERT_FILE ? [this.env.SSL_CERT_FILE] : GO_CERT_FILES.map(f => path.join(this.etc, f))
    for (const file of files) {
      const text = readIfPossible(file)
      if (text === undefined) continue
      roots.push(...certificatesIn(text))
      break
    }
    const dirs = this.env.SSL_CERT_DIR ? this.env.SSL_CERT_DIR.split(':') : GO_CERT_DIRECTORIES.map(d => path.join(this.etc, d))
    for (const dir of dirs) {
      let entries: fs.Dirent[]
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true })
      } catch {
        continue
      }
      for (const entry of entries.sort((a, b) => byBytes(a.name, b.name))) {
        const file = path.join(dir, entry.name)
        if (entry.isSymbolicLink() && isSameDirLink(file)) continue
        const text = readIfPossible(file)
        if (text !== undefined) roots.push(...certificatesIn(text))
      }
    }
    this.systemRoots = [...new Set(roots)]
    return this.systemRoots
  }
}

function handoff(reason: string): Handoff {
  return { via: 'skopeo', reason }
}

class ConfigError extends Error {}

/** docker/reference ParseNormalizedNamed, then the docker transport's checks; undefined where skopeo fails. */
export function parseReference(text: string): ParsedReference | undefined {
  if (IDENTIFIER.test(text)) return undefined
  const slash = text.indexOf('/')
  let domain: string
  let remainder: string
  if (slash < 0 || (!/[.:]/.test(text.slice(0, slash)) && text.slice(0, slash) !== 'localhost')) {
    domain = 'docker.io'
    remainder = text
  } else {
    domain = text.slice(0, slash)
    remainder = text.slice(slash + 1)
  }
  if (domain === 'index.docker.io') domain = 'docker.io'
  if (domain === 'docker.io' && !remainder.includes('/')) remainder = `library/${remainder}`
  // Upper case in the path fails here as it does there: the path grammar is lower case.
  const match = REFERENCE.exec(`${domain}/${remainder}`)
  if (!match || match[1].length > NAME_TOTAL_LENGTH_MAX) return undefined
  const [, name, tag, digest] = match
  if (digest !== undefined && !validDigest(digest)) return undefined
  if (tag !== undefined && digest !== undefined) return undefined // "both a tag and digest are currently not supported"
  const parts = ANCHORED_NAME.exec(name)
  if (!parts || parts[1] === undefined) return undefined
  return { domain: parts[1], path: parts[2], name, digested: digest !== undefined }
}

function validDigest(digest: string): boolean {
  const colon = digest.indexOf(':')
  const encoding = DIGEST_ENCODINGS[digest.slice(0, colon)]
  return encoding !== undefined && encoding.test(digest.slice(colon + 1))
}

/** docker/reference Parse, for alias validation: domain '' when the name has none. */
function parseAny(text: string): { domain: string; tagged: boolean; digested: boolean } | undefined {
  const match = REFERENCE.exec(text)
  if (!match || match[1].length > NAME_TOTAL_LENGTH_MAX) return undefined
  if (match[3] !== undefined && !validDigest(match[3])) return undefined
  const parts = ANCHORED_NAME.exec(match[1])
  return { domain: parts?.[1] ?? '', tagged: match[2] !== undefined, digested: match[3] !== undefined }
}

function normalizeRegistry(registry: string): string {
  return registry === 'registry-1.docker.io' || registry === 'docker.io' ? 'index.docker.io' : registry
}

/** normalizeAuthFileKey: a scheme means a URL, so its path goes too; a legacy file only has hosts. */
function normalizeAuthKey(key: string, legacy: boolean): string {
  const stripped = key.replace(/^http:\/\//, '').replace(/^https:\/\//, '')
  return normalizeRegistry(legacy || stripped !== key ? stripped.split('/')[0] : stripped)
}

/** decodeDockerAuth. An entry without `user:` (docker's `{}` helper marker) counts as none: the next file is read. */
function decodeEntry(
  file: string,
  key: string,
  entry: AuthEntry
): Pick<Endpoint, 'credential' | 'credentialFrom'> | { reason: string } | undefined {
  const decoded = decodeBase64(entry.auth ?? '')
  if (decoded === undefined) return { reason: `the auth of ${key} in ${file} is not base64 (or not UTF-8)` }
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  const username = decoded.slice(0, colon)
  const password = decoded.slice(colon + 1).replace(/^\0+|\0+$/g, '')
  const identityToken = entry.identitytoken ?? ''
  if (!username && !password && !identityToken) return undefined
  return { credential: { username, password, ...(identityToken ? { identityToken } : {}) }, credentialFrom: `${file}, key ${key}` }
}

/** Go's base64.StdEncoding: padding required, line breaks ignored. */
function decodeBase64(text: string): string | undefined {
  const compact = text.replace(/[\r\n]/g, '')
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) return undefined
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'))
  } catch {
    return undefined
  }
}

/**
 * authPath.parse with encoding/json's rules: a missing file is empty, any other read or type error is an
 * error, field names match case-insensitively, `credsStore` and `registrytoken` are not fields.
 */
function readAuthFile(file: string, legacy: boolean): Loaded<AuthFile> {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return { ok: { auths: new Map(), credHelpers: new Map() } }
    return { error: `${file} cannot be read (${errorCode(e) ?? 'error'})` }
  }
  try {
    const doc: unknown = JSON.parse(text)
    const result: AuthFile = { auths: new Map(), credHelpers: new Map() }
    const readAuths = (value: unknown): void => {
      for (const [key, entry] of Object.entries(jsonObject(value))) {
        const fields: AuthEntry = {}
        for (const [name, field] of Object.entries(jsonObject(entry))) {
          const lower = name.toLowerCase()
          if (lower === 'auth' || lower === 'identitytoken') {
            if (field !== null && typeof field !== 'string') throw new ConfigError()
            if (field !== null) fields[lower] = field
          }
        }
        result.auths.set(key, fields)
      }
    }
    if (legacy) {
      readAuths(doc)
    } else {
      for (const [name, value] of Object.entries(jsonObject(doc))) {
        if (name.toLowerCase() === 'auths') readAuths(value)
        if (name.toLowerCase() === 'credhelpers') {
          for (const [host, helper] of Object.entries(jsonObject(value))) {
            if (typeof helper !== 'string') throw new ConfigError()
            result.credHelpers.set(host, helper)
          }
        }
      }
    }
    return { ok: result }
  } catch {
    return { error: `${file} is not an auth file containers/image reads (invalid JSON or an unexpected type)` }
  }
}

/** A JSON object's fields, {} for null (encoding/json leaves the target as it is), an error for anything else. */
function jsonObject(value: unknown): Record<string, unknown> {
  if (value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError()
  return value as Record<string, unknown>
}

/** dropInConfigs: the directory's `*.conf`, not recursing, in name order; a missing directory is none. */
function dropIns(dir: string): string[] {
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return []
    throw new ConfigError(`reading ${dir}: ${errorCode(e) ?? 'error'}`)
  }
  return entries
    .filter(e => !e.isDirectory() && e.name.endsWith('.conf'))
    .map(e => e.name)
    .sort(byBytes)
    .map(name => path.join(dir, name))
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** loadConfigFile: V1 tables converted, V2 checked as postProcessRegistries checks it. */
function readRegistriesConf(bytes: Buffer, file: string, dropIn: boolean): RegistriesConf {
  let doc: TomlTable
  try {
    doc = parseToml(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (e) {
    throw new ConfigError(`${file} is TOML this reader does not handle (${e instanceof TomlError ? e.message : 'not UTF-8'})`)
  }
  const fail = (what: string): never => {
    throw new ConfigError(`${file}: ${what}`)
  }
  const decode = new Decoder(fail)

  const v1 = decode.table(field(doc, 'registries', fail), 'registries')
  const v1Lists = ['search', 'insecure', 'block'].map(name => {
    const table = v1 && decode.table(field(v1, name, fail), `registries.${name}`)
    return table && decode.strings(field(table, 'registries', fail), `registries.${name}.registries`)
  })
  const isV1 = v1Lists.some(list => list !== undefined)

  const registryTables = decode.tables(field(doc, 'registry', fail), 'registry')
  const search = decode.strings(field(doc, 'unqualified-search-registries', fail), 'unqualified-search-registries')
  const credentialHelpers = decode.strings(field(doc, 'credential-helpers', fail), 'credential-helpers')
  const shortNameMode = decode.string(field(doc, 'short-name-mode', fail), 'short-name-mode') ?? ''
  const layerStoreHelper = decode.string(field(doc, 'additional-layer-store-auth-helper', fail), 'additional-layer-store-auth-helper') ?? ''
  const aliases = decode.table(field(doc, 'aliases', fail), 'aliases')
  const isV2 =
    registryTables !== undefined ||
    search !== undefined ||
    credentialHelpers !== undefined ||
    shortNameMode !== '' ||
    layerStoreHelper !== '' ||
    aliases !== undefined

  let registries: RegistryEntry[]
  let searchRegistries = search ?? []
  if (isV1) {
    if (dropIn) fail('registry must be in v2 format but is in v1')
    if (isV2) fail('mixing sysregistry v1/v2 is not supported')
    registries = convertV1(v1Lists[1] ?? [], v1Lists[2] ?? [], file, fail)
    searchRegistries = v1Lists[0] ?? []
  } else {
    registries = (registryTables ?? []).map((table, i) => decode.registry(table, `registry[${i}]`, file))
  }
  postProcess(registries, fail)
  for (const entry of searchRegistries) {
    if (!ANCHORED_DOMAIN.test(parseLocation(entry, fail))) fail('an invalid unqualified-search-registries entry')
  }
  if (shortNameMode !== '' && !['disabled', 'enforcing', 'permissive'].includes(shortNameMode)) fail('an invalid short-name-mode')
  for (const [name, value] of aliases ?? []) {
    const alias = decode.string(value, `aliases.${name}`) as string
    if (!validShortName(name) || (alias !== '' && !validAliasValue(alias))) fail('an invalid short-name alias')
  }
  return { registries, credentialHelpers, credentialHelpersFile: credentialHelpers ? file : undefined }
}

/** BurntSushi/toml into containers/image's structs: names match exactly, else case-insensitively; types must fit. */
class Decoder {
  constructor(private readonly fail: (what: string) => never) {}

  string(value: TomlValue | undefined, name: string): string | undefined {
    if (value !== undefined && typeof value !== 'string') this.fail(`${name} is not a string`)
    return value
  }

  bool(value: TomlValue | undefined, name: string): boolean {
    if (value !== undefined && typeof value !== 'boolean') this.fail(`${name} is not a boolean`)
    return value ?? false
  }

  strings(value: TomlValue | undefined, name: string): string[] | undefined {
    if (value !== undefined && !(Array.isArray(value) && value.every(v => typeof v === 'string')))
      this.fail(`${name} is not an array of strings`)
    return value as string[] | undefined
  }

  table(value: TomlValue | undefined, name: string): TomlTable | undefined {
    if (value !== undefined && !(value instanceof Map)) this.fail(`${name} is not a table`)
    return value
  }

  tables(value: TomlValue | undefined, name: string): TomlTable[] | undefined {
    if (value !== undefined && !(Array.isArray(value) && value.every(v => v instanceof Map))) this.fail(`${name} is not an array of tables`)
    return value as TomlTable[] | undefined
  }

  registry(table: TomlTable, name: string, file: string): RegistryEntry {
    const get = (key: string): TomlValue | undefined => field(table, key, this.fail)
    const pullFromMirror = this.string(get('pull-from-mirror'), `${name}.pull-from-mirror`) ?? ''
    if (pullFromMirror !== '') this.fail('pull-from-mirror must not be set for a non-mirror registry')
    return {
      prefix: this.string(get('prefix'), `${name}.prefix`) ?? '',
      location: this.string(get('location'), `${name}.location`) ?? '',
      insecure: this.bool(get('insecure'), `${name}.insecure`),
      blocked: this.bool(get('blocked'), `${name}.blocked`),
      mirrorByDigestOnly: this.bool(get('mirror-by-digest-only'), `${name}.mirror-by-digest-only`),
      mirrors: (this.tables(get('mirror'), `${name}.mirror`) ?? []).map((mirror, i) => {
        // Read only for its type: a mirror is a handoff whatever it says.
        this.bool(field(mirror, 'insecure', this.fail), `${name}.mirror[${i}].insecure`)
        return {
          location: this.string(field(mirror, 'location', this.fail), `${name}.mirror[${i}].location`) ?? '',
          pullFromMirror: this.string(field(mirror, 'pull-from-mirror', this.fail), `${name}.mirror[${i}].pull-from-mirror`) ?? ''
        }
      }),
      file
    }
  }
}

function field(table: TomlTable, name: string, fail: (what: string) => never): TomlValue | undefined {
  const spellings = [...table.keys()].filter(k => k.toLowerCase() === name)
  // Two spellings of one field both decode into it, in Go's map order.
  if (spellings.length > 1) fail(`${name} is given more than once in different cases`)
  return spellings.length === 1 ? table.get(spellings[0]) : undefined
}

/** ConvertToV2: one registry per location, blocked and insecure as listed. */
function convertV1(insecure: string[], block: string[], file: string, fail: (what: string) => never): RegistryEntry[] {
  const byLocation = new Map<string, RegistryEntry>()
  const get = (text: string): RegistryEntry => {
    const location = parseLocation(text, fail)
    let entry = byLocation.get(location)
    if (!entry) {
      entry = { prefix: location, location, insecure: false, blocked: false, mirrors: [], mirrorByDigestOnly: false, file }
      byLocation.set(location, entry)
    }
    return entry
  }
  for (const location of block) get(location).blocked = true
  for (const location of insecure) get(location).insecure = true
  return [...byLocation.values()]
}

function parseLocation(text: string, fail: (what: string) => never): string {
  const trimmed = text.replace(/\/+$/, '')
  if (trimmed.startsWith('http://') || trimmed.startsWith('https://')) fail('a location with a URI scheme')
  return trimmed
}

/** postProcessRegistries and loadConfigFile's wildcard check; leaves one registry per prefix, sorted, the first of each kept. */
function postProcess(registries: RegistryEntry[], fail: (what: string) => never): void {
  for (const reg of registries) {
    reg.location = parseLocation(reg.location, fail)
    if (reg.prefix === '') {
      if (reg.location === '') fail('both location and prefix are unset')
      reg.prefix = reg.location
    } else {
      reg.prefix = parseLocation(reg.prefix, fail)
      if (!reg.prefix.startsWith('*.') && reg.location === '') fail('location is unset and prefix is not *.example.com')
    }
    for (const mirror of reg.mirrors) {
      mirror.location = parseLocation(mirror.location, fail)
      if (mirror.location === '') fail('a mirror location is unset')
      if (reg.mirrorByDigestOnly && mirror.pullFromMirror !== '') fail('mirror-by-digest-only and pull-from-mirror are both set')
      if (!['', 'all', 'digest-only', 'tag-only'].includes(mirror.pullFromMirror)) fail('an unsupported pull-from-mirror value')
    }
  }
  const byLocation = new Map<string, RegistryEntry[]>()
  for (const reg of registries) {
    const key = reg.location === '' ? reg.prefix : reg.location
    byLocation.set(key, [...(byLocation.get(key) ?? []), reg])
  }
  for (const same of byLocation.values()) {
    if (same.some(r => r.insecure !== same[0].insecure)) fail('a registry is defined several times with conflicting insecure')
    if (same.some(r => r.blocked !== same[0].blocked)) fail('a registry is defined several times with conflicting blocked')
  }
  for (const reg of registries) {
    if (reg.prefix.startsWith('*.') && /[/@:]/.test(reg.prefix)) fail('a wildcard prefix that is not *.example.com')
  }
  const firstByPrefix = new Map<string, RegistryEntry>()
  for (const reg of registries) if (!firstByPrefix.has(reg.prefix)) firstByPrefix.set(reg.prefix, reg)
  registries.splice(0, registries.length, ...[...firstByPrefix.keys()].sort(byBytes).map(p => firstByPrefix.get(p) as RegistryEntry))
}

/** updateWithConfigurationFrom: registries replace by prefix; credential-helpers replace when the file has the key. */
function mergeRegistriesConf(into: RegistriesConf, from: RegistriesConf): void {
  const byPrefix = new Map(into.registries.map(r => [r.prefix, r]))
  for (const reg of from.registries) byPrefix.set(reg.prefix, reg)
  into.registries = [...byPrefix.keys()].sort(byBytes).map(p => byPrefix.get(p) as RegistryEntry)
  if (from.credentialHelpers) {
    into.credentialHelpers = from.credentialHelpers
    into.credentialHelpersFile = from.credentialHelpersFile
  }
}

function validShortName(name: string): boolean {
  const ref = parseAny(name)
  return ref !== undefined && !ref.tagged && !ref.digested && !/[.:]/.test(ref.domain) && ref.domain !== 'localhost'
}

function validAliasValue(alias: string): boolean {
  const ref = parseAny(alias)
  return (
    ref !== undefined &&
    !ref.tagged &&
    !ref.digested &&
    (/[.:]/.test(ref.domain) || ref.domain === 'localhost') &&
    parseReference(alias) !== undefined
  )
}

/** findRegistryWithParsedConfig: the longest matching prefix, the first of equals in prefix order. */
function findRegistry(registries: RegistryEntry[], name: string): RegistryEntry | undefined {
  let found: RegistryEntry | undefined
  for (const reg of registries) {
    if (matchingPrefix(name, reg.prefix) >= 0 && reg.prefix.length > (found?.prefix.length ?? 0)) found = reg
  }
  return found
}

/** refMatchingPrefix: the length matched, or -1. `example.com` also matches `example.com:5000`, as there. */
function matchingPrefix(ref: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const index = ref.indexOf(prefix.slice(1))
    if (index < 0 || ref.slice(0, index).includes('/')) return -1
    const end = index + prefix.length - 1
    return end === ref.length || ':/@'.includes(ref[end]) ? end : -1
  }
  if (ref === prefix) return prefix.length
  return ref.startsWith(prefix) && ref.length > prefix.length && ':/@'.includes(ref[prefix.length]) ? prefix.length : -1
}

/** PullSourcesFromReference: the mirrors a read of this reference would try before the registry. */
function pullMirrors(reg: RegistryEntry, digested: boolean): Mirror[] {
  if (reg.mirrorByDigestOnly) return digested ? reg.mirrors : []
  return reg.mirrors.filter(m => !(m.pullFromMirror === 'digest-only' && !digested) && !(m.pullFromMirror === 'tag-only' && digested))
}

/** x/net/http/httpproxy useProxy, inverted: loopback and NO_PROXY matches go direct. */
function bypassesProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return true
  const ip = isIP(host) ? host : undefined
  if (ip && isLoopback(ip)) return true
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase()
    if (!entry) continue
    if (entry === '*') return true
    if (entry.includes('/')) {
      if (ip && inCidr(ip, entry)) return true
      continue
    }
    let entryHost = entry
    let entryPort = ''
    const hostPort = /^(\[[^\]]*\]|[^:]*):([^:]*)$/.exec(entry)
    if (hostPort) {
      if (!hostPort[1]) continue
      entryHost = hostPort[1].replace(/^\[(.*)\]$/, '$1')
      entryPort = hostPort[2]
    }
    if (isIP(entryHost)) {
      if (ip && sameIp(ip, entryHost) && (entryPort === '' || entryPort === port)) return true
      continue
    }
    const matchHost = !entryHost.startsWith('.') && !entryHost.startsWith('*.')
    const suffix = entryHost.startsWith('*.') ? entryHost.slice(1) : matchHost ? `.${entryHost}` : entryHost
    if ((host.endsWith(suffix) || (matchHost && host === suffix.slice(1))) && (entryPort === '' || entryPort === port)) return true
  }
  return false
}

function isLoopback(ip: string): boolean {
  const bytes = ipBytes(ip)
  const v4 = to4(bytes)
  return v4 ? v4[0] === 127 : bytes.every((b, i) => b === (i === 15 ? 1 : 0))
}

function sameIp(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(to16(ipBytes(a))), Buffer.from(to16(ipBytes(b)))) === 0
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/')
  if (!isIP(base) || !/^[0-9]+$/.test(bitsText ?? '') || Number(bitsText) > (isIP(base) === 4 ? 32 : 128)) return false
  // IPNet.Contains compares IPv4 forms where both have one (an IPv4-in-IPv6 network keeps the mask's last 32 bits).
  const net16 = ipBytes(base)
  const net = to4(net16) ?? net16
  const bits = net16.length === 16 && net.length === 4 ? Math.max(0, Number(bitsText) - 96) : Number(bitsText)
  const addr16 = ipBytes(ip)
  const addr = to4(addr16) ?? addr16
  if (addr.length !== net.length) return false
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> i % 8
    if ((addr[Math.floor(i / 8)] & mask) !== (net[Math.floor(i / 8)] & mask)) return false
  }
  return true
}

function ipBytes(ip: string): number[] {
  if (isIP(ip) === 4) return ip.split('.').map(Number)
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined]
  const groups = (part: string | undefined): number[] => {
    if (!part) return []
    return part.split(':').flatMap(g => (g.includes('.') ? ipBytes(g) : [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]))
  }
  const front = groups(head)
  const back = groups(tail)
  return [...front, ...new Array<number>(16 - front.length - back.length).fill(0), ...back]
}

function to16(bytes: number[]): number[] {
  return bytes.length === 4 ? [...new Array<number>(10).fill(0), 0xff, 0xff, ...bytes] : bytes
}

function to4(bytes: number[]): number[] | undefined {
  if (bytes.length === 4) return bytes
  return bytes.slice(0, 12).every((b, i) => b === (i < 10 ? 0 : 0xff)) ? bytes.slice(12) : undefined
}

/**
 * SetupCertificates: `*.crt` are CAs added to the system roots; `*.cert` and `*.key` are client pairs by
 * base name, and a half pair or an unreadable pair fails the request. A missing directory is none.
 */
function readCertDir(dir: string): CertDir {
  let names: string[]
  try {
    names = fs.readdirSync(dir).sort(byBytes)
  } catch (e) {
    const code = errorCode(e)
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') return { crts: [], pairs: [] }
    throw new Error(`reading the cert dir ${dir}: ${code ?? 'error'}`)
  }
  const out: CertDir = { crts: [], pairs: [] }
  for (const name of names) {
    const file = path.join(dir, name)
    if (name.endsWith('.crt')) {
      let text: string
      try {
        text = fs.readFileSync(file, 'utf8')
      } catch (e) {
        if (errorCode(e) === 'ENOENT') continue
        throw new Error(`reading ${file}: ${errorCode(e) ?? 'error'}`)
      }
      out.crts.push(...certificatesIn(text))
    }
    if (name.endsWith('.cert')) {
      const keyName = `${name.slice(0, -'.cert'.length)}.key`
      if (!names.includes(keyName)) throw new Error(`missing key ${keyName} for client certificate ${file}`)
      out.pairs.push(loadKeyPair(file, path.join(dir, keyName)))
    }
    if (name.endsWith('.key')) {
      const certName = `${name.slice(0, -'.key'.length)}.cert`
      if (!names.includes(certName)) throw new Error(`missing client certificate ${certName} for key ${file}`)
    }
  }
  return out
}

/** tls.LoadX509KeyPair: the file's certificates as the chain, a key that matches its first. */
function loadKeyPair(certFile: string, keyFile: string): { cert: string; key: string; file: string } {
  try {
    const chain = certificatesIn(fs.readFileSync(certFile, 'utf8'))
    if (chain.length === 0) throw new Error('no certificate')
    const key = createPrivateKey(fs.readFileSync(keyFile, 'utf8'))
    if (!new X509Certificate(chain[0]).checkPrivateKey(key)) throw new Error('the key does not match')
    return { cert: chain.join(''), key: key.export({ type: 'pkcs8', format: 'pem' }).toString(), file: certFile }
  } catch (e) {
    throw new Error(`loading the client certificate ${certFile} with ${keyFile}: ${e instanceof Error ? e.message : 'error'}`)
  }
}

const PEM_BEGIN = '-----BEGIN CERTIFICATE-----'
const PEM_END = '-----END CERTIFICATE-----'

/**
 * AppendCertsFromPEM's CERTIFICATE blocks, one PEM each, skipping blocks with headers as Go does. A
 * certificate that does not parse is passed on: Node skips such a `ca` entry as Go skips it (and
 * parsing ~300 system roots here would cost a third of a second).
 */
function certificatesIn(text: string): string[] {
  const out: string[] = []
  for (let begin = text.indexOf(PEM_BEGIN); begin >= 0; begin = text.indexOf(PEM_BEGIN, begin + 1)) {
    const end = text.indexOf(PEM_END, begin)
    if (end < 0) break
    const body = text.slice(begin + PEM_BEGIN.length, end).replace(/\s+/g, '')
    if (/[^A-Za-z0-9+/=]/.test(body) || !/^[^=]+={0,2}$/.test(body)) continue
    out.push(`${PEM_BEGIN}\n${body.replace(/.{1,64}/g, '$&\n')}${PEM_END}\n`)
  }
  return out
}

function readIfPossible(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** isSameDirSymlink: OpenSSL's hash names, links to a file of the same directory that is read anyway. */
function isSameDirLink(file: string): boolean {
  try {
    return !fs.readlinkSync(file).includes('/')
  } catch {
    return false
  }
}

function errorCode(e: unknown): string | undefined {
  return e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' ? e.code : undefined
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
