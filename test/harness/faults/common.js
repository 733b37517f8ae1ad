'use strict'
/**
 * What the faults of test/harness/proxy.js share: request matching, and the proxy's way to the registry
 * (`Upstream`), which the faults that change answers go through.
 */
const { createHash } = require('node:crypto')

/**
 * @typedef {import('../proxy').Match} Match
 * @typedef {import('../proxy').LogEntry} LogEntry
 * @typedef {import('../proxy').Buffered} Buffered
 * @typedef {import('node:http').IncomingMessage} Request
 * @typedef {import('node:http').ServerResponse} Response
 * @typedef {import('node:http').OutgoingHttpHeaders} Headers
 */

/**
 * The proxy's way to the registry, as the faults use it.
 * @typedef {object} Upstream
 * @property {(method: string, path: string, headers: Headers) => Promise<Buffered>} fetch  one buffered request to the registry
 * @property {(req: Request, res: Response, entry: LogEntry, onResponse?: (ures: Request) => void) => void} forward
 *   pass the request through and the answer back (`onResponse` is called before the answer goes back)
 * @property {(method: string, status: number, headers: Headers, entry: LogEntry) => void} rewrite
 *   the header faults (challenges(), dropDigestOnHead()) on an answer the proxy makes up itself
 */

/**
 * @param {Match | undefined} m
 * @param {Request} req
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

/** A manifest by digest (`sha256:...`), not by tag. */
const MANIFEST_BY_DIGEST = /^\/v2\/.+\/manifests\/[a-z0-9+._-]+:[a-fA-F0-9]+(?:\?.*)?$/
/** A blob by digest (not an upload: `/blobs/uploads/...`). */
const BLOB_PATH = /^\/v2\/.+\/blobs\/[a-z0-9+._-]+:[a-zA-Z0-9=_-]+(?:\?.*)?$/

/** The media types of an index / manifest list. */
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']

/** @param {Buffer} b */
const sha256 = b => 'sha256:' + createHash('sha256').update(b).digest('hex')

/**
 * Drop the hop-by-hop headers of a buffered answer, which a new answer with its own Content-Length must not carry.
 * @param {Headers} headers
 */
function dropHopByHop(headers) {
  delete headers['transfer-encoding']
  delete headers.connection
  delete headers['keep-alive']
}

/**
 * The "next n matching requests" of a fault: plans added with their count, each request taking the
 * first plan that still has one left and matches it.
 * @template {{left: number, match?: Match}} P
 */
function countedPlans() {
  /** @type {P[]} */
  let plans = []
  return {
    /** @param {P} plan */
    add(plan) {
      plans.push(plan)
    },
    /**
     * The plan that takes `req` (one of its count used up), or undefined.
     * @param {Request} req
     * @returns {P | undefined}
     */
    take(req) {
      const plan = plans.find(p => p.left > 0 && matches(p.match, req))
      if (plan) plan.left--
      return plan
    },
    clear() {
      plans = []
    }
  }
}

module.exports = { countedPlans, matches, sha256, dropHopByHop, INDEX_TYPES, MANIFEST_BY_DIGEST, BLOB_PATH }
