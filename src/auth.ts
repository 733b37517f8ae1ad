import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { childEnv } from './env'
import type { Inputs } from './inputs'
import { setSecret } from './log'

export interface Credentials {
  /** Auth file to pass as --authfile, if the run has one of its own. */
  authFile?: string
  /** Environment for every child process: childEnv() of the runner's, plus the auth file's location. */
  env: NodeJS.ProcessEnv
  /** Directory this run created for a temporary auth file, to be deleted at the end. */
  tempDir?: string
}

/** `registry.example.org:5000/ns` → `registry.example.org:5000`: docker config keys are hosts. */
export function registryHost(prefix: string): string {
  return prefix.split('/')[0]
}

/**
 * username/password → a private auth file (0600, in a 0700 dir in RUNNER_TEMP) for every registry, so
 * the password is never on a command line; auth-file → used as given; neither → whatever login the job
 * made before (REGISTRY_AUTH_FILE, containers and docker default locations), which the tools find
 * themselves. Every form of a secret is masked before anything else can print it.
 */
/** The inputs that say who logs in where. */
export type LoginInputs = Pick<Inputs, 'authFile' | 'registryAuth' | 'username' | 'password' | 'registries' | 'archTagRegistry'>

export function prepareCredentials(inputs: LoginInputs, env: NodeJS.ProcessEnv = process.env): Credentials {
  if (inputs.authFile) {
    for (const secret of secretsIn(inputs.authFile)) setSecret(secret)
    return { authFile: inputs.authFile, env: { ...childEnv(env), REGISTRY_AUTH_FILE: inputs.authFile } }
  }
  // Keys as written: containers-auth.json takes `host/namespace` keys (a namespaced robot account),
  // and the longest key that matches a reference is the one used.
  const logins: Array<[string, string, string]> = inputs.registryAuth.flatMap(a =>
    a.username && a.password ? [[a.prefix, a.username, a.password] as [string, string, string]] : []
  )
  if (inputs.username) {
    const covered = new Set(logins.map(([key]) => key))
    for (const host of new Set([inputs.archTagRegistry, ...inputs.registries].map(registryHost))) {
      if (!covered.has(host)) logins.push([host, inputs.username, inputs.password])
    }
  }
  if (logins.length === 0) return { env: childEnv(env) }

  const secrets: string[] = []
  const auths: Record<string, { auth: string }> = {}
  for (const [key, username, password] of logins) {
    const auth = Buffer.from(`${username}:${password}`).toString('base64')
    secrets.push(password, auth, encodeURIComponent(password))
    auths[key] = { auth }
  }
  for (const secret of secrets) setSecret(secret)
  const content = JSON.stringify({ auths }, null, 2)
  const tempDir = fs.mkdtempSync(path.join(env.RUNNER_TEMP || os.tmpdir(), 'multiarch-publish-auth-'))
  fs.chmodSync(tempDir, 0o700)
  const authFile = path.join(tempDir, 'auth.json')
  fs.writeFileSync(authFile, content, { mode: 0o600 })
  // The same file as DOCKER_CONFIG/config.json serves tools without --authfile (buildah manifest inspect < 1.32).
  fs.writeFileSync(path.join(tempDir, 'config.json'), content, { mode: 0o600 })
  return { authFile, tempDir, env: { ...childEnv(env, secrets), REGISTRY_AUTH_FILE: authFile, DOCKER_CONFIG: tempDir } }
}

/**
 * The credentials an auth file holds: each entry's `auth` (and the password inside it), `password`,
 * `identitytoken` and `registrytoken`.
 */
export function secretsIn(authFile: string): string[] {
  let doc: unknown
  try {
    doc = JSON.parse(fs.readFileSync(authFile, 'utf8'))
  } catch {
    return [] // getInputs has checked it; a file changed since is the tools' to report
  }
  const auths = doc && typeof doc === 'object' ? (doc as { auths?: unknown }).auths : undefined
  if (!auths || typeof auths !== 'object') return []
  const out: string[] = []
  for (const entry of Object.values(auths as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object') continue
    for (const key of ['auth', 'password', 'identitytoken', 'registrytoken']) {
      const value = (entry as Record<string, unknown>)[key]
      if (typeof value !== 'string' || !value) continue
      out.push(value)
      if (key === 'auth') {
        const decoded = Buffer.from(value, 'base64').toString('utf8')
        if (decoded.includes(':')) out.push(decoded.slice(decoded.indexOf(':') + 1))
      }
    }
  }
  return out.filter(Boolean)
}

export function removeCredentials(credentials: Pick<Credentials, 'tempDir'>): void {
  if (credentials.tempDir) fs.rmSync(credentials.tempDir, { recursive: true, force: true })
}
