import { parseYaml } from '../yaml'
import { prefixKey } from '../reference'
import { quote } from '../text'
import { isDirectory } from './files'
import { parseRegistry } from './references'
import { InputError, isObject, parseBool } from './values'

/** One entry of `registry-auth`: settings for the registries under `prefix` (a host, or host/namespace). */
export interface RegistryAuth {
  prefix: string
  username?: string
  password?: string
  certDir?: string
  tlsVerify?: boolean
}

/** `user:password` is how an auth file stores a login: a colon in the name would move the split. */
export const isUsername = (name: string): boolean => name.length <= 256 && !/[:\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(name)

/**
 * `registry-auth`: a YAML mapping from a registry prefix to its own `username`, `password`,
 * `cert-dir` and `tls-verify`. Its text holds passwords: it is never quoted back.
 */
export function parseRegistryAuth(text: string): RegistryAuth[] {
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
      if (!isUsername(username)) {
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
