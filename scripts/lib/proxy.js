'use strict'
/**
 * A fault-injecting reverse proxy in front of a registry, on 127.0.0.1 with a free port.
 *
 * Point the action at `proxy.host` instead of the registry's host. Faults are planned ahead and
 * consumed by the next matching requests:
 *   proxy.failNext(3, 503)          answer the next 3 requests with 503 (429 gets `Retry-After: 1`)
 *   proxy.cutNext(2)                destroy the socket of the next 2 requests without answering
 *   proxy.down() / proxy.up()       refuse connections (listener closed) / serve again on the same port
 *   proxy.downWhen({method: 'PUT'}) go down when the first matching request arrives (it is cut)
 *   proxy.hangNext(1)               accept the next request and never answer it (until stop/release)
 * Every fault takes an optional `match` ({method?: string | string[], path?: RegExp | string}) so a plan
 * can target, say, only uploads. Counters: `proxy.counts` (per method and `total`), `proxy.log` (with
 * `conn`, a number per accepted connection, to tell kept-alive connections from new ones).
 *
 * Faults that last until `clearFaults()`:
 *   proxy.failAlways(500, {method: 'PUT', path: '/manifests/'})   every matching request gets 500
 *   proxy.cutRandomly(0.2, {seed: 7})   cut new connections with probability 0.2 (seeded, replayable);
 *                                       with `match`, cut matching requests instead; stopCutting()
 *   proxy.hangAll(match?)               never answer (matching) requests; release() ends it
 *   proxy.staleAfterPut(5000)           after a PUT of a manifest by tag, reads of that tag serve the
 *                                       previous manifest (or 404) for 5 s, like a lagging replica
 *   proxy.lie('lose-entry')             reads of a list by tag get a doctored list (see `lie`)
 * Registries that answer unlike distribution, until clearFaults():
 *   proxy.challenges('one-line')        401 answers carry a second WWW-Authenticate challenge
 *   proxy.dropDigestOnHead()            HEAD answers lack Docker-Content-Digest (and ETag)
 *   await proxy.redirectBlobs()         blob GETs answer 307 to a store on 127.0.0.2 that refuses
 *                                       requests with an Authorization header, as S3 does
 *   proxy.otherBytesByDigest(on, what)  manifest (or blob) GETs by digest get other bytes under that digest
 * Hooks that put a test in control of timing:
 *   proxy.onFirst(match, fn)            await fn() before forwarding the first matching request
 *   proxy.holdWhen(match)               hold matching requests until releaseHeld() (see held(), whenHeld())
 */
const http = require('node:http')
const { createHash, randomBytes } = require('node:crypto')

/**
 * @typedef {{method?: string | string[], path?: RegExp | string}} Match
 * @typedef {{kind: 'status', status: number, left: number, match?: Match, retryAfter?: number}
 *   | {kind: 'cut', left: number, match?: Match}
 *   | {kind: 'down', left: number, match?: Match}
 *   | {kind: 'hang', left: number, match?: Match}} Fault
 * @typedef {{method: string, path: string, status: number | 'cut' | 'hang' | 'held' | 'error', fault: boolean,
 *   conn: number, mode?: 'challenges' | 'drop-digest' | 'redirect' | 'other-bytes'}} LogEntry
 *   `mode`: which of challenges(), dropDigestOnHead(), redirectBlobs(), otherBytesByDigest() changed the answer
 * @typedef {'drop-annotations' | 'lose-entry' | 'other-list'} LieKind
 * @typedef {'one-line' | 'forgejo' | 'two-lines' | 'basic-first-one-line'} ChallengeMode
 * @typedef {{status: number, headers: http.IncomingHttpHeaders, body: Buffer}} Buffered
 */

/**
 * @param {Match | undefined} m
 * @param {http.IncomingMessage} req
 */
function matches(m, req) {
  if (!m) return true
  if (m.method) {
    const methods = Array.isArray(m.method) ? m.method : [m.method]
    if (!methods.map(x => x.toUpperCase()).includes(String(req.method).toUpperCase())) return false
  }
  if (m.path) {
    const p = String(req.url)
    if (typeof m.path === 'string' ? !p.includes(m.path) : !m.path.test(p)) return false
  }
  return true
}

const REASONS = /** @type {Record<number, string>} */ ({
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout'
})

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']
/** What a client that takes any manifest sends (used to read the manifest a PUT replaces). */
const ACCEPT_ANY_MANIFEST = [
  ...INDEX_TYPES,
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json'
].join(', ')

/** @param {Buffer} b */
const sha256 = b => 'sha256:' + createHash('sha256').update(b).digest('hex')

/**
 * Small seeded PRNG (mulberry32): the same seed gives the same sequence, so a failing run can be replayed.
 * @param {number} seed
 */
function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * `{name, tag}` for `/v2/<name>/manifests/<tag>`; undefined for other paths and for references by digest.
 * @param {string} url
 */
function manifestByTag(url) {
  const m = /^\/v2\/(.+)\/manifests\/([^/?#]+)(?:[?#].*)?$/.exec(url)
  if (!m || m[2].includes(':')) return undefined // a digest (`sha256:...`) has a colon, a tag never does
  return { name: m[1], tag: m[2] }
}

/**
 * Whether manifest bytes are an index / manifest list (by Content-Type or by their own mediaType).
 * @param {string | undefined} contentType
 * @param {any} json
 */
function isIndex(contentType, json) {
  const ct = String(contentType ?? '')
    .split(';')[0]
    .trim()
  if (INDEX_TYPES.includes(ct)) return true
  return !!json && typeof json === 'object' && (INDEX_TYPES.includes(json.mediaType) || (Array.isArray(json.manifests) && !json.layers))
}

/**
 * The doctored bytes of an index for one lie, or undefined when the lie changes nothing
 * (no annotations to drop, no entry to lose).
 * @param {LieKind} kind
 * @param {any} json
 * @returns {Buffer | undefined}
 */
function applyLie(kind, json) {
  const manifests = Array.isArray(json.manifests) ? json.manifests : []
  if (kind === 'drop-annotations') {
    if (!('annotations' in json)) return undefined
    const { annotations, ...rest } = json // eslint-disable-line @typescript-eslint/no-unused-vars
    return Buffer.from(JSON.stringify(rest))
  }
  if (kind === 'lose-entry') {
    if (manifests.length === 0) return undefined
    return Buffer.from(JSON.stringify({ ...json, manifests: manifests.slice(0, -1) }))
  }
  if (kind === 'other-list') {
    // Valid, plausible and different: same entries in reverse order, one more annotation.
    return Buffer.from(
      JSON.stringify({
        ...json,
        manifests: [...manifests].reverse(),
        annotations: { ...(json.annotations ?? {}), 'org.example.proxy.lie': 'other-list' }
      })
    )
  }
  throw new Error(`unknown lie: ${kind}`)
}

/**
 * The WWW-Authenticate lines for a 401 whose registry challenged with `own`: that challenge and another
 * one a client must not pick. For a Bearer registry the other is Basic (which it refuses), for a Basic
 * one Negotiate (which no registry client speaks).
 * @param {ChallengeMode} mode
 * @param {string} own
 */
function challengeLines(mode, own) {
  const other = /^Bearer\s/i.test(own) ? 'Basic realm="multiarch-publish-proxy"' : 'Negotiate'
  if (mode === 'one-line') return [`${own}, ${other}`] // as Forgejo/Codeberg send it
  // Forgejo's ping also names a placeholder scope, which a client must not ask a token for.
  if (mode === 'forgejo') return [`${/\bscope=/.test(own) ? own : `${own},scope="*"`}, ${other}`]
  if (mode === 'two-lines') return [other, own]
  if (mode === 'basic-first-one-line') return [`${other}, ${own}`]
  throw new Error(`unknown challenges mode: ${mode}`)
}

/** A manifest by digest (`sha256:...`), not by tag. */
const MANIFEST_BY_DIGEST = /^\/v2\/.+\/manifests\/[a-z0-9+._-]+:[a-fA-F0-9]+(?:\?.*)?$/
/** A blob by digest (not an upload: `/blobs/uploads/...`). */
const BLOB_PATH = /^\/v2\/.+\/blobs\/[a-z0-9+._-]+:[a-zA-Z0-9=_-]+(?:\?.*)?$/

/** What S3 says to a presigned URL fetched with an Authorization header too. */
const S3_TWO_AUTHS =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified'

/**
 * @param {{target: string, latencyMs?: number, port?: number}} opts  target is `host:port` of the registry
 */
async function startProxy(opts) {
  const [targetHost, targetPortStr] = opts.target.split(':')
  const targetPort = Number(targetPortStr)
  /** @type {Fault[]} */
  let plan = []
  /** @type {Record<string, number>} */
  const counts = { total: 0 }
  /** @type {LogEntry[]} */
  const log = []
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set()
  /** @type {Set<import('node:net').Socket>} */
  const hung = new Set()
  let latencyMs = opts.latencyMs ?? 0
  let isUp = true
  /** @type {string} */
  let selfHost = ''
  /** @type {{rate: number, seed: number, rng: () => number, match?: Match} | undefined} */
  let cutting
  /** Connections drawn for a cut: their first request is cut. */
  let doomed = /** @type {WeakSet<import('node:net').Socket>} */ (new WeakSet())
  let staleMs = 0
  /** @type {Match | undefined} */
  let staleMatch
  /** `name:tag` → what a lagging replica still serves (null: 404) and until when. @type {Map<string, {old: Buffered | null, until: number}>} */
  const stale = new Map()
  /** @type {Array<{kind: LieKind, match?: Match}>} */
  let lies = []
  /** @type {Array<{match: Match, fn: () => unknown, resolve: () => void, reject: (e: unknown) => void}>} */
  let firstHooks = []
  /** @type {Match | undefined} */
  let holdMatch
  /** @type {Array<{socket: import('node:net').Socket, go: () => void}>} */
  let heldReqs = []
  /** @type {Array<{n: number, resolve: () => void}>} */
  let heldWaiters = []
  /** @type {ChallengeMode | undefined} */
  let challengeMode
  let dropDigest = false
  let redirecting = false
  /** @type {false | 'manifests' | 'blobs'} */
  let otherBytes = false
  /** The blob store on 127.0.0.2, listening once the first redirectBlobs() resolves. @type {Promise<{server: http.Server, base: string}> | undefined} */
  let blobStore
  /** Redirect key → blob bytes, kept until stop() so a Location stays valid. @type {Map<string, Buffer>} */
  const stored = new Map()
  /** @type {LogEntry[]} */
  const blobLog = []
  let refusedAuth = 0
  let conns = 0
  /** @type {WeakMap<import('node:net').Socket, number>} */
  const connIds = new WeakMap()

  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

  /**
   * @param {http.IncomingMessage} req
   * @returns {Fault | undefined}
   */
  function takeFault(req) {
    const f = plan.find(x => x.left > 0 && matches(x.match, req))
    if (!f) return undefined
    f.left--
    plan = plan.filter(x => x.left > 0)
    return f
  }

  /** @param {http.IncomingMessage} req */
  function drawCut(req) {
    if (doomed.has(req.socket)) {
      doomed.delete(req.socket)
      return true
    }
    return !!cutting?.match && matches(cutting.match, req) && cutting.rng() < cutting.rate
  }

  /** @param {string} key */
  function activeStale(key) {
    const s = stale.get(key)
    if (s && Date.now() < s.until) return s
    stale.delete(key)
    return undefined
  }

  function heldNow() {
    return heldReqs.filter(h => !h.socket.destroyed).length
  }
  function notifyHeld() {
    const n = heldNow()
    heldWaiters = heldWaiters.filter(w => {
      if (n >= w.n) w.resolve()
      return n < w.n
    })
  }

  /**
   * challenges() and dropDigestOnHead() on an answer's headers.
   * @param {string} method
   * @param {number} status
   * @param {http.OutgoingHttpHeaders} headers
   * @param {LogEntry} entry
   */
  function rewrite(method, status, headers, entry) {
    const own = headers['www-authenticate']
    if (challengeMode && status === 401 && typeof own === 'string') {
      headers['www-authenticate'] = challengeLines(challengeMode, own)
      entry.mode = 'challenges'
    }
    if (dropDigest && method === 'HEAD' && headers['docker-content-digest'] !== undefined) {
      delete headers['docker-content-digest']
      delete headers.etag // distribution's ETag is the digest too
      entry.mode = 'drop-digest'
    }
  }

  /**
   * One buffered request to the registry.
   * @param {string} method
   * @param {string} path
   * @param {http.OutgoingHttpHeaders} headers
   * @returns {Promise<Buffered>}
   */
  function fetchUpstream(method, path, headers) {
    return new Promise((resolve, reject) => {
      const up = http.request(
        { host: targetHost, port: targetPort, method, path, headers: { ...headers, host: opts.target }, agent },
        ures => {
          /** @type {Buffer[]} */
          const chunks = []
          ures.on('data', c => chunks.push(c))
          ures.on('end', () => resolve({ status: ures.statusCode ?? 0, headers: ures.headers, body: Buffer.concat(chunks) }))
          ures.on('error', reject)
        }
      )
      up.on('error', reject)
      up.end()
    })
  }

  /**
   * Pass the request through to the registry and its answer back.
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {LogEntry} entry
   * @param {(ures: http.IncomingMessage) => void} [onResponse]  called before the answer goes back
   */
  function forward(req, res, entry, onResponse) {
    const headers = { ...req.headers }
    const up = http.request({ host: targetHost, port: targetPort, method: req.method, path: req.url, headers, agent }, ures => {
      entry.status = ures.statusCode ?? 0
      onResponse?.(ures)
      /** @type {http.OutgoingHttpHeaders} */
      const out = { ...ures.headers }
      if (typeof out.location === 'string') {
        out.location = out.location.replace(`http://${opts.target}`, `http://${selfHost}`).replace(`//${opts.target}/`, `//${selfHost}/`)
      }
      rewrite(String(req.method).toUpperCase(), ures.statusCode ?? 0, out, entry)
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, out)
      ures.pipe(res)
    })
    up.on('error', () => {
      entry.status = 'error'
      req.socket.destroy()
    })
    req.pipe(up)
  }

  /**
   * GET/HEAD of a manifest by tag while it is stale or lied about: answer from buffered bytes.
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {LogEntry} entry
   * @param {{old: Buffered | null} | undefined} st
   * @param {LieKind[]} kinds
   * @param {string} tag
   */
  async function serveManifest(req, res, entry, st, kinds, tag) {
    /** @type {Buffered} */
    let src
    if (st) {
      entry.fault = true
      src = st.old ?? {
        status: 404,
        headers: { 'content-type': 'application/json; charset=utf-8', 'docker-distribution-api-version': 'registry/2.0' },
        body: Buffer.from(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: tag } }] }))
      }
    } else {
      // A GET even for HEAD: the doctored digest and length need the body.
      const { 'content-length': _len, 'transfer-encoding': _te, ...headers } = req.headers // eslint-disable-line @typescript-eslint/no-unused-vars
      src = await fetchUpstream('GET', String(req.url), headers)
    }
    let body = src.body
    /** @type {http.OutgoingHttpHeaders} */
    const headers = { ...src.headers }
    if (src.status === 200 && kinds.length > 0) {
      /** @type {any} */
      let json
      try {
        json = JSON.parse(body.toString('utf8'))
      } catch {
        json = undefined
      }
      if (json && isIndex(String(headers['content-type'] ?? ''), json)) {
        for (const kind of kinds) {
          const lied = applyLie(kind, json)
          if (!lied) continue
          body = lied
          json = JSON.parse(lied.toString('utf8'))
          entry.fault = true
        }
      }
    }
    if (src.status === 200) {
      const digest = sha256(body)
      headers['docker-content-digest'] = digest
      headers.etag = `"${digest}"`
    }
    delete headers['transfer-encoding']
    delete headers.connection
    delete headers['keep-alive']
    headers['content-length'] = String(body.length)
    rewrite(String(req.method).toUpperCase(), src.status, headers, entry)
    entry.status = src.status
    res.writeHead(src.status, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  /**
   * PUT of a manifest by tag with staleAfterPut on: remember what the tag served before, then forward.
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {LogEntry} entry
   * @param {string} key  `name:tag`
   * @param {string} path  `/v2/<name>/manifests/<tag>`
   */
  async function forwardStalePut(req, res, entry, key, path) {
    /** @type {Buffered | null} */
    let old
    const current = activeStale(key)
    if (current) {
      // A lagging replica still has what it had before the first PUT of the window.
      old = current.old
    } else {
      /** @type {http.OutgoingHttpHeaders} */
      const headers = { accept: ACCEPT_ANY_MANIFEST }
      if (req.headers.authorization) headers.authorization = req.headers.authorization
      const got = await fetchUpstream('GET', path, headers)
      if (got.status !== 200 && got.status !== 404) {
        forward(req, res, entry) // cannot tell what was there (401?): no stale window
        return
      }
      old = got.status === 200 ? got : null
    }
    const ms = staleMs
    forward(req, res, entry, ures => {
      const status = ures.statusCode ?? 0
      if (status >= 200 && status < 300 && ms > 0) stale.set(key, { old, until: Date.now() + ms })
    })
  }

  /**
   * GET of a manifest by digest with otherBytesByDigest on: the registry's answer, its JSON indented
   * (other bytes, same meaning), still under the digest asked for.
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {LogEntry} entry
   */
  async function serveOtherBytes(req, res, entry) {
    const { 'content-length': _len, 'transfer-encoding': _te, ...asked } = req.headers // eslint-disable-line @typescript-eslint/no-unused-vars
    const src = await fetchUpstream('GET', String(req.url), asked)
    let body = src.body
    if (src.status === 200) {
      body = Buffer.from(`${JSON.stringify(JSON.parse(body.toString('utf8')), null, 2)}\n`)
      entry.fault = true
      entry.mode = 'other-bytes'
    }
    /** @type {http.OutgoingHttpHeaders} */
    const headers = { ...src.headers, 'content-length': String(body.length) }
    delete headers['transfer-encoding']
    delete headers.connection
    delete headers['keep-alive']
    entry.status = src.status
    res.writeHead(src.status, headers)
    res.end(body)
  }

  /**
   * GET of a blob with redirectBlobs on: read it from the registry with the client's credentials and
   * send the client to the store for the bytes; other answers (401, 404) go back as they are.
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {LogEntry} entry
   */
  async function redirectBlob(req, res, entry) {
    req.resume()
    const { base } = await /** @type {Promise<{base: string}>} */ (blobStore)
    /** @type {http.OutgoingHttpHeaders} */
    const headers = {}
    for (const h of ['authorization', 'accept', 'user-agent']) if (req.headers[h]) headers[h] = req.headers[h]
    const got = await fetchUpstream('GET', String(req.url), headers)
    let body = got.body
    /** @type {http.OutgoingHttpHeaders} */
    let out = { ...got.headers }
    entry.status = got.status
    if (got.status === 200) {
      const key = randomBytes(16).toString('hex')
      stored.set(key, got.body)
      // Shaped like a presigned S3 URL: the query string is the credential.
      const location = `${base}/blobs/${key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=1200&X-Amz-Signature=${key}`
      body = Buffer.from(`<a href="${location.replace(/&/g, '&amp;')}">Temporary Redirect</a>.\n\n`)
      out = { location, 'content-type': 'text/html; charset=utf-8', 'docker-distribution-api-version': 'registry/2.0' }
      entry.status = 307
      entry.mode = 'redirect'
    } else {
      delete out['transfer-encoding']
      delete out.connection
      delete out['keep-alive']
      rewrite('GET', got.status, out, entry)
    }
    out['content-length'] = String(body.length)
    res.writeHead(entry.status, out)
    res.end(body)
  }

  /**
   * The blob store's answers, as S3's: the bytes for a known key without credentials, 400 to a
   * request with an Authorization header, 403 to an unknown key.
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  function serveStored(req, res) {
    /** @type {LogEntry} */
    const entry = { method: String(req.method), path: String(req.url), status: 'error', fault: false, conn: connIds.get(req.socket) ?? 0 }
    blobLog.push(entry)
    req.resume()
    const key = /^\/blobs\/([0-9a-f]+)\?/.exec(entry.path)?.[1]
    const bytes = key === undefined ? undefined : stored.get(key)
    const head = entry.method === 'HEAD'
    /** @param {number} status @param {string} code @param {string} message */
    const error = (status, code, message) => {
      const xml = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`)
      entry.status = status
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(xml.length) })
      res.end(head ? undefined : xml)
    }
    if (req.headers.authorization !== undefined) {
      refusedAuth++
      entry.fault = true
      return error(400, 'InvalidArgument', S3_TWO_AUTHS)
    }
    if (!bytes || (entry.method !== 'GET' && !head)) return error(403, 'AccessDenied', 'Access Denied')
    entry.status = 200
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.length),
      etag: `"${createHash('md5').update(bytes).digest('hex')}"`
    })
    res.end(head ? undefined : bytes)
  }

  /** @param {import('node:net').Socket} s */
  function countConnection(s) {
    connIds.set(s, ++conns)
  }

  async function startBlobStore() {
    const server = http.createServer(serveStored)
    server.on('connection', countConnection)
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.2', () => resolve(undefined))
    })
    return { server, base: `http://127.0.0.2:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}` }
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {LogEntry} entry
   */
  async function handle(req, res, entry) {
    const hook = firstHooks.find(h => matches(h.match, req))
    if (hook) {
      firstHooks = firstHooks.filter(h => h !== hook)
      entry.status = 'held'
      try {
        await hook.fn()
        hook.resolve()
      } catch (e) {
        hook.reject(e)
      }
    }
    if (holdMatch && matches(holdMatch, req)) {
      entry.status = 'held'
      await new Promise(resolve => {
        heldReqs.push({ socket: req.socket, go: () => resolve(undefined) })
        notifyHeld()
      })
    }
    if (req.socket.destroyed) {
      entry.status = 'error' // the client gave up while it was held
      return
    }
    if (drawCut(req)) {
      entry.fault = true
      entry.status = 'cut'
      req.socket.destroy()
      return
    }
    const fault = takeFault(req)
    if (fault) {
      entry.fault = true
      if (fault.kind === 'down') {
        entry.status = 'cut'
        req.socket.destroy()
        void api.down()
        return
      }
      if (fault.kind === 'hang') {
        entry.status = 'hang'
        hung.add(req.socket)
        req.resume()
        return
      }
      if (fault.kind === 'cut') {
        entry.status = 'cut'
        req.socket.destroy()
        return
      }
      entry.status = fault.status
      req.resume()
      const body = JSON.stringify({
        errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: `injected ${fault.status}`, detail: null }]
      })
      /** @type {Record<string, string>} */
      const headers = {
        'Content-Type': fault.status === 429 ? 'application/json' : 'text/html',
        'Content-Length': String(Buffer.byteLength(body))
      }
      if (fault.status === 429) headers['Retry-After'] = String(fault.retryAfter ?? 1)
      res.writeHead(fault.status, REASONS[fault.status] ?? 'Injected', headers)
      res.end(body)
      return
    }
    if (latencyMs > 0) await new Promise(resolve => setTimeout(resolve, latencyMs))
    const ref = manifestByTag(String(req.url))
    const method = String(req.method).toUpperCase()
    if (ref && (method === 'GET' || method === 'HEAD')) {
      const st = activeStale(`${ref.name}:${ref.tag}`)
      const kinds = lies.filter(l => matches(l.match, req)).map(l => l.kind)
      if (st || kinds.length > 0) return serveManifest(req, res, entry, st, kinds, ref.tag)
    }
    if (ref && method === 'PUT' && staleMs > 0 && matches(staleMatch, req)) {
      return forwardStalePut(req, res, entry, `${ref.name}:${ref.tag}`, `/v2/${ref.name}/manifests/${ref.tag}`)
    }
    if (redirecting && method === 'GET' && BLOB_PATH.test(String(req.url))) return redirectBlob(req, res, entry)
    if (
      method === 'GET' &&
      (otherBytes === 'manifests' ? MANIFEST_BY_DIGEST : otherBytes === 'blobs' ? BLOB_PATH : null)?.test(String(req.url))
    )
      return serveOtherBytes(req, res, entry)
    forward(req, res, entry)
  }

  const server = http.createServer((req, res) => {
    const method = String(req.method)
    counts[method] = (counts[method] ?? 0) + 1
    counts.total++
    /** @type {LogEntry} */
    const entry = { method, path: String(req.url), status: 'error', fault: false, conn: connIds.get(req.socket) ?? 0 }
    log.push(entry)
    handle(req, res, entry).catch(() => {
      entry.status = 'error'
      req.socket.destroy()
    })
  })
  server.keepAliveTimeout = 5000
  server.on('connection', s => {
    countConnection(s)
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    // containers/image opens a connection per request, so this is where random cuts bite.
    if (cutting && !cutting.match && cutting.rng() < cutting.rate) doomed.add(s)
  })

  /** @param {number} port */
  const listen = port =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve(undefined)
      })
    })
  await listen(opts.port ?? 0)
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port
  selfHost = `127.0.0.1:${port}`

  /** @param {string} why */
  function dropFirstHooks(why) {
    for (const h of firstHooks) h.reject(new Error(why))
    firstHooks = []
  }

  const api = {
    host: selfHost,
    url: `http://${selfHost}`,
    port,
    target: opts.target,
    counts,
    log,
    /** Answer the next `n` matching requests with `status` (503, 429, 502, ...). */
    failNext(/** @type {number} */ n, status = 503, /** @type {Match & {retryAfter?: number}} */ match = {}) {
      const { retryAfter, ...m } = match
      plan.push({ kind: 'status', status, left: n, match: m, retryAfter })
    },
    /** Answer every matching request with `status` until clearFaults() (`pending()` is then Infinity). */
    failAlways(/** @type {number} */ status, /** @type {Match & {retryAfter?: number}} */ match = {}) {
      api.failNext(Infinity, status, match)
    },
    /** Destroy the socket of the next `n` matching requests without answering. */
    cutNext(/** @type {number} */ n, /** @type {Match} */ match = {}) {
      plan.push({ kind: 'cut', left: n, match })
    },
    /**
     * Until stopCutting() / clearFaults(), cut each new connection (before answering its first
     * request) with probability `rate`; with `match`, cut each matching request instead, whatever its
     * connection. Random rather than every n-th, which can line up with a client's fixed sequence of
     * requests; seeded so a failure can be replayed. Cuts are logged with status 'cut'.
     * @param {number} rate  0..1
     * @param {{seed?: number, match?: Match}} [o]
     * @returns {number} the seed used (a random one when none is given): print it to replay a failure
     */
    cutRandomly(rate, o = {}) {
      const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32)
      cutting = { rate, seed, rng: mulberry32(seed), match: o.match }
      doomed = new WeakSet()
      return seed
    },
    /** End cutRandomly(). */
    stopCutting() {
      cutting = undefined
      doomed = new WeakSet()
    },
    /** Accept the next `n` matching requests and never answer them (see `hanging()`, `release()`). */
    hangNext(/** @type {number} */ n, /** @type {Match} */ match = {}) {
      plan.push({ kind: 'hang', left: n, match })
    },
    /** Accept every (matching) request and never answer it, until release() or clearFaults(). */
    hangAll(/** @type {Match} */ match = {}) {
      plan.push({ kind: 'hang', left: Infinity, match })
    },
    /** How many requests are being held unanswered right now. */
    hanging() {
      return [...hung].filter(s => !s.destroyed).length
    },
    /** Drop the held requests' connections, and end hangAll(). */
    release() {
      plan = plan.filter(f => !(f.kind === 'hang' && f.left === Infinity))
      for (const s of hung) s.destroy()
      hung.clear()
    },
    /** Go down (refuse connections) when the first request matching `match` arrives. */
    downWhen(/** @type {Match} */ match) {
      plan.push({ kind: 'down', left: 1, match })
    },
    /**
     * After each successful PUT of a manifest by tag (not by digest), GET/HEAD of that tag serve what
     * it served before the PUT (404 if nothing) for `ms` ms, like a registry whose reads lag its
     * writes. Another PUT within the window restarts it and keeps the original old manifest.
     * 0 (or clearFaults()) turns it off. The old manifest is read with the PUT's credentials.
     * @param {number} ms
     * @param {Match} [match]  only PUTs matching this start a window
     */
    staleAfterPut(ms, match) {
      staleMs = ms
      staleMatch = match
      if (ms <= 0) stale.clear()
    },
    /**
     * Until clearFaults(), GET/HEAD of a manifest by tag that is an index / manifest list is answered
     * with a doctored list, with its own Docker-Content-Digest and Content-Length (reads by digest are
     * left alone: a lie there is detectable). Kinds: 'drop-annotations' (the index-level
     * annotations), 'lose-entry' (the last entry of `manifests`), 'other-list' (a different valid
     * list: entries reversed, an annotation added). Several lies apply in the order given.
     * @param {LieKind} kind
     * @param {{match?: Match}} [o]
     */
    lie(kind, o = {}) {
      applyLie(kind, { manifests: [] }) // unknown kinds throw here, not in the middle of a request
      lies.push({ kind, match: o.match })
    },
    /**
     * When the first request matching `match` arrives, await `fn()` before forwarding it (once).
     * Resolves when fn has finished, rejects with its error (the request is forwarded either way);
     * rejects if clearFaults()/stop() come first.
     * @param {Match} match
     * @param {() => unknown} fn
     * @returns {Promise<void>}
     */
    onFirst(match, fn) {
      /** @type {() => void} */
      let resolve = () => {}
      /** @type {(e: unknown) => void} */
      let reject = () => {}
      const done = new Promise((res, rej) => {
        resolve = () => res(undefined)
        reject = rej
      })
      done.catch(() => {}) // a test need not await it: no unhandled rejection
      firstHooks.push({ match, fn, resolve, reject })
      return done
    },
    /** Hold every matching request (neither answered nor forwarded) until releaseHeld(). */
    holdWhen(/** @type {Match} */ match) {
      holdMatch = match
    },
    /** Stop holding, and forward the held requests as usual. */
    releaseHeld() {
      holdMatch = undefined
      const go = heldReqs
      heldReqs = []
      for (const h of go) h.go()
    },
    /** How many requests are held by holdWhen() right now. */
    held() {
      return heldNow()
    },
    /**
     * Resolves once at least `n` requests are held by holdWhen().
     * @returns {Promise<void>}
     */
    whenHeld(n = 1) {
      return new Promise(resolve => {
        heldWaiters.push({ n, resolve: () => resolve(undefined) })
        notifyHeld()
      })
    },
    /**
     * Until clearFaults() (or challenges(undefined)), each 401 answer carries the registry's challenge
     * and another one a client must not pick: Basic for a Bearer registry (the realm stays the real
     * token server's), Negotiate for a Basic one.
     *   'one-line'              `Bearer realm="…",service="…",scope="…", Basic realm="…"` in one header
     *                           (what Forgejo/Codeberg send; a naive parser takes the last realm)
     *   'forgejo'               as 'one-line', and a challenge without a scope gets Forgejo's `scope="*"`
     *   'two-lines'             two WWW-Authenticate headers, the other challenge first
     *   'basic-first-one-line'  `Basic realm="…", Bearer realm="…",…` in one header
     * @param {ChallengeMode | undefined} mode
     */
    challenges(mode) {
      if (mode) challengeLines(mode, '') // an unknown mode throws here, not in the middle of a request
      challengeMode = mode
    },
    /** Until clearFaults(), HEAD answers lack Docker-Content-Digest (and ETag), as some registries' do. */
    dropDigestOnHead(on = true) {
      dropDigest = on
    },
    /**
     * Until clearFaults() (or redirectBlobs(false)), a blob GET is answered 307 to a store on another
     * loopback address (127.0.0.2, like S3 or a CDN): the proxy reads the blob from the registry with
     * the client's Authorization, and the store serves it to a request without one, answering 400
     * (S3's "Only one auth mechanism allowed") to one with it; see refusedForAuth(), `blobLog`.
     * Answers other than 200 (401, 404) come back from the proxy as the registry gave them.
     * @returns {Promise<void>} once the store listens
     */
    async redirectBlobs(on = true) {
      redirecting = on
      if (on) {
        blobStore ??= startBlobStore()
        await blobStore
      }
    },
    /**
     * Until clearFaults() (or otherBytesByDigest(false)), a GET of a manifest by digest (with
     * `what` 'blobs': of a blob, such as a config) is answered with other bytes (its JSON indented)
     * whose Docker-Content-Digest still names the digest asked for, as a broken cache or a tampering
     * mirror would; only a client that hashes what it read notices.
     * @param {boolean} [on]
     * @param {'manifests' | 'blobs'} [what]
     */
    otherBytesByDigest(on = true, what = 'manifests') {
      otherBytes = on ? what : false
    },
    /** Requests to the blob store of redirectBlobs(), with their `conn`. */
    blobLog,
    /** Requests the blob store refused for carrying an Authorization header. */
    refusedForAuth() {
      return refusedAuth
    },
    /** Faults planned but not consumed yet. */
    pending() {
      return plan.reduce((a, f) => a + f.left, 0)
    },
    /**
     * End every fault: planned ones, failAlways, random cuts, hangAll (and drop the hung
     * connections), stale reads, lies, onFirst hooks not fired yet; held requests go on.
     */
    clearFaults() {
      plan = []
      api.stopCutting()
      api.release()
      api.staleAfterPut(0)
      lies = []
      challengeMode = undefined
      dropDigest = false
      redirecting = false
      otherBytes = false
      dropFirstHooks('onFirst: cleared before a matching request arrived')
      api.releaseHeld()
    },
    setLatency(/** @type {number} */ ms) {
      latencyMs = ms
    },
    /** Zero the counters and the logs. */
    reset() {
      for (const k of Object.keys(counts)) delete counts[k]
      counts.total = 0
      log.length = 0
      blobLog.length = 0
      refusedAuth = 0
    },
    /** Requests seen for one method (0 if none). */
    count(/** @type {string} */ method) {
      return counts[method.toUpperCase()] ?? 0
    },
    /** Writes seen: POST + PUT + PATCH + DELETE. */
    writes() {
      return api.count('POST') + api.count('PUT') + api.count('PATCH') + api.count('DELETE')
    },
    isUp() {
      return isUp
    },
    /** Refuse connections: close the listener and drop open connections. */
    async down() {
      if (!isUp) return
      isUp = false
      const closed = new Promise(resolve => server.close(() => resolve(undefined)))
      for (const s of sockets) s.destroy()
      await closed
    },
    /** Serve again on the same port. */
    async up() {
      if (isUp) return
      await listen(port)
      isUp = true
    },
    async stop() {
      plan = []
      api.stopCutting()
      api.staleAfterPut(0)
      lies = []
      dropFirstHooks('onFirst: the proxy stopped')
      api.release()
      for (const s of sockets) s.destroy() // held requests then see a closed client and stop
      api.releaseHeld()
      agent.destroy()
      redirecting = false
      const store = await blobStore?.catch(() => undefined) // one that failed to start was reported then
      blobStore = undefined
      stored.clear()
      if (store) {
        const closed = new Promise(resolve => store.server.close(() => resolve(undefined)))
        store.server.closeAllConnections()
        await closed
      }
      if (isUp) {
        isUp = false
        const closed = new Promise(resolve => server.close(() => resolve(undefined)))
        for (const s of sockets) s.destroy()
        await closed
      }
    }
  }
  return api
}

module.exports = { startProxy }
