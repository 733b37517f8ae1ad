'use strict'
/**
 * redirectBlobs(): a blob GET is answered 307 to a store on 127.0.0.2 (like S3 or a CDN) that serves
 * the bytes to a request without credentials and refuses one with an Authorization header, as S3 does.
 */
const http = require('node:http')
const { createHash, randomBytes } = require('node:crypto')
const { dropHopByHop, BLOB_PATH } = require('./common')
const { listenOnOwnPort } = require('../ports')

/**
 * @typedef {import('./common').Request} Request
 * @typedef {import('./common').Response} Response
 * @typedef {import('./common').LogEntry} LogEntry
 * @typedef {import('./common').Headers} Headers
 */

/** What S3 says to a presigned URL fetched with an Authorization header too. */
const S3_TWO_AUTHS =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified'

/**
 * @param {import('./common').Upstream} upstream
 * @param {{connId: (s: import('node:net').Socket) => number, onConnection: (s: import('node:net').Socket) => void}} conns
 *   the proxy's connection numbers, which the store's connections share
 */
function createBlobRedirect(upstream, conns) {
  let redirecting = false
  /** The blob store on 127.0.0.2, listening once the first enable() resolves. @type {Promise<{server: http.Server, base: string}> | undefined} */
  let blobStore
  /** Redirect key → blob bytes, kept until stop() so a Location stays valid. @type {Map<string, Buffer>} */
  const stored = new Map()
  /** Requests to the blob store, with their `conn`. @type {LogEntry[]} */
  const blobLog = []
  let refusedAuth = 0

  /**
   * The blob store's answers, as S3's: the bytes for a known key without credentials, 400 to a
   * request with an Authorization header, 403 to an unknown key.
   * @param {Request} req
   * @param {Response} res
   */
  function serveStored(req, res) {
    /** @type {LogEntry} */
    const entry = { method: String(req.method), path: String(req.url), status: 'error', fault: false, conn: conns.connId(req.socket) }
    if (req.headers.accept !== undefined) entry.accept = req.headers.accept
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

  async function startBlobStore() {
    const server = http.createServer(serveStored)
    server.on('connection', conns.onConnection)
    return { server, base: `http://127.0.0.2:${await listenOnOwnPort(server, '127.0.0.2')}` }
  }

  return {
    blobLog,
    /**
     * @param {boolean} on
     * @returns {Promise<void>} once the store listens (when on)
     */
    async enable(on) {
      redirecting = on
      if (on) {
        blobStore ??= startBlobStore()
        await blobStore
      }
    },
    /**
     * Whether this request is redirected.
     * @param {string} method  upper case
     * @param {string} url
     */
    wants(method, url) {
      return redirecting && method === 'GET' && BLOB_PATH.test(url)
    },
    /**
     * Read the blob from the registry with the client's credentials and send the client to the store
     * for the bytes; other answers (401, 404) go back as they are.
     * @param {Request} req
     * @param {Response} res
     * @param {LogEntry} entry
     */
    async redirect(req, res, entry) {
      req.resume()
      const { base } = await /** @type {Promise<{base: string}>} */ (blobStore)
      /** @type {Headers} */
      const headers = {}
      for (const h of ['authorization', 'accept', 'user-agent']) if (req.headers[h]) headers[h] = req.headers[h]
      const got = await upstream.fetch('GET', String(req.url), headers)
      let body = got.body
      /** @type {Headers} */
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
        dropHopByHop(out)
        upstream.rewrite('GET', got.status, out, entry)
      }
      out['content-length'] = String(body.length)
      res.writeHead(entry.status, out)
      res.end(body)
    },
    /** Stop redirecting (the store stays up, so Locations given out stay valid). */
    clear() {
      redirecting = false
    },
    /** Requests the blob store refused for carrying an Authorization header. */
    refusedForAuth() {
      return refusedAuth
    },
    /** Zero the log and the refusals. */
    reset() {
      blobLog.length = 0
      refusedAuth = 0
    },
    /** Stop redirecting, and close the store (its keys are forgotten). */
    async stop() {
      redirecting = false
      const store = await blobStore?.catch(() => undefined) // one that failed to start was reported then
      blobStore = undefined
      stored.clear()
      if (store) {
        const closed = new Promise(resolve => store.server.close(() => resolve(undefined)))
        store.server.closeAllConnections()
        await closed
      }
    }
  }
}

module.exports = { createBlobRedirect }
