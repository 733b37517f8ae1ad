'use strict'
/**
 * A fault-injecting reverse proxy in front of a registry, on 127.0.0.1 with a free port; with `tls`
 * ({cert, key}, PEM) it speaks HTTPS to its clients (and plain HTTP to the registry).
 *
 * Point the action at `proxy.host` instead of the registry's host. Faults are planned ahead and
 * consumed by the next matching requests:
 *   proxy.failNext(3, 503)          answer the next 3 requests with 503 (429 gets `Retry-After: 1`)
 *   proxy.cutNext(2)                destroy the socket of the next 2 requests without answering
 *   proxy.down() / proxy.up()       refuse connections (listener closed) / serve again on the same port
 *   proxy.downWhen({method: 'PUT'}) go down when the first matching request arrives (it is cut)
 *   proxy.hangNext(1)               accept the next request and never answer it (until stop/release)
 *   proxy.answerNext(1, 403, body)  answer the next request with that status and JSON body
 *   proxy.cutBodyNext(1)            send the registry's headers (full Content-Length) and half its
 *                                   body, then destroy the connection
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
 *   proxy.headDigest('sha256:…')        HEAD answers of manifests name that Docker-Content-Digest instead
 *   proxy.bearerRealm(value | null)     401 answers' Bearer challenge gets that realm, or none (null)
 *   proxy.redirectNext(n, match)        the next n matching requests get a 307 to their own URL (a loop)
 *   await proxy.redirectManifests()     manifest GETs answer 307 to a store on 127.0.0.2 that refuses
 *                                       requests with an Authorization header, like redirectBlobs()
 *   proxy.bearerService(value | null)   401 answers' Bearer challenge gets that service, or none (null)
 *   proxy.chunkedBlobs()                blob GETs answered 200 come chunked, without Content-Length
 * Hooks that put a test in control of timing:
 *   proxy.onFirst(match, fn)            await fn() before forwarding the first matching request
 *   proxy.holdWhen(match)               hold matching requests until releaseHeld() (see held(), whenHeld())
 */
const http = require('node:http')
const https = require('node:https')
const { listenOnOwnPort } = require('./ports')
const { createPlanned } = require('./faults/planned')
const { createRandomCuts } = require('./faults/random-cuts')
const { createFirstHooks } = require('./faults/first-hooks')
const { createHold } = require('./faults/hold')
const { createStaleReads } = require('./faults/stale-reads')
const { createLies, serveManifest } = require('./faults/lies')
const { createChallenges } = require('./faults/challenges')
const { createDropDigest } = require('./faults/drop-digest')
const { createBlobRedirect } = require('./faults/redirect-blobs')
const { createOtherBytes } = require('./faults/other-bytes')
const { createHeadDigest } = require('./faults/head-digest')
const { createBearerRealm } = require('./faults/bearer-realm')
const { createRedirectLoop } = require('./faults/redirect-loop')
const { createManifestRedirect } = require('./faults/redirect-manifests')
const { createAnswerNext } = require('./faults/answer-next')
const { createCutBody } = require('./faults/cut-body')
const { createChunkedBlobs } = require('./faults/chunked-blobs')
const { createBearerService } = require('./faults/bearer-service')

/**
 * @typedef {{method?: string | string[], path?: RegExp | string}} Match
 * @typedef {{kind: 'status', status: number, left: number, match?: Match, retryAfter?: number}
 *   | {kind: 'cut', left: number, match?: Match}
 *   | {kind: 'down', left: number, match?: Match}
 *   | {kind: 'hang', left: number, match?: Match}} Fault
 * @typedef {{method: string, path: string, status: number | 'cut' | 'hang' | 'held' | 'error', fault: boolean,
 *   conn: number, mode?: 'challenges' | 'drop-digest' | 'redirect' | 'other-bytes' | 'head-digest' | 'realm' | 'redirect-loop'
 *   | 'answer' | 'cut-body' | 'chunked' | 'service', accept?: string}} LogEntry
 *   `accept`: the Accept header a request to the store of redirectBlobs() or redirectManifests() carried.
 *   `mode`: which of challenges(), dropDigestOnHead(), redirectBlobs() or redirectManifests(), otherBytesByDigest(),
 *   headDigest(), bearerRealm(), redirectNext(), answerNext(), cutBodyNext(), chunkedBlobs(), bearerService() changed the answer
 * @typedef {'drop-annotations' | 'lose-entry' | 'other-list'} LieKind
 * @typedef {'one-line' | 'forgejo' | 'two-lines' | 'basic-first-one-line'} ChallengeMode
 * @typedef {{status: number, headers: http.IncomingHttpHeaders, body: Buffer}} Buffered
 */

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
 * The proxy: a server that forwards to the registry, composed with one module per fault
 * (test/harness/faults/), each holding its own state; the API below plans and ends them.
 * @param {{target: string, latencyMs?: number, tls?: {cert: string, key: string}}} opts  target is `host:port` of the registry
 */
async function startProxy(opts) {
  // The API's types are written out where a method hands over to a fault module: gen-types.sh
  // compiles copies of the top-level files only, so what faults/ returns is `any` there.
  const [targetHost, targetPortStr] = opts.target.split(':')
  const targetPort = Number(targetPortStr)
  /** @type {Record<string, number>} */
  const counts = { total: 0 }
  /** @type {LogEntry[]} */
  const log = []
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set()
  let latencyMs = opts.latencyMs ?? 0
  let isUp = true
  /** @type {string} */
  let selfHost = ''
  let conns = 0
  /** @type {WeakMap<import('node:net').Socket, number>} */
  const connIds = new WeakMap()
  /** @param {import('node:net').Socket} s */
  const countConnection = s => {
    connIds.set(s, ++conns)
  }
  /** @param {import('node:net').Socket} s */
  const connId = s => connIds.get(s) ?? 0

  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

  /** @type {import('./faults/common').Upstream} */
  const upstream = {
    fetch(method, path, headers) {
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
    },
    forward(req, res, entry, onResponse) {
      const headers = { ...req.headers }
      const up = http.request({ host: targetHost, port: targetPort, method: req.method, path: req.url, headers, agent }, ures => {
        entry.status = ures.statusCode ?? 0
        onResponse?.(ures)
        /** @type {http.OutgoingHttpHeaders} */
        const out = { ...ures.headers }
        if (typeof out.location === 'string') {
          out.location = out.location.replace(`http://${opts.target}`, `http://${selfHost}`).replace(`//${opts.target}/`, `//${selfHost}/`)
        }
        upstream.rewrite(String(req.method).toUpperCase(), ures.statusCode ?? 0, out, entry)
        res.writeHead(ures.statusCode ?? 502, ures.statusMessage, out)
        ures.pipe(res)
      })
      up.on('error', () => {
        entry.status = 'error'
        req.socket.destroy()
      })
      req.pipe(up)
    },
    rewrite(method, status, headers, entry) {
      challenges.rewrite(status, headers, entry)
      bearerRealm.rewrite(status, headers, entry)
      bearerService.rewrite(status, headers, entry)
      dropDigest.rewrite(method, headers, entry)
      headDigest.rewrite(method, headers, entry)
    }
  }

  // The faults, in the order a request meets them in handle().
  const firstHooks = createFirstHooks()
  const hold = createHold()
  const randomCuts = createRandomCuts()
  const planned = createPlanned({ down: () => void api.down() })
  const staleReads = createStaleReads(upstream)
  const lies = createLies()
  const redirect = createBlobRedirect(upstream, { connId, onConnection: countConnection })
  const otherBytes = createOtherBytes(upstream)
  const redirectLoop = createRedirectLoop()
  const manifestRedirect = createManifestRedirect(upstream, { connId, onConnection: countConnection })
  const answerNext = createAnswerNext()
  const cutBody = createCutBody(upstream)
  const chunkedBlobs = createChunkedBlobs(upstream)
  // These change the headers of answers (upstream.rewrite).
  const challenges = createChallenges()
  const bearerRealm = createBearerRealm()
  const dropDigest = createDropDigest()
  const headDigest = createHeadDigest()
  const bearerService = createBearerService()

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {LogEntry} entry
   */
  async function handle(req, res, entry) {
    // Only a request that waits awaits: the others go on in the same tick, as they always have.
    const hook = firstHooks.take(req)
    if (hook) await hook(entry)
    if (hold.holds(req)) await hold.wait(req, entry)
    if (req.socket.destroyed) {
      entry.status = 'error' // the client gave up while it was held
      return
    }
    if (randomCuts.draw(req)) {
      entry.fault = true
      entry.status = 'cut'
      req.socket.destroy()
      return
    }
    if (planned.apply(req, res, entry)) return
    if (answerNext.apply(req, res, entry)) return
    if (cutBody.apply(req, res, entry)) return
    if (redirectLoop.apply(req, res, entry)) return
    if (latencyMs > 0) await new Promise(resolve => setTimeout(resolve, latencyMs))
    const url = String(req.url)
    const ref = manifestByTag(url)
    const method = String(req.method).toUpperCase()
    if (ref && (method === 'GET' || method === 'HEAD')) {
      const st = staleReads.active(`${ref.name}:${ref.tag}`)
      const kinds = lies.kindsFor(req)
      if (st || kinds.length > 0) return serveManifest(upstream, req, res, entry, st, kinds, ref.tag)
    }
    if (ref && method === 'PUT' && staleReads.wantsPut(req)) {
      return staleReads.forwardPut(req, res, entry, `${ref.name}:${ref.tag}`, `/v2/${ref.name}/manifests/${ref.tag}`)
    }
    if (redirect.wants(method, url)) return redirect.redirect(req, res, entry)
    if (manifestRedirect.wants(method, url)) return manifestRedirect.redirect(req, res, entry)
    if (otherBytes.wants(method, url)) return otherBytes.serve(req, res, entry)
    if (chunkedBlobs.wants(method, url)) return chunkedBlobs.serve(req, res, entry)
    upstream.forward(req, res, entry)
  }

  /** @type {http.RequestListener} */
  const onRequest = (req, res) => {
    const method = String(req.method)
    counts[method] = (counts[method] ?? 0) + 1
    counts.total++
    /** @type {LogEntry} */
    const entry = { method, path: String(req.url), status: 'error', fault: false, conn: connId(req.socket) }
    log.push(entry)
    handle(req, res, entry).catch(() => {
      entry.status = 'error'
      req.socket.destroy()
    })
  }
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : http.createServer(onRequest)
  server.keepAliveTimeout = 5000
  // A request's socket is the TLS one, which `secureConnection` hands over: numbered there.
  if (opts.tls) server.on('secureConnection', countConnection)
  server.on('connection', s => {
    if (!opts.tls) countConnection(s)
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    randomCuts.onConnection(s)
  })

  const port = await listenOnOwnPort(server, '127.0.0.1')
  selfHost = `127.0.0.1:${port}`

  const api = {
    host: selfHost,
    url: `${opts.tls ? 'https' : 'http'}://${selfHost}`,
    port,
    target: opts.target,
    counts,
    log,
    /** Answer the next `n` matching requests with `status` (503, 429, 502, ...). */
    failNext(/** @type {number} */ n, status = 503, /** @type {Match & {retryAfter?: number}} */ match = {}) {
      const { retryAfter, ...m } = match
      planned.add({ kind: 'status', status, left: n, match: m, retryAfter })
    },
    /**
     * Answer the next `n` matching requests with `status` and `body` (sent as JSON, as it is): an error
     * document of another shape than the registry's, say.
     * @param {number} n
     * @param {number} status
     * @param {string} body
     * @param {Match} [match]
     */
    answerNext(n, status, body, match) {
      answerNext.add(n, status, body, match)
    },
    /**
     * The next `n` matching requests get the registry's status line and headers, with its full
     * Content-Length, and half of its body; then their connection is destroyed.
     * @param {number} n
     * @param {Match} [match]
     */
    cutBodyNext(n, match) {
      cutBody.add(n, match)
    },
    /** Answer every matching request with `status` until clearFaults() (`pending()` is then Infinity). */
    failAlways(/** @type {number} */ status, /** @type {Match & {retryAfter?: number}} */ match = {}) {
      api.failNext(Infinity, status, match)
    },
    /** Destroy the socket of the next `n` matching requests without answering. */
    cutNext(/** @type {number} */ n, /** @type {Match} */ match = {}) {
      planned.add({ kind: 'cut', left: n, match })
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
      return randomCuts.start(rate, o)
    },
    /** End cutRandomly(). */
    stopCutting() {
      randomCuts.stop()
    },
    /** Accept the next `n` matching requests and never answer them (see `hanging()`, `release()`). */
    hangNext(/** @type {number} */ n, /** @type {Match} */ match = {}) {
      planned.add({ kind: 'hang', left: n, match })
    },
    /** Accept every (matching) request and never answer it, until release() or clearFaults(). */
    hangAll(/** @type {Match} */ match = {}) {
      planned.add({ kind: 'hang', left: Infinity, match })
    },
    /**
     * How many requests are being held unanswered right now.
     * @returns {number}
     */
    hanging() {
      return planned.hanging()
    },
    /** Drop the held requests' connections, and end hangAll(). */
    release() {
      planned.release()
    },
    /** Go down (refuse connections) when the first request matching `match` arrives. */
    downWhen(/** @type {Match} */ match) {
      planned.add({ kind: 'down', left: 1, match })
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
      staleReads.set(ms, match)
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
      lies.add(kind, o.match)
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
      return firstHooks.add(match, fn)
    },
    /** Hold every matching request (neither answered nor forwarded) until releaseHeld(). */
    holdWhen(/** @type {Match} */ match) {
      hold.when(match)
    },
    /** Stop holding, and forward the held requests as usual. */
    releaseHeld() {
      hold.release()
    },
    /**
     * How many requests are held by holdWhen() right now.
     * @returns {number}
     */
    held() {
      return hold.held()
    },
    /**
     * Resolves once at least `n` requests are held by holdWhen().
     * @returns {Promise<void>}
     */
    whenHeld(n = 1) {
      return hold.whenHeld(n)
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
      challenges.set(mode)
    },
    /** Until clearFaults(), HEAD answers lack Docker-Content-Digest (and ETag), as some registries' do. */
    dropDigestOnHead(on = true) {
      dropDigest.set(on)
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
      await redirect.enable(on)
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
      otherBytes.set(on, what)
    },
    /**
     * Until clearFaults() (or headDigest(undefined)), HEAD answers of manifests carry Docker-Content-Digest
     * `value` (another digest, or a malformed one) instead of the registry's, as a broken cache would.
     * @param {string | undefined} value
     */
    headDigest(value) {
      headDigest.set(value)
    },
    /**
     * Until clearFaults() (or bearerRealm(undefined)), the Bearer challenge of a 401 answer gets
     * `realm="value"` (an ftp:// one, say), or loses its realm when `value` is null.
     * @param {string | null | undefined} value
     */
    bearerRealm(value) {
      bearerRealm.set(value)
    },
    /**
     * Until clearFaults() (or bearerService(undefined)), the Bearer challenge of a 401 answer gets
     * `service="value"`, or loses its service when `value` is null.
     * @param {string | null | undefined} value
     */
    bearerService(value) {
      bearerService.set(value)
    },
    /** Until clearFaults() (or chunkedBlobs(false)), blob GETs answered 200 come chunked, without Content-Length. */
    chunkedBlobs(on = true) {
      chunkedBlobs.set(on)
    },
    /**
     * Answer the next `n` matching requests with a 307 to their own URL: with Infinity, a redirect
     * loop until clearFaults().
     * @param {number} n
     * @param {Match} [match]
     */
    redirectNext(n, match) {
      redirectLoop.add(n, match)
    },
    /**
     * Until clearFaults() (or redirectManifests(false)), a manifest GET is answered 307 to a store on
     * 127.0.0.2 that refuses requests with an Authorization header, as redirectBlobs() does for blobs;
     * see manifestLog, refusedManifestsForAuth().
     * @returns {Promise<void>} once the store listens
     */
    async redirectManifests(on = true) {
      await manifestRedirect.enable(on)
    },
    /**
     * Requests to the manifest store of redirectManifests().
     * @type {LogEntry[]}
     */
    manifestLog: manifestRedirect.blobLog,
    /**
     * Requests the manifest store refused for carrying an Authorization header.
     * @returns {number}
     */
    refusedManifestsForAuth() {
      return manifestRedirect.refusedForAuth()
    },
    /**
     * Requests to the blob store of redirectBlobs(), with their `conn`.
     * @type {LogEntry[]}
     */
    blobLog: redirect.blobLog,
    /**
     * Requests the blob store refused for carrying an Authorization header.
     * @returns {number}
     */
    refusedForAuth() {
      return redirect.refusedForAuth()
    },
    /**
     * Faults planned but not consumed yet.
     * @returns {number}
     */
    pending() {
      return planned.pending()
    },
    /**
     * End every fault: planned ones, failAlways, random cuts, hangAll (and drop the hung
     * connections), stale reads, lies, onFirst hooks not fired yet; held requests go on.
     */
    clearFaults() {
      planned.clear()
      api.stopCutting()
      api.release()
      api.staleAfterPut(0)
      lies.clear()
      challenges.set(undefined)
      dropDigest.set(false)
      redirect.clear()
      otherBytes.set(false, 'manifests')
      headDigest.set(undefined)
      bearerRealm.set(undefined)
      redirectLoop.clear()
      answerNext.clear()
      cutBody.clear()
      chunkedBlobs.set(false)
      bearerService.set(undefined)
      manifestRedirect.clear()
      firstHooks.drop('onFirst: cleared before a matching request arrived')
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
      redirect.reset()
      manifestRedirect.reset()
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
      await new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject)
          resolve(undefined)
        })
      })
      isUp = true
    },
    async stop() {
      planned.clear()
      api.stopCutting()
      api.staleAfterPut(0)
      lies.clear()
      firstHooks.drop('onFirst: the proxy stopped')
      api.release()
      for (const s of sockets) s.destroy() // held requests then see a closed client and stop
      api.releaseHeld()
      agent.destroy()
      await redirect.stop()
      await manifestRedirect.stop()
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
