/**
 * The registry client (src/registry/client.ts) on its own, against real registries: a Basic
 * (htpasswd) one and a Bearer (token server) one behind the fault proxy, and a TLS one. What the
 * mutation run of client.ts found no other test pinning: how each answer is classed (tried again,
 * absent, refused) and worded, the pause before another try, a failed ping not being remembered,
 * the token's lifetime, renewal and request, TLS refusals, the size limit and the blob stream; and the
 * checks that keep it from believing a HEAD's digest, looping on redirects, asking a realm that is not
 * http(s) and sending Authorization to a manifest's other origin; token answers of other shapes (not
 * JSON, no token, OAuth2's access_token) and challenges without service, error entries without a
 * message, an answer cut mid-body, a chunked blob, and an https ping answered neither 200 nor 401.
 * Pauses go through the client's `sleep` option (recorded, not slept) and requests through `onRequest`.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { MT, pushBlob, pushImage, sha256, skopeo } from '../harness/images'
import { startProxy } from '../harness/proxy'
import { startRegistry } from '../harness/registry'
import type { TokenServer } from '../harness/registry'
import { RegistryClient } from '../../src/registry/client'
import type { Credential } from '../../src/registry/config'
import type { Proxy, Registry } from './fixtures'

const ci = { user: 'ci', password: 'Cl-5f2e-client', refreshToken: 'rt-client-9d3a' }
const ciCredential: Credential = { username: ci.user, password: ci.password }
const repo = 'c/img'

let basic: Registry
let bearer: Registry
let tls: Registry
let tlsAuth: Registry
let pb: Proxy
let pt: Proxy
let oci: Awaited<ReturnType<typeof pushImage>>
let docker: Awaited<ReturnType<typeof pushImage>>
let configDigest: string
const tok = (): TokenServer => bearer.token as TokenServer

beforeAll(async () => {
  ;[basic, bearer, tls, tlsAuth] = await Promise.all([
    startRegistry({ htpasswd: ci }),
    startRegistry({ token: { users: [ci] } }),
    startRegistry({ tls: {} }),
    startRegistry({ tls: {}, htpasswd: ci })
  ])
  ;[pb, pt] = await Promise.all([startProxy({ target: basic.host }), startProxy({ target: bearer.host })])
  oci = await pushImage({ host: basic.host, repo, tag: 't', architecture: 'amd64', auth: ci, salt: 'client' })
  docker = await pushImage({ host: basic.host, repo, tag: 'docker', architecture: 'arm64', auth: ci, salt: 'client', mediaType: 'docker' })
  await pushImage({ host: tls.host, repo, tag: 't', architecture: 'amd64', certDir: tls.certDir, salt: 'client' })
  await pushImage({ host: tlsAuth.host, repo, tag: 't', architecture: 'amd64', certDir: tlsAuth.certDir, auth: ci, salt: 'client' })
  const creds = `${ci.user}:${ci.password}`
  await skopeo([
    'copy',
    ...['--src-tls-verify=false', '--src-creds', creds, '--dest-tls-verify=false', '--dest-creds', creds],
    `docker://${basic.host}/${repo}:t`,
    `docker://${bearer.host}/${repo}:t`
  ])
  const manifest = JSON.parse((await skopeo(['inspect', '--raw', `docker://${basic.host}/${repo}:t`], { auth: ci })).toString()) as {
    config: { digest: string }
  }
  configDigest = manifest.config.digest
}, 60_000)

afterAll(async () => {
  await Promise.all([pb?.stop(), pt?.stop()])
  await Promise.all([basic?.stop(), bearer?.stop(), tls?.stop(), tlsAuth?.stop()])
})

const made: RegistryClient[] = []
beforeEach(() => {
  for (const p of [pb, pt]) {
    p.clearFaults()
    p.reset()
  }
})
afterEach(() => {
  for (const c of made.splice(0)) c.close()
  jest.restoreAllMocks()
  tok().expiresIn = 300
  tok().answerAs(undefined)
})

interface Made {
  client: RegistryClient
  /** `METHOD scheme path` of each request sent. */
  sent: string[]
  /** Each pause asked for before another try (recorded; `then` runs instead of waiting). */
  sleeps: number[]
}

/** A client of `host` with the options the action gives, short back-offs, and no retry unless asked. */
function client(
  host: string,
  o: {
    credential?: Credential | null
    insecure?: boolean
    ca?: string[]
    retries?: number
    idleMs?: number
    then?: () => Promise<void>
  } = {}
): Made {
  const sent: string[] = []
  const sleeps: number[] = []
  const c = new RegistryClient(
    { host, insecure: o.insecure ?? true, ca: o.ca },
    o.credential === null ? undefined : (o.credential ?? ciCredential),
    {
      retries: o.retries ?? 0,
      baseDelayMs: 10,
      maxDelayMs: 50,
      idleMs: o.idleMs ?? 10_000,
      onRequest: (method, url) => {
        const u = new URL(url)
        sent.push(`${method} ${u.protocol.slice(0, -1)} ${u.pathname}`)
      },
      sleep: async ms => {
        sleeps.push(ms)
        await o.then?.()
      }
    }
  )
  made.push(c)
  return { client: c, sent, sleeps }
}

/** What a read failed with: its class and message (and Retry-After), or 'read' when it did not fail. */
const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'read',
    (e: { kind?: unknown; message?: unknown; retryAfterMs?: unknown }) => ({
      kind: e.kind,
      message: e.message,
      retryAfterMs: e.retryAfterMs
    })
  )

describe('what each answer is', () => {
  test('each error status: its words and the registry’s code; only 408, 429 and 5xx are tried again', async () => {
    const m = client(pb.host, { retries: 1 })
    await m.client.headManifest(repo, 't') // the ping, once
    const seen: Array<{ status: number; requests: number; error: unknown }> = []
    for (const status of [401, 403, 408, 418, 429, 500, 502, 503, 504]) {
      pb.clearFaults()
      pb.failNext(2, status, { method: 'GET', path: '/manifests/t', retryAfter: 0 })
      const before = m.sent.length
      const error = await failure(m.client.getManifest(repo, 't'))
      seen.push({ status, requests: m.sent.length - before, error })
    }
    const at = `GET ${pb.host}/${repo}/manifests/t`
    expect(seen).toEqual([
      {
        status: 401,
        requests: 1,
        error: {
          kind: 'permanent',
          message: `${at}: unauthorized: authentication required (UNAVAILABLE: injected 401)`,
          retryAfterMs: undefined
        }
      },
      {
        status: 403,
        requests: 1,
        error: {
          kind: 'permanent',
          message: `${at}: denied: requested access to the resource is denied (UNAVAILABLE: injected 403)`,
          retryAfterMs: undefined
        }
      },
      {
        status: 408,
        requests: 2,
        error: { kind: 'transient', message: `${at}: request timeout (registry 408) (UNAVAILABLE: injected 408)`, retryAfterMs: undefined }
      },
      {
        status: 418,
        requests: 1,
        error: { kind: 'permanent', message: `${at}: status 418 (UNAVAILABLE: injected 418)`, retryAfterMs: undefined }
      },
      {
        status: 429,
        requests: 2,
        error: { kind: 'transient', message: `${at}: toomanyrequests (status: 429) (TOOMANYREQUESTS: injected 429)`, retryAfterMs: 0 }
      },
      {
        status: 500,
        requests: 2,
        error: {
          kind: 'transient',
          message: `${at}: internal server error (status: 500) (UNAVAILABLE: injected 500)`,
          retryAfterMs: undefined
        }
      },
      {
        status: 502,
        requests: 2,
        error: { kind: 'transient', message: `${at}: bad gateway (status: 502) (UNAVAILABLE: injected 502)`, retryAfterMs: undefined }
      },
      {
        status: 503,
        requests: 2,
        error: {
          kind: 'transient',
          message: `${at}: service unavailable (status: 503) (UNAVAILABLE: injected 503)`,
          retryAfterMs: undefined
        }
      },
      {
        status: 504,
        requests: 2,
        error: { kind: 'transient', message: `${at}: gateway timeout (status: 504) (UNAVAILABLE: injected 504)`, retryAfterMs: undefined }
      }
    ])
  })

  test('absent: a manifest is null, a blob not-found; a 404 to the ping is a not-found error', async () => {
    const m = client(pb.host)
    const missing = `sha256:${'0'.repeat(64)}`
    expect(await m.client.getManifest(repo, 'absent')).toBeNull()
    expect(await m.client.headManifest(repo, 'absent')).toBeNull()
    expect(await m.client.openBlob(repo, missing)).toBeNull()
    expect(await failure(m.client.getBlob(repo, missing))).toEqual({
      kind: 'not-found',
      message: `${pb.host}/${repo}@${missing}: blob unknown (404 (Not Found))`,
      retryAfterMs: undefined
    })
    pb.failNext(1, 404, { path: /^\/v2\/$/ })
    expect(await failure(client(pb.host, { retries: 3 }).client.getManifest(repo, 't'))).toEqual({
      kind: 'not-found',
      message: `GET ${pb.host}/v2/: 404 (Not Found) (UNAVAILABLE: injected 404)`,
      retryAfterMs: undefined
    })
  })

  test('the pause before another try: Retry-After (seconds), capped at maxDelayMs; without one, or a negative one, the back-off', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5) // the back-off without its jitter: 10, 20, 40 ms
    const m = client(pb.host, { retries: 3 })
    await m.client.headManifest(repo, 't')
    const read = async (fault: () => void): Promise<void> => {
      fault()
      expect(sha256((await m.client.getManifest(repo, 't'))?.raw ?? '')).toBe(oci.digest)
    }
    const manifest = { method: 'GET', path: '/manifests/t' }
    await read(() => pb.failNext(1, 429, { ...manifest, retryAfter: 0.03 }))
    await read(() => pb.failNext(1, 429, { ...manifest, retryAfter: 0 }))
    await read(() => pb.failNext(1, 429, { ...manifest, retryAfter: 7 }))
    await read(() => pb.failNext(1, 429, { ...manifest, retryAfter: -1 }))
    await read(() => pb.failNext(3, 503, manifest))
    expect(m.sleeps).toEqual([30, 0, 50, 10, 10, 20, 40])
  })

  test('a refused connection and a cut one are tried again; with no try left, the error says which', async () => {
    const p = await startProxy({ target: basic.host })
    try {
      await p.down()
      expect(await failure(client(p.host).client.getManifest(repo, 't'))).toEqual({
        kind: 'transient',
        message: expect.stringMatching(/^connection refused \((Error: )?connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/),
        retryAfterMs: undefined
      })
      const back = client(p.host, { retries: 2, then: () => p.up() })
      expect((await back.client.getManifest(repo, 't'))?.digest).toBe(oci.digest)
      expect(back.sleeps).toHaveLength(1)
      p.cutNext(1, { path: '/manifests/t' })
      expect(await failure(back.client.headManifest(repo, 't'))).toBe('read')
      p.cutNext(1, { path: '/manifests/t' })
      expect(await failure(client(p.host).client.headManifest(repo, 't'))).toEqual({
        kind: 'transient',
        message: expect.stringMatching(/^connection reset \(/),
        retryAfterMs: undefined
      })
    } finally {
      await p.stop()
    }
  })

  test('an answer that stops coming is abandoned after idleMs and tried again; with no try left, an i/o timeout', async () => {
    const m = client(pb.host, { retries: 1, idleMs: 1000 })
    pb.hangNext(1, { method: 'HEAD', path: '/manifests/t' })
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    expect(pb.log.map(e => `${e.method} ${e.status}`)).toEqual(['GET 401', 'HEAD hang', 'HEAD 200'])
    pb.hangNext(1, { method: 'HEAD', path: '/manifests/t' })
    expect(await failure(client(pb.host, { idleMs: 1000 }).client.headManifest(repo, 't'))).toEqual({
      kind: 'transient',
      message: `HEAD ${pb.host}/v2/${repo}/manifests/t: no progress for 1 s: the registry stopped answering (i/o timeout)`,
      retryAfterMs: undefined
    })
  })

  // 32 MiB pushed, then read back through a proxy: past jest's default 5 s on a loaded 2-core machine.
  test('an answer larger than 16 MiB is refused, not retried; 16 MiB exactly is read', async () => {
    const limit = 16 << 20
    const [fits, over] = [Buffer.alloc(limit, 1), Buffer.alloc(limit + 1, 1)]
    await Promise.all([pushBlob({ host: basic.host, repo, auth: ci }, fits), pushBlob({ host: basic.host, repo, auth: ci }, over)])
    const m = client(pb.host, { retries: 3 })
    expect(sha256(await m.client.getBlob(repo, sha256(fits)))).toBe(sha256(fits))
    expect(await failure(m.client.getBlob(repo, sha256(over)))).toEqual({
      kind: 'permanent',
      message: `GET ${pb.host}/v2/${repo}/blobs/${sha256(over)}: the answer is larger than ${limit} bytes`,
      retryAfterMs: undefined
    })
    expect(m.sleeps).toEqual([])
  }, 60_000)

  test('the registry’s error entries in the words: code and message, a code alone, several joined with "; "; none, no parentheses', async () => {
    const m = client(pb.host)
    const seen: unknown[] = []
    for (const errors of [
      [{ code: 'DENIED' }],
      [{ code: 'DENIED', message: 'not yours' }],
      [{ code: 'DENIED', message: 'not yours' }, { code: 'UNAUTHORIZED' }, { message: 'no code' }],
      []
    ]) {
      pb.answerNext(1, 403, JSON.stringify({ errors }), { method: 'GET', path: '/manifests/t' })
      seen.push(await failure(m.client.getManifest(repo, 't')))
    }
    const denied = (detail: string): unknown => ({
      kind: 'permanent',
      message: `GET ${pb.host}/${repo}/manifests/t: denied: requested access to the resource is denied${detail}`,
      retryAfterMs: undefined
    })
    expect(seen).toEqual([
      denied(' (DENIED)'),
      denied(' (DENIED: not yours)'),
      denied(' (DENIED: not yours; UNAUTHORIZED; no code)'),
      denied('')
    ])
  })

  test('an answer cut mid-body (its full Content-Length, half its bytes) is a connection reset: tried again; with no try left, the error', async () => {
    const manifest = { method: 'GET', path: '/manifests/t' }
    const m = client(pb.host, { retries: 1 })
    pb.cutBodyNext(1, manifest)
    expect((await m.client.getManifest(repo, 't'))?.digest).toBe(oci.digest)
    expect({ sleeps: m.sleeps.length, log: pb.log.map(e => `${e.method} ${e.status}`) }).toEqual({
      sleeps: 1,
      log: ['GET 401', 'GET cut', 'GET 200']
    })
    pb.cutBodyNext(1, manifest)
    // Node ends such an answer with an error ('aborted', ECONNRESET), never with an incomplete 'end'.
    expect(await failure(client(pb.host).client.getManifest(repo, 't'))).toEqual({
      kind: 'transient',
      message: expect.stringMatching(/^connection reset \((Error: )?aborted\)$/),
      retryAfterMs: undefined
    })
  })
})

describe('reads', () => {
  test('getManifest: the bytes, their digest and the Content-Type; headManifest: the digest; the Accept list names both formats', async () => {
    const m = client(pb.host)
    const byTag = await m.client.getManifest(repo, 'docker')
    expect({ digest: byTag?.digest, mediaType: byTag?.mediaType, bytes: byTag && sha256(byTag.raw) }).toEqual({
      digest: docker.digest,
      mediaType: MT.dockerManifest,
      bytes: docker.digest
    })
    expect((await m.client.getManifest(repo, oci.digest))?.mediaType).toBe(MT.ociManifest)
    expect(await m.client.headManifest(repo, 'docker')).toBe(docker.digest)
  })

  test('openBlob: the stream as it comes, with its length and no idle limit (the consumer sets the pace); tried again until it starts', async () => {
    const m = client(pb.host, { retries: 1, idleMs: 1000 })
    pb.failNext(1, 503, { path: '/blobs/' })
    const blob = await m.client.openBlob(repo, configDigest)
    const idleLimit = blob?.stream.socket?.timeout // before the socket goes back to the pool
    const chunks: Buffer[] = []
    for await (const chunk of blob?.stream ?? []) chunks.push(chunk as Buffer)
    expect({ length: blob?.length, digest: sha256(Buffer.concat(chunks)), idleLimit }).toEqual({
      length: Buffer.concat(chunks).length,
      digest: configDigest,
      idleLimit: 0
    })
    expect(m.sent.filter(s => s.includes('/blobs/'))).toHaveLength(2)
    // An empty blob has a length too: 0, not unknown.
    const empty = await pushBlob({ host: basic.host, repo, auth: ci }, Buffer.alloc(0))
    const none = await m.client.openBlob(repo, empty)
    none?.stream.resume()
    expect(none?.length).toBe(0)
  })

  test('openBlob: a blob sent chunked, without Content-Length, has no length (not NaN); every byte still comes', async () => {
    pb.chunkedBlobs()
    const blob = await client(pb.host).client.openBlob(repo, configDigest)
    const chunks: Buffer[] = []
    for await (const chunk of blob?.stream ?? []) chunks.push(chunk as Buffer)
    expect({ length: blob?.length, encoding: blob?.stream.headers['transfer-encoding'], digest: sha256(Buffer.concat(chunks)) }).toEqual({
      length: undefined,
      encoding: 'chunked',
      digest: configDigest
    })
  })
})

describe('the ping and TLS', () => {
  test('a failed ping is not remembered: the next try pings again (https first, then http for an insecure registry)', async () => {
    const m = client(pb.host, { retries: 1 })
    pb.failNext(1, 503, { path: /^\/v2\/$/ })
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    expect(m.sent).toEqual(['GET https /v2/', 'GET http /v2/', 'GET https /v2/', 'GET http /v2/', `HEAD http /v2/${repo}/manifests/t`])
  })

  test('verified TLS: plain http is refused, never fallen back to; an unknown CA is refused; with the CA, or insecure, https', async () => {
    const plain = client(pb.host, { insecure: false, retries: 3 })
    expect(await failure(plain.client.headManifest(repo, 't'))).toEqual({
      kind: 'permanent',
      message: expect.stringMatching(/^http: server gave HTTP response to HTTPS client \(.*(wrong version number|packet length too long)/),
      retryAfterMs: undefined
    })
    expect(plain.sent).toEqual(['GET https /v2/'])
    const unknown = client(tls.host, { insecure: false, retries: 3 })
    expect(await failure(unknown.client.headManifest(repo, 't'))).toEqual({
      kind: 'permanent',
      message: expect.stringMatching(/^x509: certificate problem: /),
      retryAfterMs: undefined
    })
    expect(unknown.sent).toEqual(['GET https /v2/'])
    const ca = [fs.readFileSync(tls.caFile as string, 'utf8')]
    // Both pings, 200 (no auth) and 401 (Basic), keep https.
    for (const m of [
      client(tls.host, { insecure: false, ca, credential: null }),
      client(tls.host, { insecure: true, credential: null }),
      client(tlsAuth.host, { insecure: true })
    ]) {
      expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
      expect(m.sent).toEqual(['GET https /v2/', `HEAD https /v2/${repo}/manifests/t`])
    }
    // Kept-alive over TLS too: the second blob comes on the first one's connection.
    const kept = client(tls.host, { insecure: true, credential: null })
    const sockets: unknown[] = []
    for (let i = 0; i < 2; i++) {
      const blob = await kept.client.openBlob(repo, configDigest)
      sockets.push(blob?.stream.socket)
      for await (const chunk of blob?.stream ?? []) expect(chunk).toBeInstanceOf(Buffer)
    }
    expect(sockets[1]).toBe(sockets[0])
  })

  test('an https ping answered neither 200 nor 401: insecure, http is tried next (a TLS-only port hangs up) and a retry pings https again; verified, that answer is the error', async () => {
    const pki = path.dirname(tls.caFile as string)
    const read = (name: string): string => fs.readFileSync(path.join(pki, name), 'utf8')
    const p = await startProxy({ target: basic.host, tls: { cert: read('server.crt'), key: read('server.key') } })
    try {
      const ping = { method: 'GET', path: /^\/v2\/$/ }
      p.failNext(1, 404, ping)
      const once = client(p.host)
      expect(await failure(once.client.headManifest(repo, 't'))).toEqual({
        kind: 'transient',
        message: expect.stringMatching(/^connection reset \((Error: )?socket hang up\)$/),
        retryAfterMs: undefined
      })
      expect(once.sent).toEqual(['GET https /v2/', 'GET http /v2/'])
      p.failNext(1, 404, ping)
      const again = client(p.host, { retries: 1 })
      expect(await again.client.headManifest(repo, 't')).toBe(oci.digest)
      expect(again.sent).toEqual(['GET https /v2/', 'GET http /v2/', 'GET https /v2/', `HEAD https /v2/${repo}/manifests/t`])
      p.failNext(1, 404, ping)
      const verified = client(p.host, { insecure: false, ca: [read('ca.crt')], retries: 3 })
      expect(await failure(verified.client.headManifest(repo, 't'))).toEqual({
        kind: 'not-found',
        message: `GET ${p.host}/v2/: 404 (Not Found) (UNAVAILABLE: injected 404)`,
        retryAfterMs: undefined
      })
      expect(verified.sent).toEqual(['GET https /v2/'])
    } finally {
      await p.stop()
    }
  })

  test('an error that is neither a connection failure nor TLS keeps its own words, and is not tried again', async () => {
    const m = client('bad host', { retries: 3 })
    // (Under jest, errors of node's own modules come from another realm: `instanceof Error` fails and String(e) names the class.)
    expect(await failure(m.client.headManifest(repo, 't'))).toEqual({
      kind: 'permanent',
      message: expect.stringMatching(/^(TypeError: )?Invalid URL$/),
      retryAfterMs: undefined
    })
    expect(m.sleeps).toEqual([])
  })
})

describe('Bearer: the token', () => {
  const tokenRequests = (from: number): unknown[] =>
    tok()
      .log.slice(from)
      .map(e => ({ method: e.method, grant: e.grant, account: e.account, service: e.service, scopes: e.scopes, status: e.status }))
  const scopes = [`repository:${repo}:pull`]

  test('a 401 to a read with a token: one new token and the read again; a second 401 is the answer. With Basic, none', async () => {
    const m = client(pt.host)
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    const n = tok().log.length
    pt.failNext(1, 401, { method: 'HEAD', path: '/manifests/t' })
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    expect(tok().log.length - n).toBe(1)
    pt.failNext(2, 401, { method: 'HEAD', path: '/manifests/t' })
    // No body (HEAD) and no challenge in the proxy's 401: no detail.
    expect(await failure(m.client.headManifest(repo, 't'))).toMatchObject({
      kind: 'permanent',
      message: `HEAD ${pt.host}/${repo}/manifests/t: unauthorized: authentication required`
    })
    expect(tok().log.length - n).toBe(2)
    const b = client(pb.host)
    pb.failNext(1, 401, { method: 'HEAD', path: '/manifests/t' })
    expect(await failure(b.client.headManifest(repo, 't'))).toMatchObject({
      kind: 'permanent',
      message: expect.stringMatching(/unauthorized/)
    })
    expect(b.sent.filter(s => s.startsWith('HEAD'))).toHaveLength(1)
  })

  test('its lifetime: at least 60 s whatever expires_in says, less 5 s; once it is over, a new token', async () => {
    tok().expiresIn = 1
    const short = client(pt.host)
    const n = tok().log.length
    for (let i = 0; i < 3; i++) expect(await short.client.headManifest(repo, 't')).toBe(oci.digest)
    expect(tok().log.length - n).toBe(1)
    tok().expiresIn = 61 // kept 56 s
    const m = client(pt.host)
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    const now = Date.now.bind(Date)
    const later = (s: number): void => void jest.spyOn(Date, 'now').mockImplementation(() => now() + s * 1000)
    later(50)
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    expect(tok().log.length - n).toBe(2)
    // The registry accepts a token up to 60 s before its nbf, so the new one (signed 57 s ahead) works.
    later(57)
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    expect(tok().log.length - n).toBe(3)
  })

  test('the request: GET with account, service and our scope, Basic only with a user and a password; POST with an identity token', async () => {
    const service = tok().service
    let n = tok().log.length
    const first = client(pt.host)
    expect(await first.client.headManifest(repo, 't')).toBe(oci.digest)
    expect(first.sent).toEqual(['GET https /v2/', 'GET http /v2/', 'GET http /token', `HEAD http /v2/${repo}/manifests/t`])
    expect(tokenRequests(n)).toEqual([{ method: 'GET', grant: 'basic', account: 'ci', service, scopes, status: 200 }])
    // No password: asked anonymously (a token with no access, so the read is refused, after one renewal).
    n = tok().log.length
    // A HEAD has no body: the detail is the challenge's error.
    const refused = {
      kind: 'permanent',
      message: `HEAD ${pt.host}/${repo}/manifests/t: unauthorized: authentication required (insufficient_scope)`
    }
    expect(await failure(client(pt.host, { credential: { username: 'ci', password: '' } }).client.headManifest(repo, 't'))).toMatchObject(
      refused
    )
    expect(await failure(client(pt.host, { credential: null }).client.headManifest(repo, 't'))).toMatchObject(refused)
    const anonymous = (account: string | undefined): unknown => ({
      method: 'GET',
      grant: 'anonymous',
      account,
      service,
      scopes,
      status: 200
    })
    expect(tokenRequests(n)).toEqual([anonymous('ci'), anonymous('ci'), anonymous(undefined), anonymous(undefined)])
    n = tok().log.length
    const withToken = (identityToken: string): Made => client(pt.host, { credential: { username: 'ci', password: '', identityToken } })
    expect(await withToken(ci.refreshToken).client.headManifest(repo, 't')).toBe(oci.digest)
    expect(await failure(withToken('not-the-refresh-token').client.headManifest(repo, 't'))).toEqual({
      kind: 'permanent',
      message: `token for repository:${repo}:pull from ${new URL(tok().url).host}: status 400`,
      retryAfterMs: undefined
    })
    expect(tokenRequests(n)).toEqual([
      { method: 'POST', grant: 'refresh', account: undefined, service, scopes, status: 200 },
      { method: 'POST', grant: 'refresh', account: undefined, service, scopes, status: 400 }
    ])
    // The token server refuses a POST that is not a form or has no client_id (400), as distribution's token spec says.
    expect(
      tok()
        .log.slice(n)
        .map(e => e.clientId)
    ).toEqual(['containers/image', 'containers/image'])
  })

  test('the answer: not JSON, or no token in it, is refused; OAuth2’s access_token alone is the token; a token string wins over it', async () => {
    type Shape = Parameters<TokenServer['answerAs']>[0]
    const read = async (shape: Shape): Promise<unknown> => {
      tok().answerAs(shape)
      const n = tok().log.length
      const error = await failure(client(pt.host, { retries: 3 }).client.headManifest(repo, 't'))
      return { error, tokenRequests: tok().log.length - n }
    }
    const refused = (why: string): unknown => ({
      error: { kind: 'permanent', message: `${pt.host}: the token server ${why}`, retryAfterMs: undefined },
      tokenRequests: 1
    })
    expect(await read(() => 'not json')).toEqual(refused('answered something other than JSON'))
    expect(await read(() => ({}))).toEqual(refused('gave no token'))
    expect(await read(() => ({ token: '' }))).toEqual(refused('gave no token'))
    expect(await read(() => ({ access_token: 42 }))).toEqual(refused('gave no token'))
    // Read with one token each: a wrong choice sends 'not-a-token' or a number, refused by the registry (then renewed, refused again).
    const once = { error: 'read', tokenRequests: 1 }
    expect(await read(({ token }) => ({ access_token: token }))).toEqual(once)
    expect(await read(({ token }) => ({ token: '', access_token: token }))).toEqual(once)
    expect(await read(({ token }) => ({ token: 7, access_token: token }))).toEqual(once)
    expect(await read(({ token }) => ({ token, access_token: 'not-a-token' }))).toEqual(once)
  })

  test('expires_in absent, not a number or below 60: kept 60 s (less 5); above 60: kept that long', async () => {
    const now = Date.now.bind(Date)
    const at = (s: number): void => void jest.spyOn(Date, 'now').mockImplementation(() => now() + s * 1000)
    /** Token requests after reads at 0, +50 s and +57 s. */
    const renewals = async (expiresIn: unknown): Promise<number[]> => {
      at(0)
      tok().answerAs(({ token }) => (expiresIn === undefined ? { token } : { token, expires_in: expiresIn }))
      const m = client(pt.host)
      const n = tok().log.length
      const counts: number[] = []
      for (const s of [0, 50, 57]) {
        at(s)
        expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
        counts.push(tok().log.length - n)
      }
      return counts
    }
    expect({
      absent: await renewals(undefined),
      text: await renewals('600'),
      below: await renewals(30),
      above: await renewals(600)
    }).toEqual({ absent: [1, 1, 2], text: [1, 1, 2], below: [1, 1, 2], above: [1, 1, 1] })
  })

  test('a challenge without service: no service parameter in the token request, GET or POST', async () => {
    pt.bearerService(null)
    const n = tok().log.length
    expect(await client(pt.host).client.headManifest(repo, 't')).toBe(oci.digest)
    const identity = client(pt.host, { credential: { username: 'ci', password: '', identityToken: ci.refreshToken } })
    expect(await identity.client.headManifest(repo, 't')).toBe(oci.digest)
    expect(
      tok()
        .log.slice(n)
        .map(e => ({ method: e.method, service: e.service, query: new URL(e.path, 'http://token').search }))
    ).toEqual([
      { method: 'GET', service: undefined, query: `?account=ci&scope=${encodeURIComponent(`repository:${repo}:pull`)}` },
      { method: 'POST', service: undefined, query: '' }
    ])
  })

  test('a wrong password: the token server’s 401, not tried again', async () => {
    const m = client(pt.host, { credential: { username: 'ci', password: 'wrong' }, retries: 3 })
    expect(await failure(m.client.getManifest(repo, 't'))).toEqual({
      kind: 'permanent',
      message: `token for repository:${repo}:pull from ${new URL(tok().url).host}: unauthorized: authentication required`,
      retryAfterMs: undefined
    })
    expect(m.sleeps).toEqual([])
  })
})

describe('what the client must not believe or send', () => {
  test('headManifest by digest: a Docker-Content-Digest naming another digest is not believed, nor a malformed one: the bytes are read and hashed', async () => {
    const m = client(pb.host)
    await m.client.headManifest(repo, 't') // the ping
    const from = m.sent.length
    // The digest asked for: believed, no GET.
    expect(await m.client.headManifest(repo, oci.digest)).toBe(oci.digest)
    pb.headDigest(docker.digest)
    expect(await m.client.headManifest(repo, oci.digest)).toBe(oci.digest)
    // By tag there is nothing to compare with: a well-formed header is believed.
    expect(await m.client.headManifest(repo, 't')).toBe(docker.digest)
    pb.headDigest(`x${oci.digest}`)
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    pb.headDigest(`${oci.digest}0`)
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    const [byDigest, byTag] = [`/v2/${repo}/manifests/${oci.digest}`, `/v2/${repo}/manifests/t`]
    expect(m.sent.slice(from)).toEqual([
      `HEAD http ${byDigest}`,
      `HEAD http ${byDigest}`,
      `GET http ${byDigest}`,
      `HEAD http ${byTag}`,
      `HEAD http ${byTag}`,
      `GET http ${byTag}`,
      `HEAD http ${byTag}`,
      `GET http ${byTag}`
    ])
  })

  test('redirects: 5 are followed; a 6th is a permanent error, not a loop', async () => {
    const m = client(pb.host, { retries: 3 })
    await m.client.headManifest(repo, 't') // the ping
    pb.redirectNext(5, { path: '/manifests/t' })
    let from = m.sent.length
    expect(await m.client.headManifest(repo, 't')).toBe(oci.digest)
    expect(m.sent.length - from).toBe(6)
    pb.redirectNext(Infinity, { path: '/manifests/t' })
    from = m.sent.length
    expect(await failure(m.client.headManifest(repo, 't'))).toEqual({
      kind: 'permanent',
      message: `HEAD http://${pb.host}/v2/${repo}/manifests/t: more than 5 redirects`,
      retryAfterMs: undefined
    })
    expect(m.sent.length - from).toBe(6)
  })

  test('a Bearer challenge without a realm, or with one that is not http(s), is refused before any token request', async () => {
    const tokenHost = new URL(tok().realm).host
    const refused = async (realm: string | null): Promise<unknown> => {
      pt.bearerRealm(realm)
      const m = client(pt.host, { retries: 3 })
      return { error: await failure(m.client.headManifest(repo, 't')), sent: m.sent }
    }
    const answer = {
      error: { kind: 'permanent', message: `${pt.host}: the registry's bearer challenge has no usable realm`, retryAfterMs: undefined },
      sent: ['GET https /v2/', 'GET http /v2/']
    }
    expect(await refused(null)).toEqual(answer)
    expect(await refused(`ftp://${tokenHost}/token`)).toEqual(answer)
    // http:// further on is not the scheme.
    expect(await refused(`ftp://${tokenHost}/token?then=http://${tokenHost}/`)).toEqual(answer)
    // The scheme is case-insensitive.
    pt.bearerRealm(tok().realm.replace(/^http/, 'HTTP'))
    expect(await client(pt.host).client.headManifest(repo, 't')).toBe(oci.digest)
  })

  test('a manifest GET redirected to another origin is followed without Authorization, with its other headers', async () => {
    await pb.redirectManifests()
    const m = client(pb.host)
    expect((await m.client.getManifest(repo, 't'))?.digest).toBe(oci.digest)
    expect((await m.client.getManifest(repo, oci.digest))?.digest).toBe(oci.digest)
    // As Go's client does on a redirect: only the credential stays behind; Accept still says which
    // formats are understood.
    const accept = pb.manifestLog.map(e => e.accept?.split(',').map(t => t.trim()))
    expect({ refused: pb.refusedManifestsForAuth(), store: pb.manifestLog.map(e => `${e.method} ${e.status}`), accept }).toEqual({
      refused: 0,
      store: ['GET 200', 'GET 200'],
      accept: [expect.arrayContaining([MT.ociIndex, MT.ociManifest]), expect.arrayContaining([MT.ociIndex, MT.ociManifest])]
    })
  })
})
