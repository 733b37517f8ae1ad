import * as log from '../log'
import { sha256 } from '../manifest'
import { repositoryOf, referenceKey } from '../reference'
import { tlsFor, type AccessOptions } from '../skopeo'
import { RegistryClient, type ClientOptions } from './client'
import { RegistryConfig, type Endpoint } from './config'

/**
 * Every registry read the phases make, behind one interface: they do not know who answers. Reads
 * are memoised unless asked `fresh`; `digest` is always fresh (a re-check before a tag moves).
 */
export interface Reader {
  /** The raw manifest at `ref`, or null when the tag or repository does not exist. */
  manifest(ref: string, o?: { fresh?: boolean }): Promise<Buffer | null>
  /** The raw config blob of the image at `ref` (a digest reference to a single image). */
  config(ref: string): Promise<Buffer>
  /** The digest `ref` serves right now, or null when it does not exist. */
  digest(ref: string): Promise<string | null>
}

export interface ReadsOptions {
  mode: 'auto' | 'skopeo'
  access: AccessOptions
  /** Whether `ref` is an image this run reads from (registries.conf mirrors and location apply to those). */
  isSource: (ref: string) => boolean
  client: Omit<ClientOptions, 'retries' | 'baseDelayMs' | 'maxDelayMs'>
  /** For tests: where the system paths (/etc, /run) are. */
  config?: RegistryConfig
}

type Route = { via: 'native'; client: RegistryClient; path: string } | { via: 'skopeo' }

/** `…/repo:tag` → `tag`; `…/repo@sha256:…` → the digest. */
function referenceOf(ref: string): string {
  const at = ref.indexOf('@')
  return at >= 0 ? ref.slice(at + 1) : ref.slice(repositoryOf(ref).length + 1)
}

/**
 * Reads in process where the configuration allows, through skopeo where it needs what the reader
 * does not do (decided per repository before its first request, and said once per registry).
 */
export class Reads implements Reader {
  private readonly registryConfig: RegistryConfig
  private readonly routes = new Map<string, Route>()
  private readonly clients = new Map<string, RegistryClient>()
  private readonly said = new Set<string>()
  private readonly memo = new Map<string, Promise<Buffer | null>>()

  constructor(
    private readonly skopeo: Reader,
    private readonly o: ReadsOptions
  ) {
    this.registryConfig = o.config ?? new RegistryConfig({ env: o.access.env, authFile: o.access.authFile })
  }

  manifest(ref: string, { fresh = false } = {}): Promise<Buffer | null> {
    const route = this.route(ref)
    if (route.via === 'skopeo') return this.skopeo.manifest(ref, { fresh })
    return this.remember(`manifest ${ref}`, fresh, async () => (await route.client.getManifest(route.path, referenceOf(ref)))?.raw ?? null)
  }

  async config(ref: string): Promise<Buffer> {
    const route = this.route(ref)
    if (route.via === 'skopeo') return this.skopeo.config(ref)
    const raw = await this.remember(`config ${ref}`, false, async () => {
      // Through the memo: whoever reads this image's manifest next (staging's layout) reads it once.
      const manifest = await this.manifest(ref)
      if (!manifest) return null
      const doc = JSON.parse(manifest.toString('utf8')) as { config?: { digest?: unknown } }
      const digest = doc.config?.digest
      if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`${ref} is not an image with a config`)
      return route.client.getBlob(route.path, digest)
    })
    if (!raw) throw new Error(`${ref} disappeared while it was being read`)
    return raw
  }

  digest(ref: string): Promise<string | null> {
    const route = this.route(ref)
    if (route.via === 'skopeo') return this.skopeo.digest(ref)
    return route.client.headManifest(route.path, referenceOf(ref))
  }

  /** Whether reads of `ref`'s repository are made in process (not handed to skopeo). */
  inProcess(ref: string): boolean {
    return this.route(ref).via === 'native'
  }

  /** A blob of `ref`'s repository as it arrives; null when the registry has no such blob. In-process reads only. */
  openBlob(ref: string, digest: string): ReturnType<RegistryClient['openBlob']> {
    const route = this.route(ref)
    if (route.via === 'skopeo') throw new Error(`${ref}: reads of this registry go through skopeo`)
    return route.client.openBlob(route.path, digest)
  }

  /** Closes every kept-alive connection (the step must not wait on idle sockets). */
  close(): void {
    for (const client of this.clients.values()) client.close()
  }

  private remember(key: string, fresh: boolean, read: () => Promise<Buffer | null>): Promise<Buffer | null> {
    const cached = this.memo.get(key)
    if (cached && !fresh) return cached
    const pending = read()
    this.memo.set(key, pending)
    // A failed read is not remembered: the next asks again.
    pending.catch(() => this.memo.delete(key))
    return pending
  }

  private route(ref: string): Route {
    const repository = referenceKey(repositoryOf(ref))
    const role = this.o.isSource(ref) ? 'source' : 'destination'
    const key = `${role} ${repository}`
    let route = this.routes.get(key)
    if (!route) {
      route = this.decide(ref, role)
      this.routes.set(key, route)
    }
    return route
  }

  private decide(ref: string, role: 'source' | 'destination'): Route {
    if (this.o.mode === 'skopeo') return { via: 'skopeo' }
    const found = this.registryConfig.endpointFor(ref, role, tlsFor(this.o.access, ref))
    if (found.via === 'skopeo') {
      const registry = ref.split('/')[0]
      const line = `Reads of ${registry} go through skopeo: ${found.reason}`
      if (!this.said.has(line)) log.info(line)
      this.said.add(line)
      return { via: 'skopeo' }
    }
    return { via: 'native', client: this.clientFor(found), path: found.path }
  }

  /** One client (connections, challenge, tokens) per host, TLS settings and credential. */
  private clientFor(e: Endpoint): RegistryClient {
    const key = sha256(JSON.stringify([e.host, e.insecure, e.ca ?? [], e.cert ?? '', e.credentialFrom ?? '']))
    let client = this.clients.get(key)
    if (!client) {
      client = new RegistryClient(e, e.credential, {
        ...this.o.client,
        retries: this.o.access.retries,
        baseDelayMs: this.o.access.baseDelayMs ?? 1000,
        maxDelayMs: this.o.access.maxDelayMs ?? 30_000
      })
      this.clients.set(key, client)
    }
    return client
  }
}
