/**
 * The grammar of what the inputs name: registries, repositories, tags and image references, as
 * given and as Docker reads a short name, and the per-arch tag built from them. Which two name the
 * same place is src/reference.ts's question.
 */
import { qualifyPrefix, qualifyReference } from '../reference'
import { quote } from '../text'
import { InputError } from './values'

// Grammar from the OCI distribution spec (and docker/distribution's reference package).
const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*'
const REPO = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`)
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?`
const REGISTRY = new RegExp(`^${HOST}(?:/${PATH_COMPONENT})*$`)
const DIGEST = /^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/
/** The longest repository name, registry included. */
export const NAME_MAX = 255

/** A repository path without its registry: lowercase components joined by `/`. */
export const isRepository = (path: string): boolean => REPO.test(path)

export const isTag = (tag: string): boolean => TAG.test(tag)

/**
 * `https://user:pass@host` → `https://***@host`: a password typed into a registry is not quoted back.
 * A short name's `app@sha256:…` is a digest, not credentials.
 */
function withoutUserinfo(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@(?!sha(?:256|512):)/i, '$1***@')
}

/** A registry prefix, qualified as Docker reads it (`myorg` is `docker.io/myorg`). */
export function parseRegistry(name: string, value: string): string {
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

/** An image reference, split: `host/path/repo` (the repository), and its tag and/or digest. */
export interface Reference {
  text: string
  host: string
  repository: string
  tag?: string
  digest?: string
}

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

/**
 * The per-arch tag for one arch, e.g. `40-x86_64`. A platform name gives its slashes as dashes
 * (`40-linux-arm-v7`), the form Docker's multi-platform workflow names its per-platform artifacts.
 */
export function archTagFor(template: string, tag: string, arch: string): string {
  return template.replace(/\{tag\}/g, tag).replace(/\{arch\}/g, arch.replace(/\//g, '-'))
}
