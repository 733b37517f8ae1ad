'use strict'
/**
 * staleAfterPut(): after a PUT of a manifest by tag, reads of that tag serve what it served before
 * (404 if nothing) for a while, like a registry whose reads lag its writes.
 */
const { matches, INDEX_TYPES } = require('./common')

/**
 * @typedef {import('../proxy').Match} Match
 * @typedef {import('./common').Buffered} Buffered
 * @typedef {import('./common').Request} Request
 * @typedef {import('./common').Response} Response
 * @typedef {import('./common').LogEntry} LogEntry
 * @typedef {import('./common').Headers} Headers
 */

/** What a client that takes any manifest sends (used to read the manifest a PUT replaces). */
const ACCEPT_ANY_MANIFEST = [
  ...INDEX_TYPES,
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json'
].join(', ')

/** @param {import('./common').Upstream} upstream */
function createStaleReads(upstream) {
  let staleMs = 0
  /** @type {Match | undefined} */
  let staleMatch
  /** `name:tag` → what a lagging replica still serves (null: 404) and until when. @type {Map<string, {old: Buffered | null, until: number}>} */
  const stale = new Map()

  /** @param {string} key  `name:tag` */
  function active(key) {
    const s = stale.get(key)
    if (s && Date.now() < s.until) return s
    stale.delete(key)
    return undefined
  }

  return {
    /**
     * @param {number} ms  0 turns it off and forgets the windows
     * @param {Match | undefined} match  only PUTs matching this start a window
     */
    set(ms, match) {
      staleMs = ms
      staleMatch = match
      if (ms <= 0) stale.clear()
    },
    active,
    /**
     * Whether a PUT of a manifest by tag starts a window.
     * @param {Request} req
     */
    wantsPut(req) {
      return staleMs > 0 && matches(staleMatch, req)
    },
    /**
     * PUT of a manifest by tag: remember what the tag served before, then forward.
     * @param {Request} req
     * @param {Response} res
     * @param {LogEntry} entry
     * @param {string} key  `name:tag`
     * @param {string} path  `/v2/<name>/manifests/<tag>`
     */
    async forwardPut(req, res, entry, key, path) {
      /** @type {Buffered | null} */
      let old
      const current = active(key)
      if (current) {
        // A lagging replica still has what it had before the first PUT of the window.
        old = current.old
      } else {
        /** @type {Headers} */
        const headers = { accept: ACCEPT_ANY_MANIFEST }
        if (req.headers.authorization) headers.authorization = req.headers.authorization
        const got = await upstream.fetch('GET', path, headers)
        if (got.status !== 200 && got.status !== 404) {
          upstream.forward(req, res, entry) // cannot tell what was there (401?): no stale window
          return
        }
        old = got.status === 200 ? got : null
      }
      const ms = staleMs
      upstream.forward(req, res, entry, ures => {
        const status = ures.statusCode ?? 0
        if (status >= 200 && status < 300 && ms > 0) stale.set(key, { old, until: Date.now() + ms })
      })
    }
  }
}

module.exports = { createStaleReads }
