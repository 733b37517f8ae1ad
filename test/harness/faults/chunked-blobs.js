'use strict'
/**
 * chunkedBlobs(): blob GETs answered 200 come without Content-Length, in chunks (Transfer-Encoding:
 * chunked), as from a registry that streams from its storage.
 */
const { BLOB_PATH, dropHopByHop } = require('./common')

/** @param {import('./common').Upstream} upstream */
function createChunkedBlobs(upstream) {
  let on = false
  return {
    /** @param {boolean} value */
    set(value) {
      on = value
    },
    /** @param {string} method @param {string} url */
    wants(method, url) {
      return on && method === 'GET' && BLOB_PATH.test(url)
    },
    /**
     * @param {import('./common').Request} req
     * @param {import('./common').Response} res
     * @param {import('./common').LogEntry} entry
     */
    async serve(req, res, entry) {
      req.resume()
      const up = await upstream.fetch('GET', String(req.url), req.headers)
      entry.status = up.status
      /** @type {import('./common').Headers} */
      const headers = { ...up.headers }
      dropHopByHop(headers)
      if (up.status !== 200) {
        res.writeHead(up.status, { ...headers, 'content-length': String(up.body.length) })
        return res.end(up.body)
      }
      entry.mode = 'chunked'
      delete headers['content-length']
      res.writeHead(200, headers)
      const half = Math.floor(up.body.length / 2)
      res.write(up.body.subarray(0, half))
      res.end(up.body.subarray(half))
    }
  }
}

module.exports = { createChunkedBlobs }
