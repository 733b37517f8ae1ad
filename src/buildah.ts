import * as crypto from 'crypto'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { Platform } from './arch'
import { CommandError, execute } from './exec'
import type { Format } from './model'
import { withRetry } from './retry'
import { AccessOptions, accessFlags, retryOptions, tlsFor } from './skopeo'

export interface Version {
  major: number
  minor: number
  patch: number
  text: string
}

/** 1.23 is the first release whose `manifest rm` removes only the list, never the images in it. */
export const MINIMUM_VERSION = '1.23.0'

export function parseVersion(text: string): Version | undefined {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text)
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: m[0] } : undefined
}

export function atLeast(v: Version, wanted: string): boolean {
  const w = parseVersion(wanted) as Version
  return v.major !== w.major ? v.major > w.major : v.minor !== w.minor ? v.minor > w.minor : v.patch >= w.patch
}

/** What this buildah can do; every flag whose default or existence changed is gated here. */
export interface Features {
  /** `manifest push --retry`: on, buildah retries internally; we pass 0 so retries are not nested. */
  retryFlag: boolean
  /** `manifest create --annotation` writes index-level annotations. */
  indexAnnotations: boolean
  /** `manifest create --tls-verify`: images can be named at create time, from any registry we use. */
  createTlsVerify: boolean
}

export function features(v: Version): Features {
  return { retryFlag: atLeast(v, '1.35.0'), indexAnnotations: atLeast(v, '1.35.0'), createTlsVerify: atLeast(v, '1.28.0') }
}

export async function detectVersion(env: NodeJS.ProcessEnv): Promise<Version> {
  let text: string
  try {
    text = (JSON.parse((await execute('buildah', ['version', '--json'], { env })).stdout.toString()) as { version?: string }).version ?? ''
  } catch (e) {
    if (!(e instanceof CommandError) && !(e instanceof SyntaxError)) throw e
    // Before 1.22 there is no --json.
    text = (await execute('buildah', ['--version'], { env })).stdout.toString()
  }
  const version = parseVersion(text)
  if (!version) throw new Error(`cannot tell the buildah version from "${text.trim()}"`)
  return version
}

/** Throws a clear message when this buildah cannot do what the inputs ask. */
export function checkSupported(v: Version, wantsAnnotations: boolean): void {
  if (!atLeast(v, MINIMUM_VERSION)) {
    throw new Error(
      `buildah ${v.text} is too old: multiarch-publish needs ${MINIMUM_VERSION} or newer (its manifest rm can delete the images in a list)`
    )
  }
  if (wantsAnnotations && !features(v).indexAnnotations) {
    throw new Error(
      `input "annotations" needs buildah 1.35 or newer for index annotations; this runner has ${v.text}. Remove the annotations or use a newer runner (Debian 13, Fedora, Ubuntu 25.04+)`
    )
  }
}

/** A registry reference as buildah names it; an `oci:` layout reference (see LocalLayout) as it is. */
function imageName(ref: string): string {
  return ref.startsWith('oci:') ? ref : `docker://${ref}`
}

/** `localhost/multiarch-publish-temp-<repo>-<tag>-<unique>`: clearly local, never a remote name. */
export function localListName(repo: string, tag: string, unique = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`): string {
  const clean = (s: string): string =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
  return `localhost/multiarch-publish-temp-${clean(repo)}-${clean(tag)}-${unique}`
}

/** The buildah commands the action uses, with the version's gates applied. */
export class Buildah {
  constructor(
    private readonly version: Version,
    private readonly access: AccessOptions
  ) {}

  private run(args: string[]): Promise<{ stdout: Buffer; stderr: string }> {
    return execute('buildah', args, { env: this.access.env })
  }

  /** Creates the local list, empty or with `images` (see createTakes); the caller checks what it holds. */
  async create(name: string, annotations: Record<string, string>, images: string[] = []): Promise<void> {
    const args = ['manifest', 'create', ...Object.entries(annotations).flatMap(([k, v]) => ['--annotation', `${k}=${v}`])]
    if (images.length === 0) {
      await this.run([...args, name])
      return
    }
    // A failed create with images still leaves the (empty) list behind: remove it before trying
    // again. The name is new to this run, so the first attempt has nothing to remove.
    const tls = images.some(ref => !tlsFor(this.access, ref).tlsVerify) ? ['--tls-verify=false'] : []
    let attempted = false
    await withRetry(
      `create ${name}`,
      async () => {
        if (attempted) await removeList(name, this.access.env)
        attempted = true
        await this.run([...args, ...tls, name, ...images.map(imageName)])
      },
      retryOptions(this.access)
    )
  }

  /**
   * Whether `create` can take these images in one process (much faster than an add each): it needs
   * `--tls-verify` (1.28) and takes no --cert-dir, so images behind a cert-dir are added one by one.
   * Their platform comes from their config, which the image-truth check has compared with the arch.
   */
  createTakes(images: string[]): boolean {
    // Nor --authfile: only the logins create finds itself reach it (DOCKER_CONFIG, the default
    // locations). An auth file given by path (input auth-file, a prior login's REGISTRY_AUTH_FILE)
    // does not, unless DOCKER_CONFIG holds its copy (the private file made for username/password).
    const authFile = this.access.authFile ?? this.access.env.REGISTRY_AUTH_FILE
    const authReaches =
      !authFile || (this.access.env.DOCKER_CONFIG !== undefined && path.dirname(authFile) === path.resolve(this.access.env.DOCKER_CONFIG))
    return authReaches && features(this.version).createTlsVerify && images.every(ref => !tlsFor(this.access, ref).certDir)
  }

  /** Adds one image by digest with an explicit platform. One at a time: parallel adds lose entries before 1.35. */
  async add(name: string, ref: string, platform: Platform, annotations: Record<string, string> = {}): Promise<void> {
    const args = [
      'manifest',
      'add',
      '--os',
      platform.os,
      '--arch',
      platform.architecture,
      ...(platform.variant ? ['--variant', platform.variant] : []),
      ...Object.entries(annotations).flatMap(([k, v]) => ['--annotation', `${k}=${v}`])
    ]
    await withRetry(
      `add ${ref}`,
      () => this.run([...args, ...accessFlags(this.access, ref), name, imageName(ref)]),
      retryOptions(this.access)
    )
  }

  /** The local list's entries: what will be pushed. */
  async entries(name: string): Promise<Array<{ digest: string; platform?: Platform }>> {
    const doc = JSON.parse((await this.run(['manifest', 'inspect', name])).stdout.toString()) as {
      manifests?: Array<{ digest: string; platform?: Platform }> | null
    }
    return doc.manifests ?? []
  }

  /**
   * Pushes the list and returns its digest, or '' when buildah pushed but did not say.
   * `withImages`: `--all`, the images come along (converted to the format where needed); without it
   * only the list is written, for when every image is already in the destination repository. Both are
   * spelled out: `--all` is off by default before 1.38 and on from 1.38.
   * `--digestfile` makes buildah exit 0 with an empty file when the push failed, so an empty file
   * means: push again without it, to get the real error (or a success).
   */
  async push(name: string, destination: string, format: Format, withImages: boolean): Promise<string> {
    const args = [
      'manifest',
      'push',
      withImages ? '--all' : '--all=false',
      '--format',
      format,
      '--quiet',
      ...(features(this.version).retryFlag ? ['--retry', '0'] : []),
      ...accessFlags(this.access, destination)
    ]
    const dir = fs.mkdtempSync(path.join(this.access.env.RUNNER_TEMP || os.tmpdir(), 'multiarch-publish-push-'))
    const digestFile = path.join(dir, 'digest')
    try {
      return await withRetry(
        `push ${destination}`,
        async () => {
          await this.run([...args, '--digestfile', digestFile, name, `docker://${destination}`])
          const digest = fs.existsSync(digestFile) ? fs.readFileSync(digestFile, 'utf8').trim() : ''
          if (digest.startsWith('sha256:')) return digest
          await this.run([...args, name, `docker://${destination}`])
          return ''
        },
        retryOptions(this.access)
      )
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }

  remove(name: string): Promise<void> {
    return removeList(name, this.access.env)
  }
}

/** `manifest rm`, never `rmi`: rmi on a list can delete an image in it instead. A list already gone is fine. */
export async function removeList(name: string, env: NodeJS.ProcessEnv): Promise<void> {
  await execute('buildah', ['manifest', 'rm', name], { env }).catch((e: unknown) => {
    if (!(e instanceof CommandError && /image not known/i.test(e.stderr))) throw e
  })
}
