/**
 * Identity of registry references. Every comparison of two references, repositories or registry
 * prefixes goes through `referenceKey`: two spellings of one place (a capitalised host, Docker Hub's
 * aliases, Hub's implicit `library/`) must never pass a guard that compares text.
 */

const DOCKER_HUB_ALIASES = ['docker.io', 'index.docker.io', 'registry-1.docker.io']

/** A registry host as a key: host names are case-insensitive, and Docker Hub has three names. */
export function hostKey(host: string): string {
  const lower = host.toLowerCase()
  return DOCKER_HUB_ALIASES.includes(lower) ? 'docker.io' : lower
}

/**
 * A reference or repository (`host/path[:tag][@digest]`) in the one form every spelling of the same
 * place shares. The path, tag and digest are case-sensitive and stay as written.
 */
export function referenceKey(ref: string): string {
  const key = prefixKey(ref)
  // Docker Hub's one-part names are official images: `docker.io/alpine` is `docker.io/library/alpine`.
  return /^docker\.io\/[^/]+$/.test(repositoryOf(key)) ? key.replace('/', '/library/') : key
}

/** A registry prefix (`host` or `host/namespace`) as a key: only the host has other spellings. */
export function prefixKey(prefix: string): string {
  const slash = prefix.indexOf('/')
  return slash < 0 ? hostKey(prefix) : `${hostKey(prefix.slice(0, slash))}${prefix.slice(slash)}`
}

/** Docker's test for a first path component that is a registry host rather than a Docker Hub namespace. */
const isHost = (component: string): boolean => /[.:]/.test(component) || component.toLowerCase() === 'localhost'

/**
 * A reference as Docker reads a short name (docker/metadata-action's `tags` for `images: user/app`):
 * `user/app:1` is `docker.io/user/app:1`, `app:1` is `docker.io/library/app:1`. A reference whose
 * first component is a host (a `.` or `:`, or `localhost`) is as written.
 */
export function qualifyReference(ref: string): string {
  const slash = ref.indexOf('/')
  if (slash < 0) return `docker.io/library/${ref}`
  return isHost(ref.slice(0, slash)) ? ref : `docker.io/${ref}`
}

/** A registry prefix as Docker would read it: `myorg` (no `.`, `:` or `localhost`) is Docker Hub's `docker.io/myorg`. */
export function qualifyPrefix(prefix: string): string {
  return isHost(prefix.split('/')[0]) ? prefix : `docker.io/${prefix}`
}

export function sameReference(a: string, b: string): boolean {
  return referenceKey(a) === referenceKey(b)
}

/** Whether `ref` lies under the registry prefix `prefix` (a host, or host/namespace), by whole path components. */
export function underPrefix(ref: string, prefix: string): boolean {
  return referenceKey(ref).startsWith(`${prefixKey(prefix)}/`)
}

/** `host/ns/repo:tag` or `host/ns/repo@sha256:…` → `host/ns/repo` (a port's colon comes before the last slash). */
export function repositoryOf(ref: string): string {
  const at = ref.indexOf('@')
  const named = at >= 0 ? ref.slice(0, at) : ref
  const colon = named.lastIndexOf(':')
  return colon > named.lastIndexOf('/') ? named.slice(0, colon) : named
}
