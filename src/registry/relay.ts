import * as crypto from 'crypto'
import * as fs from 'fs'
import * as http from 'http'
import type { AddressInfo } from 'net'
import * as path from 'path'
import type { Readable } from 'stream'
import { setSecret } from '../log'
import { sha256 } from '../manifest'
import { repositoryOf, referenceKey } from '../reference'
import type { LoopbackSource } from '../skopeo'

/**
 * A read-only registry on 127.0.0.1 that `skopeo copy` reads its source images from, so that the
 * source side of a copy goes over the reader's kept-alive connections, each request retried on its
 * own (client.ts), instead of a new connection per request with the whole copy redone when one is
 * cut. Writes stay with skopeo: it uploads to the destination as before.
 *
 * It serves only what a copy of an image by digest reads: the manifest (already read, from the
 * reader's memo) and blobs (streamed through unread; skopeo checks every digest). Only repositories
 * the run asked for are served, and only to a client with the run's relay password, which lives in a
 * 0600 auth file passed as `--src-authfile` (never in argv or a child's environment): another user
 * of the machine cannot read through it what the run's credentials can.
 */

/** What the relay needs of the reader (`Reads`). */
export interface Source {
  manifest(ref: string): Promise<Buffer | null>
  openBlob(ref: string, digest: string): Promise<{ stream: Readable; length?: number } | null>
  inProcess(ref: string): boolean
}

const USER = 'multiarch-publish'
const ROUTE = /^\/v2\/(s\d+)\/(manifests|blobs)\/(sha256:[0-9a-f]{64})$/

export class Relay {
  private readonly names = new Map<string, string>()
  private readonly repositories = new Map<string, string>()

  private constructor(
    private readonly server: http.Server,
    private readonly host: string,
    private readonly authorization: Buffer,
    private readonly authFile: string,
    private readonly reads: Source
  ) {}

  /** Listens on a free loopback port; the auth file goes into `dir` (a private directory the run removes). */
  static async start(reads: Source, dir: string): Promise<Relay> {
    const password = crypto.randomBytes(24).toString('hex')
    setSecret(password)
    const server = http.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
    const auth = Buffer.from(`${USER}:${password}`).toString('base64')
    const authFile = path.join(dir, 'relay-auth.json')
    fs.writeFileSync(authFile, JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 })
    const relay = new Relay(server, host, Buffer.from(`Basic ${auth}`), authFile, reads)
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      relay.handle(req, res).catch((e: unknown) => answer(res, 503, 'UNAVAILABLE', e instanceof Error ? e.message : String(e)))
    })
    return relay
  }

  /** Where skopeo reads `ref` (an image by digest) from: the relay, or undefined when skopeo is to read it itself. */
  source(ref: string): LoopbackSource | undefined {
    const at = ref.indexOf('@')
    if (at < 0 || !this.reads.inProcess(ref)) return undefined
    const repository = referenceKey(repositoryOf(ref))
    let name = this.names.get(repository)
    if (!name) {
      name = `s${this.names.size}`
      this.names.set(repository, name)
      this.repositories.set(name, repositoryOf(ref))
    }
    return { ref: `${this.host}/${name}${ref.slice(at)}`, authFile: this.authFile }
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise(resolve => this.server.close(() => resolve()))
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.authorized(req.headers.authorization)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="multiarch-publish relay"', 'content-type': 'application/json' })
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }))
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'UNSUPPORTED', 'this registry is read-only')
    const pathname = new URL(req.url ?? '/', 'http://relay').pathname
    if (pathname === '/v2/' || pathname === '/v2') return answer(res, 200)
    const m = ROUTE.exec(pathname)
    const repository = m ? this.repositories.get(m[1]) : undefined
    if (!m || !repository) return answer(res, 404, 'NAME_UNKNOWN', 'not a repository of this run')
    const [, , kind, digest] = m
    const ref = `${repository}@${digest}`
    if (kind === 'manifests') {
      const raw = await this.reads.manifest(ref)
      if (!raw || sha256(raw) !== digest) return answer(res, 404, 'MANIFEST_UNKNOWN', `${digest} is not a manifest of ${repository}`)
      const mediaType = (JSON.parse(raw.toString('utf8')) as { mediaType?: unknown }).mediaType
      res.writeHead(200, {
        'content-type': typeof mediaType === 'string' && mediaType ? mediaType : 'application/vnd.oci.image.manifest.v1+json',
        'content-length': raw.length,
        'docker-content-digest': digest
      })
      // Node sends no body in answer to a HEAD, whatever end() is given.
      res.end(raw)
      return
    }
    const blob = await this.reads.openBlob(ref, digest)
    if (!blob) return answer(res, 404, 'BLOB_UNKNOWN', `${digest} is not a blob of ${repository}`)
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'docker-content-digest': digest,
      ...(blob.length === undefined ? {} : { 'content-length': blob.length })
    })
    if (req.method === 'HEAD') {
      blob.stream.destroy()
      res.end()
      return
    }
    // A cut upstream ends the answer short: skopeo sees it and tries again, through the relay.
    blob.stream.on('error', () => res.destroy())
    blob.stream.on('aborted', () => res.destroy())
    res.on('close', () => blob.stream.destroy())
    blob.stream.pipe(res)
  }

  private authorized(header: string | undefined): boolean {
    const given = Buffer.from(header ?? '')
    return given.length === this.authorization.length && crypto.timingSafeEqual(given, this.authorization)
  }
}

function answer(res: http.ServerResponse, status: number, code?: string, message?: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' })
  res.end(code ? JSON.stringify({ errors: [{ code, message }] }) : '{}')
}
