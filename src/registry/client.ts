import * as http from 'http'
import * as https from 'https'
import { sha256 } from '../manifest'
import { CONCURRENCY } from '../pool'
import { backoffMs } from '../retry'
import { parseChallenges, pickChallenge } from './challenge'
import type { Credential, Endpoint } from './config'

/**
 * One registry host as containers/image talks to it, over kept-alive connections: the scheme found
 * by the first ping (https; plain http only when the registry is insecure and https failed), the
 * challenge of the `/v2/` ping, a bearer token per repository scope for its lifetime. Reads only:
 * GET and HEAD, never a write.
 */

/** What containers/image asks for, so a registry neither answers 404 nor converts a list. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json'
]

const USER_AGENT = 'multiarch-publish'
/** Manifests and configs are small; anything bigger is not what was asked for. */
const BODY_MAX = 16 << 20
const REDIRECTS_MAX = 5
/** Connections per origin: a first batch of reads (as many as the pool starts before the work is known) beside the ping. */
const SOCKETS_PER_ORIGIN = CONCURRENCY + 1

/** An answer the registry gave, or a failure of the connection; `kind` decides retries and "absent". */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly kind: 'not-found' | 'transient' | 'permanent',
    readonly retryAfterMs?: number
  ) {
    super(message)
    this.name = 'RegistryError'
  }
}

export interface ClientOptions {
  retries: number
  baseDelayMs: number
  maxDelayMs: number
  /** A request with no byte for this long is abandoned (and retried). */
  idleMs: number
  /** Counts every HTTP request sent (bench and tests compare counts, never times). */
  onRequest?: (method: string, url: string) => void
  sleep?: (ms: number) => Promise<void>
}

interface Response {
  status: number
  headers: http.IncomingHttpHeaders
  distinct: NodeJS.Dict<string[]>
  body: Buffer
  /** A 200 asked for as a stream: its body, unread (`body` is then empty). */
  stream?: http.IncomingMessage
}

interface Token {
  value: string
  expires: number
}

const sleepFor = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Connection failures worth another try (the socket died under the request, or never answered), in the phrase table's words. */
const TRANSIENT_CODES: Record<string, string> = {
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection reset',
  EPIPE: 'broken pipe',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  EAI_AGAIN: 'temporary failure in name resolution',
  ENETUNREACH: 'no route to host',
  EHOSTUNREACH: 'no route to host'
}

type Scheme = 'https' | 'http'

export class RegistryClient {
  /** The ping: resolves with the scheme once the challenge is known too. */
  private pinged?: Promise<Scheme>
  /** The scheme as soon as it is decided, before the ping's answer; undefined when only the answer decides it (an insecure registry that speaks https). */
  private schemeDecided?: Promise<Scheme | undefined>
  /** undefined until the ping answers; null when the registry asks for no authorization. */
  private challenge?: { scheme: string; params: Record<string, string> } | null
  private readonly tokens = new Map<string, Promise<Token>>()
  private readonly agents = new Map<string, http.Agent>()
  /** After close(), no request starts and none is retried: the run that read is over. */
  private closed = false

  constructor(
    private readonly endpoint: Pick<Endpoint, 'host' | 'insecure' | 'ca' | 'cert' | 'key'>,
    private readonly credential: Credential | undefined,
    private readonly o: ClientOptions
  ) {}

  /** The manifest `reference` (tag or digest) of `path` names, or null when absent. GET: the bytes and their digest. */
  async getManifest(path: string, reference: string): Promise<{ raw: Buffer; digest: string; mediaType: string } | null> {
    const r = await this.read('GET', path, `manifests/${reference}`)
    if (!r) return null
    const digest = sha256(r.body)
    if (reference.startsWith('sha256:') && digest !== reference)
      throw new RegistryError(
        `${this.endpoint.host}/${path}@${reference}: the registry served bytes whose digest is ${digest}`,
        'permanent'
      )
    return { raw: r.body, digest, mediaType: String(r.headers['content-type'] ?? '') }
  }

  /**
   * The digest `reference` serves now, or null. HEAD (no body, and no pull counted on Docker Hub);
   * a registry that leaves out Docker-Content-Digest is asked again with GET.
   */
  async headManifest(path: string, reference: string): Promise<string | null> {
    const r = await this.read('HEAD', path, `manifests/${reference}`)
    if (!r) return null
    const header = r.headers['docker-content-digest']
    if (typeof header === 'string' && /^sha256:[0-9a-f]{64}$/.test(header)) {
      // By digest, the header must name that digest; a registry that says otherwise is asked for bytes.
      if (!reference.startsWith('sha256:') || header === reference) return header
    }
    return (await this.getManifest(path, reference))?.digest ?? null
  }

  /** A blob's bytes, checked against its digest. Redirects are followed; Authorization never leaves the registry's origin. */
  async getBlob(path: string, digest: string): Promise<Buffer> {
    const r = await this.read('GET', path, `blobs/${digest}`)
    if (!r) throw new RegistryError(`${this.endpoint.host}/${path}@${digest}: blob unknown (404 (Not Found))`, 'not-found')
    const served = sha256(r.body)
    if (served !== digest)
      throw new RegistryError(`${this.endpoint.host}/${path}: blob ${digest} came back with digest ${served}`, 'permanent')
    return r.body
  }

  /**
   * A blob's body as it arrives, for the relay (relay.ts): retried like every read until the answer
   * starts, then handed on unread. Whoever consumes it checks the digest (skopeo does).
   */
  async openBlob(path: string, digest: string): Promise<{ stream: http.IncomingMessage; length?: number } | null> {
    const r = await this.read('GET', path, `blobs/${digest}`, true)
    if (!r?.stream) return null
    const length = Number(r.headers['content-length'])
    return { stream: r.stream, length: Number.isSafeInteger(length) && length >= 0 ? length : undefined }
  }

  /** One read with retries; null on 404. */
  private async read(method: 'GET' | 'HEAD', path: string, what: string, stream = false): Promise<Response | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.readOnce(method, path, what, stream)
      } catch (e) {
        const err = asRegistryError(e)
        if (err.kind !== 'transient' || attempt >= this.o.retries || this.closed) throw err
        const backoff = backoffMs(attempt, this.o.baseDelayMs, Math.random, this.o.maxDelayMs)
        await (this.o.sleep ?? sleepFor)(Math.min(err.retryAfterMs ?? backoff, this.o.maxDelayMs))
      }
    }
  }

  private async readOnce(method: 'GET' | 'HEAD', path: string, what: string, stream: boolean): Promise<Response | null> {
    const pinged = this.pingOnce()
    const headers: http.OutgoingHttpHeaders = what.startsWith('manifests/') ? { accept: MANIFEST_ACCEPT } : {}
    const urlFor = (scheme: Scheme): string => `${scheme}://${this.endpoint.host}/v2/${path}/${what}`
    const early = await this.readBeforePing(method, urlFor, headers, stream)
    if (early?.status === 200) return early
    const scheme = await pinged
    let r: Response
    if (early && this.challenge === null) {
      // The registry asks for no authorization: the early read is the very request the ping leads to.
      r = early
    } else {
      let auth = await this.authorization(path, false)
      r = await this.follow(method, urlFor(scheme), { ...headers, ...auth }, stream)
      if (r.status === 401 && this.challenge?.scheme === 'bearer') {
        // The token may have expired early (a registry's clock): one fresh token, once.
        auth = await this.authorization(path, true)
        r = await this.follow(method, urlFor(scheme), { ...headers, ...auth }, stream)
      }
    }
    if (r.status === 200) return r
    if (r.status === 404) return null
    throw statusError(`${method} ${this.endpoint.host}/${path}/${what}`, r)
  }

  /**
   * With no credential there is nothing for the ping's challenge to choose, so a read that starts
   * while the ping is on its way goes out at once, without Authorization: a registry that asks for
   * none answers it one round trip sooner. Its answer stands only if it is a 200, or if the ping then
   * says no authorization is needed; otherwise the read is sent again with what the challenge asks
   * (a registry may answer 404 to a read without a token). Its failure is the later read's to report.
   */
  private async readBeforePing(
    method: 'GET' | 'HEAD',
    urlFor: (scheme: Scheme) => string,
    headers: http.OutgoingHttpHeaders,
    stream: boolean
  ): Promise<Response | undefined> {
    if (this.challenge !== undefined || this.credential) return undefined
    const scheme = await this.schemeDecided
    if (!scheme) return undefined
    try {
      return await this.follow(method, urlFor(scheme), headers, stream)
    } catch {
      return undefined
    }
  }

  /** GET or HEAD, following redirects; Authorization goes only to the origin that was asked. */
  private async follow(method: 'GET' | 'HEAD', url: string, headers: http.OutgoingHttpHeaders, stream = false): Promise<Response> {
    const origin = new URL(url).origin
    let target = url
    for (let hops = 0; ; hops++) {
      const sameOrigin = new URL(target).origin === origin
      const r = await this.request(method, target, sameOrigin ? headers : withoutAuthorization(headers), undefined, stream)
      const location = r.headers.location
      if (![301, 302, 303, 307, 308].includes(r.status) || !location) return r
      if (hops >= REDIRECTS_MAX) throw new RegistryError(`${method} ${url}: more than ${REDIRECTS_MAX} redirects`, 'permanent')
      target = new URL(location, target).toString()
    }
  }

  /** The scheme, found once: https; http only for an insecure registry whose https ping failed. */
  private pingOnce(): Promise<Scheme> {
    if (!this.pinged) {
      let decide: (scheme: Scheme | undefined) => void = () => undefined
      this.schemeDecided = new Promise(resolve => (decide = resolve))
      this.pinged = this.ping(decide).catch((e: unknown) => {
        this.pinged = undefined // a later read pings again
        throw e
      })
      // A read that was answered before the ping leaves it unawaited: its failure is the next read's.
      this.pinged.catch(() => undefined)
    }
    return this.pinged
  }

  /** `decide` is called before the ping can fail: with the scheme as soon as it is known, or undefined once the ping has answered. */
  private async ping(decide: (scheme: Scheme | undefined) => void): Promise<Scheme> {
    let r: Response
    let scheme: Scheme = 'https'
    if (!this.endpoint.insecure) decide(scheme)
    try {
      r = await this.request('GET', `https://${this.endpoint.host}/v2/`, {})
      if (r.status !== 200 && r.status !== 401 && this.endpoint.insecure) throw new Error(`status ${r.status}`)
    } catch (e) {
      if (!this.endpoint.insecure) throw asRegistryError(e)
      scheme = 'http'
      decide(scheme)
      r = await this.request('GET', `http://${this.endpoint.host}/v2/`, {})
    }
    // An insecure registry that answered over https: the ping is answered, nothing is left to read early.
    decide(undefined)
    if (r.status !== 200 && r.status !== 401) throw statusError(`GET ${this.endpoint.host}/v2/`, r)
    this.challenge = r.status === 401 ? (pickChallenge(parseChallenges(r.distinct['www-authenticate'] ?? [])) ?? null) : null
    return scheme
  }

  /** The Authorization header for a read of `path`, as the ping's challenge asks. */
  private async authorization(path: string, renew: boolean): Promise<http.OutgoingHttpHeaders> {
    const c = this.challenge
    if (!c) return {}
    if (c.scheme === 'basic') {
      const cred = this.credential
      // containers/image sends Basic even with no credentials (empty user and password).
      return { authorization: `Basic ${Buffer.from(`${cred?.username ?? ''}:${cred?.password ?? ''}`).toString('base64')}` }
    }
    // Our own scope, never the challenge's placeholder (GHCR, Forgejo's `*`).
    const scope = `repository:${path}:pull`
    const key = `${c.params.realm}\0${c.params.service ?? ''}\0${scope}`
    const cached = this.tokens.get(key)
    if (cached && !renew) {
      const token = await cached
      if (token.expires > Date.now()) return { authorization: `Bearer ${token.value}` }
    }
    const pending = this.fetchToken(c.params, scope)
    this.tokens.set(key, pending)
    pending.catch(() => this.tokens.delete(key))
    return { authorization: `Bearer ${(await pending).value}` }
  }

  /** A token from the realm: GET with Basic credentials (or none), or POST with an identity token. */
  private async fetchToken(params: Record<string, string>, scope: string): Promise<Token> {
    const realm = params.realm
    if (!realm || !/^https?:\/\//i.test(realm))
      throw new RegistryError(`${this.endpoint.host}: the registry's bearer challenge has no usable realm`, 'permanent')
    const cred = this.credential
    let r: Response
    if (cred?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cred.identityToken,
        client_id: 'containers/image',
        scope
      })
      if (params.service) form.set('service', params.service)
      const body = Buffer.from(form.toString())
      r = await this.request('POST', realm, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length }, body)
    } else {
      const url = new URL(realm)
      if (cred?.username) url.searchParams.set('account', cred.username)
      if (params.service) url.searchParams.set('service', params.service)
      url.searchParams.set('scope', scope)
      const headers: http.OutgoingHttpHeaders =
        cred && cred.username && cred.password
          ? { authorization: `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}` }
          : {}
      r = await this.request('GET', url.toString(), headers)
    }
    if (r.status !== 200) throw statusError(`token for ${scope} from ${new URL(realm).host}`, r)
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown }
    try {
      doc = JSON.parse(r.body.toString('utf8')) as typeof doc
    } catch {
      throw new RegistryError(`${this.endpoint.host}: the token server answered something other than JSON`, 'permanent')
    }
    const value = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : ''
    if (!value) throw new RegistryError(`${this.endpoint.host}: the token server gave no token`, 'permanent')
    // As containers/image: at least 60 s, whatever the server says.
    const seconds = typeof doc.expires_in === 'number' && doc.expires_in > 60 ? doc.expires_in : 60
    return { value, expires: Date.now() + seconds * 1000 - 5000 }
  }

  private agentFor(url: URL): http.Agent {
    const key = url.origin
    let agent = this.agents.get(key)
    if (!agent) {
      // containers/image uses one TLS configuration for the registry and wherever it redirects.
      agent =
        url.protocol === 'https:'
          ? new https.Agent({
              keepAlive: true,
              maxSockets: SOCKETS_PER_ORIGIN,
              ca: this.endpoint.ca,
              cert: this.endpoint.cert,
              key: this.endpoint.key,
              rejectUnauthorized: !this.endpoint.insecure
            })
          : new http.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_ORIGIN })
      this.agents.set(key, agent)
    }
    return agent
  }

  private request(method: string, target: string, headers: http.OutgoingHttpHeaders, body?: Buffer, stream = false): Promise<Response> {
    const url = new URL(target)
    if (this.closed) return Promise.reject(new RegistryError(`${method} ${url.host}${url.pathname}: the reads are closed`, 'permanent'))
    this.o.onRequest?.(method, target)
    return new Promise<Response>((resolve, reject) => {
      // The agent makes the connection, TLS or not (agentFor): http.request only checks that its
      // protocol is the URL's, so https URLs need no https.request.
      const req = http.request(url, { method, agent: this.agentFor(url), headers: { 'user-agent': USER_AGENT, ...headers } }, res => {
        if (stream && res.statusCode === 200) {
          // The consumer reads at its own pace (skopeo uploads as it reads): no idle limit from here
          // on; a stalled upload is the copy's watchdog's to end.
          req.setTimeout(0)
          resolve({ status: 200, headers: res.headers, distinct: res.headersDistinct, body: Buffer.alloc(0), stream: res })
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > BODY_MAX) {
            req.destroy(new RegistryError(`${method} ${url.host}${url.pathname}: the answer is larger than ${BODY_MAX} bytes`, 'permanent'))
            return
          }
          chunks.push(chunk)
        })
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, distinct: res.headersDistinct, body: Buffer.concat(chunks) })
        )
        // An answer cut short (fewer bytes than its length, or a chunked one unfinished) ends here, as
        // ECONNRESET "aborted" (transient), never as an 'end' (Node 20, 22 and 24).
        res.on('error', reject)
      })
      req.setTimeout(this.o.idleMs, () =>
        req.destroy(
          new RegistryError(
            `${method} ${url.host}${url.pathname}: no progress for ${Math.round(this.o.idleMs / 1000)} s: the registry stopped answering (i/o timeout)`,
            'transient'
          )
        )
      )
      req.on('error', reject)
      req.end(body)
    })
  }

  /** Closes the kept-alive connections; reads still going fail instead of opening new ones. */
  close(): void {
    this.closed = true
    for (const agent of this.agents.values()) agent.destroy()
    this.agents.clear()
  }
}

function withoutAuthorization(headers: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'))
}

/** The registry's own error code (`MANIFEST_UNKNOWN`, `DENIED`…) or the challenge's `error=`, for the message. */
function statusError(what: string, r: Response): RegistryError {
  let detail = ''
  try {
    const doc = JSON.parse(r.body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> }
    detail = (doc.errors ?? []).map(e => [e.code, e.message].filter(Boolean).join(': ')).join('; ')
  } catch {
    // A HEAD has no body; a 401 says why in its challenge.
    const challenge = parseChallenges(r.distinct['www-authenticate'] ?? []).find(c => c.params.error)
    detail = challenge ? challenge.params.error : ''
  }
  const status = r.status
  const words: Record<number, string> = {
    401: 'unauthorized: authentication required',
    403: 'denied: requested access to the resource is denied',
    404: '404 (Not Found)',
    408: 'request timeout (registry 408)',
    429: 'toomanyrequests (status: 429)',
    500: 'internal server error (status: 500)',
    502: 'bad gateway (status: 502)',
    503: 'service unavailable (status: 503)',
    504: 'gateway timeout (status: 504)'
  }
  const kind = [408, 429, 500, 502, 503, 504].includes(status) ? 'transient' : status === 404 ? 'not-found' : 'permanent'
  const retryAfter = Number(r.headers['retry-after'])
  return new RegistryError(
    `${what}: ${words[status] ?? `status ${status}`}${detail ? ` (${detail})` : ''}`,
    kind,
    Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined
  )
}

/** Any failure as a RegistryError: connection errors by their code, TLS ones as permanent. */
function asRegistryError(e: unknown): RegistryError {
  if (e instanceof RegistryError) return e
  const err = e as NodeJS.ErrnoException
  const code = err?.code ?? ''
  const message = err instanceof Error ? err.message : String(e)
  const words = TRANSIENT_CODES[code] ?? (/socket hang up/i.test(message) ? 'connection reset' : undefined)
  if (words) return new RegistryError(`${words} (${message})`, 'transient')
  // OpenSSL's words for a TLS handshake answered in plain HTTP.
  if (/wrong version number|packet length too long/i.test(message))
    return new RegistryError(`http: server gave HTTP response to HTTPS client (${message})`, 'permanent')
  if (/certificate|self[- ]signed|SSL|TLS/i.test(`${code} ${message}`))
    return new RegistryError(`x509: certificate problem: ${message}`, 'permanent')
  return new RegistryError(message, 'permanent')
}
