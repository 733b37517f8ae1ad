'use strict'
/**
 * otherBytesByDigest(): a GET of a manifest (or blob) by digest is answered with other bytes (its JSON
 * indented) under the digest asked for, as a broken cache or a tampering mirror would.
 */
const { dropHopByHop, MANIFEST_BY_DIGEST, BLOB_PATH } = require('./common')

/** @param {import('./common').Upstream} upstream */
function createOtherBytes(upstream) {
  /** @type {false | 'manifests' | 'blobs'} */
  let otherBytes = false
  return {
    /**
     * @param {boolean} on
     * @param {'manifests' | 'blobs'} what
     */
    set(on, what) {
      otherBytes = on ? what : false
    },
    /**
     * Whether this request gets other bytes.
     * @param {string} method  upper case
     * @param {string} url
     */
    wants(method, url) {
      return method === 'GET' && !!(otherBytes === 'manifests' ? MANIFEST_BY_DIGEST : otherBytes === 'blobs' ? BLOB_PATH : null)?.test(url)
    },
    /**
     * The registry's answer, its JSON indented (other bytes, same meaning), still under the digest asked for.
     * @param {import('./common').Request} req
     * @param {import('./common').Response} res
     * @param {import('./common').LogEntry} entry
     */
    async serve(req, res, entry) {
      const { 'content-length': _len, 'transfer-encoding': _te, ...asked } = req.headers // eslint-disable-line @typescript-eslint/no-unused-vars
      const src = await upstream.fetch('GET', String(req.url), asked)
      let body = src.body
      if (src.status === 200) {
        body = Buffer.from(`${JSON.stringify(JSON.parse(body.toString('utf8')), null, 2)}\n`)
        entry.fault = true
        entry.mode = 'other-bytes'
      }
      /** @type {import('./common').Headers} */
      const headers = { ...src.headers, 'content-length': String(body.length) }
      dropHopByHop(headers)
      entry.status = src.status
      res.writeHead(src.status, headers)
      res.end(body)
    }
  }
}

module.exports = { createOtherBytes }
