import * as core from '@actions/core'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import type { Inputs } from './inputs'

export interface Credentials {
  /** Auth file to pass as --authfile, if the run has one of its own. */
  authFile?: string
  /** Environment for child processes. */
  env: NodeJS.ProcessEnv
  /** Directory this run created for a temporary auth file, to be deleted at the end. */
  tempDir?: string
}

/** `registry.example.org:5000/ns` → `registry.example.org:5000`: docker config keys are hosts. */
export function registryHost(prefix: string): string {
  return prefix.split('/')[0]
}

/**
 * username/password → a private auth file (0600, in RUNNER_TEMP) for every registry, so the password
 * is never on a command line; auth-file → used as given; neither → whatever login the job made before
 * (REGISTRY_AUTH_FILE, containers and docker default locations), which the tools find themselves.
 */
export function prepareCredentials(inputs: Inputs, env: NodeJS.ProcessEnv = process.env): Credentials {
  if (inputs.password) core.setSecret(inputs.password)
  if (inputs.authFile) {
    return { authFile: inputs.authFile, env: { ...env, REGISTRY_AUTH_FILE: inputs.authFile } }
  }
  if (!inputs.username) return { env: { ...env } }

  const auth = Buffer.from(`${inputs.username}:${inputs.password}`).toString('base64')
  core.setSecret(auth)
  const hosts = new Set([inputs.source, ...inputs.registries].map(registryHost))
  const content = JSON.stringify({ auths: Object.fromEntries([...hosts].map(h => [h, { auth }])) }, null, 2)
  const tempDir = fs.mkdtempSync(path.join(env.RUNNER_TEMP || os.tmpdir(), 'multiarch-publish-auth-'))
  fs.chmodSync(tempDir, 0o700)
  const authFile = path.join(tempDir, 'auth.json')
  fs.writeFileSync(authFile, content, { mode: 0o600 })
  // The same file as DOCKER_CONFIG/config.json serves tools without --authfile (buildah manifest inspect < 1.32).
  fs.writeFileSync(path.join(tempDir, 'config.json'), content, { mode: 0o600 })
  return { authFile, tempDir, env: { ...env, REGISTRY_AUTH_FILE: authFile, DOCKER_CONFIG: tempDir } }
}

export function removeCredentials(credentials: Pick<Credentials, 'tempDir'>): void {
  if (credentials.tempDir) fs.rmSync(credentials.tempDir, { recursive: true, force: true })
}
