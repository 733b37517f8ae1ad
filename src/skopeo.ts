import * as log from './log'
import { sha256 } from './manifest'
import { underPrefix } from './reference'
import { execute } from './exec'
import { classify, errorText, RetryOptions, withRetry } from './retry'

export interface AccessOptions {
  tlsVerify: boolean
  authFile?: string
  certDir?: string
  /** Per-registry TLS settings (input `registry-auth`), longest prefix first; the rest use the above. */
  registries?: ReadonlyArray<{ prefix: string; certDir?: string; tlsVerify?: boolean }>
  env: NodeJS.ProcessEnv
  retries: number
  /** Back-off timings for withRetry (tests shorten them). */
  baseDelayMs?: number
  maxDelayMs?: number
}

/** skopeo does every read and copy: its version, read first, also proves it is there. */
export async function checkSkopeo(env: NodeJS.ProcessEnv): Promise<string> {
  return (await execute('skopeo', ['--version'], { env })).stdout.toString().trim()
}

/** TLS settings for one reference: its registry's own (longest prefix), or the step's. */
export function tlsFor(o: AccessOptions, ref: string): { tlsVerify: boolean; certDir?: string } {
  const own = o.registries?.find(r => underPrefix(ref, r.prefix))
  return { tlsVerify: own?.tlsVerify ?? o.tlsVerify, certDir: own?.certDir ?? o.certDir }
}

/**
 * The flags every registry-touching command shares (skopeo and buildah spell them the same), for the
 * reference the command touches. `skopeo copy` wants TLS flags per side (`--src-…` for `ref`,
 * `--dest-…` for `dest`), each from its own registry's settings; its --authfile serves both.
 */
export function accessFlags(o: AccessOptions, ref: string, dest?: string, loopback?: LoopbackSource): string[] {
  const sides: Array<[string, string]> =
    dest === undefined
      ? [['', ref]]
      : [
          ['src-', ref],
          ['dest-', dest]
        ]
  // A loopback source has settings of its own: plain HTTP, and an auth file for it alone.
  const settings = sides.filter(([side]) => !(loopback && side === 'src-')).map(([side, r]) => ({ side, ...tlsFor(o, r) }))
  return [
    ...(loopback ? ['--src-tls-verify=false', '--src-authfile', loopback.authFile] : []),
    ...settings.flatMap(t => (t.tlsVerify ? [] : [`--${t.side}tls-verify=false`])),
    ...(o.authFile ? ['--authfile', o.authFile] : []),
    ...settings.flatMap(t => (t.certDir ? [`--${t.side}cert-dir`, t.certDir] : []))
  ]
}

export function retryOptions(o: AccessOptions): RetryOptions {
  return { retries: o.retries, baseDelayMs: o.baseDelayMs, maxDelayMs: o.maxDelayMs }
}

/** A copy's source served by a registry on 127.0.0.1 over plain HTTP (the relay), with an auth file of its own. */
export interface LoopbackSource {
  /** `127.0.0.1:<port>/<name>@sha256:…` */
  ref: string
  authFile: string
}

/** skopeo copy --retry-times: inside each of our attempts, so they multiply (3 tries per attempt). */
export const COPY_RETRY_TIMES = 2

/**
 * How far a `skopeo copy` got, from its progress lines: each blob started, the config (all layers
 * done), the manifest (config done), signatures (manifest written). Blobs already at the destination
 * are reused, so an attempt that gets further than every earlier one has added to the destination.
 */
export function copyStage(line: string): number {
  const stages = [/^Copying blob/i, /^Copying config/i, /^Writing manifest/i, /^Storing signatures/i]
  return stages.findIndex(re => re.test(line)) + 1
}

/**
 * Reads manifests and configs with skopeo: it takes --authfile and --cert-dir on every version,
 * unlike `buildah manifest inspect` before 1.32. Reads are memoised unless asked `fresh`.
 */
export class Skopeo {
  private readonly cache = new Map<string, Promise<Buffer | null>>()

  constructor(private readonly options: AccessOptions) {}

  /** The raw manifest at `ref`, or null when the tag or repository does not exist. */
  manifest(ref: string, { fresh = false } = {}): Promise<Buffer | null> {
    return this.read(['--raw'], ref, fresh)
  }

  /** The digest `ref` serves right now (never from a cache), or null when it does not exist. */
  async digest(ref: string): Promise<string | null> {
    const raw = await this.manifest(ref, { fresh: true })
    return raw ? sha256(raw) : null
  }

  /** The raw config blob of the image at `ref` (a digest reference to a single image). */
  async config(ref: string): Promise<Buffer> {
    const raw = await this.read(['--raw', '--config'], ref, false)
    if (!raw) throw new Error(`${ref} disappeared while it was being read`)
    return raw
  }

  /**
   * Copies one image (or, with `indexOnly`, just a list whose entries are already there) by digest,
   * bytes unchanged. Retried for as long as each attempt gets further; `retries` bounds the rest.
   * `via`: read `from` from there instead (the same image), the destination as always.
   */
  async copy(from: string, to: string, { indexOnly = false, via }: { indexOnly?: boolean; via?: LoopbackSource } = {}): Promise<void> {
    const args = [
      'copy',
      '--preserve-digests',
      // skopeo's own retries (fixed 1 s, 2 s) redo the copy inside this attempt: containers/image opens
      // a connection per request, so one attempt is a dozen chances to meet a flaky network.
      '--retry-times',
      String(COPY_RETRY_TIMES),
      ...(indexOnly ? ['--multi-arch', 'index-only'] : []),
      ...accessFlags(this.options, from, to, via),
      `docker://${via?.ref ?? from}`,
      `docker://${to}`
    ]
    let best = 0
    let reached = 0
    const repository = to.slice(0, to.lastIndexOf('@'))
    const onLine = (line: string): void => {
      const stage = copyStage(line)
      reached = Math.max(reached, stage)
      // Progress as skopeo reports it without a terminal: each blob as it starts, then the config and manifest.
      if (stage > 0) log.info(`copy ${from} → ${repository}: ${line.replace(/^Copying /, '')}`)
    }
    const madeProgress = (): boolean => {
      const further = reached > best
      best = Math.max(best, reached)
      reached = 0
      return further
    }
    await withRetry(`copy ${from} to ${to}`, () => execute('skopeo', args, { env: this.options.env, onLine }), {
      ...retryOptions(this.options),
      madeProgress
    })
  }

  private read(flags: string[], ref: string, fresh: boolean): Promise<Buffer | null> {
    const key = `${flags.join(' ')} ${ref}`
    const cached = this.cache.get(key)
    if (cached && !fresh) return cached
    const args = ['inspect', ...flags, ...accessFlags(this.options, ref), `docker://${ref}`]
    const pending = withRetry(`read ${ref}`, () => execute('skopeo', args, { env: this.options.env }), retryOptions(this.options)).then(
      r => r.stdout,
      (e: unknown) => {
        if (classify(errorText(e)).kind === 'not-found') return null
        throw e
      }
    )
    this.cache.set(key, pending)
    return pending
  }
}
