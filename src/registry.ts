import { execute } from './exec'
import { classify, errorText, withRetry } from './retry'

export interface AccessOptions {
  tlsVerify: boolean
  authFile?: string
  certDir?: string
  env: NodeJS.ProcessEnv
  retries: number
}

/** skopeo does every read and copy: its version, read first, also proves it is there. */
export async function checkSkopeo(env: NodeJS.ProcessEnv): Promise<string> {
  return (await execute('skopeo', ['--version'], { env })).stdout.toString().trim()
}

/**
 * The flags every registry-touching command shares (skopeo and buildah spell them the same).
 * `skopeo copy` wants TLS flags once per side (`sides: ['src-', 'dest-']`); its --authfile serves both.
 */
export function accessFlags(o: AccessOptions, sides: readonly string[] = ['']): string[] {
  const each = (flag: string, value?: string): string[] => sides.flatMap(side => [`--${side}${flag}`, ...(value === undefined ? [] : [value])])
  return [...(o.tlsVerify ? [] : each('tls-verify=false')), ...(o.authFile ? ['--authfile', o.authFile] : []), ...(o.certDir ? each('cert-dir', o.certDir) : [])]
}

/**
 * Reads manifests and configs with skopeo: it takes --authfile and --cert-dir on every version,
 * unlike `buildah manifest inspect` before 1.32. Reads are memoised so nothing is fetched twice.
 */
export class Registry {
  private readonly cache = new Map<string, Promise<Buffer | null>>()

  constructor(private readonly options: AccessOptions) {}

  /** The raw manifest at `ref`, or null when the tag or repository does not exist. */
  manifest(ref: string, { fresh = false } = {}): Promise<Buffer | null> {
    return this.read(['--raw'], ref, fresh)
  }

  /** The raw config blob of the image at `ref` (a digest reference to a single image). */
  async config(ref: string): Promise<Buffer> {
    const raw = await this.read(['--raw', '--config'], ref, false)
    if (!raw) throw new Error(`${ref} disappeared while it was being read`)
    return raw
  }

  /** Copies one image by digest into another repository, digest unchanged (skopeo never converts here). */
  async copy(from: string, to: string): Promise<void> {
    const args = ['copy', '--preserve-digests', '--quiet', ...accessFlags(this.options, ['src-', 'dest-']), `docker://${from}`, `docker://${to}`]
    await withRetry(`copy ${from} to ${to}`, () => execute('skopeo', args, { env: this.options.env }), this.options)
  }

  private read(flags: string[], ref: string, fresh: boolean): Promise<Buffer | null> {
    const key = `${flags.join(' ')} ${ref}`
    const cached = this.cache.get(key)
    if (cached && !fresh) return cached
    const args = ['inspect', ...flags, ...accessFlags(this.options), `docker://${ref}`]
    const pending = withRetry(`read ${ref}`, () => execute('skopeo', args, { env: this.options.env }), this.options).then(
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
