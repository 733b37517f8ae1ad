'use strict'
/**
 * lie(): reads of a list by tag get a doctored list, with its own digest, and what serves a manifest by
 * tag from buffered bytes (for the lies and for staleAfterPut()'s old manifest).
 */
const { matches, sha256, dropHopByHop, INDEX_TYPES } = require('./common')

/**
 * @typedef {import('../proxy').Match} Match
 * @typedef {import('../proxy').LieKind} LieKind
 * @typedef {import('./common').Buffered} Buffered
 * @typedef {import('./common').Request} Request
 * @typedef {import('./common').Response} Response
 * @typedef {import('./common').LogEntry} LogEntry
 * @typedef {import('./common').Headers} Headers
 */

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

function createLies() {
  /** @type {Array<{kind: LieKind, match?: Match}>} */
  let lies = []
  return {
    /**
     * @param {LieKind} kind
     * @param {Match | undefined} match
     */
    add(kind, match) {
      applyLie(kind, { manifests: [] }) // unknown kinds throw here, not in the middle of a request
      lies.push({ kind, match })
    },
    /**
     * The lies told to this request, in the order given.
     * @param {Request} req
     */
    kindsFor(req) {
      return lies.filter(l => matches(l.match, req)).map(l => l.kind)
    },
    clear() {
      lies = []
    }
  }
}

/**
 * GET/HEAD of a manifest by tag while it is stale or lied about: answer from buffered bytes.
 * @param {import('./common').Upstream} upstream
 * @param {Request} req
 * @param {Response} res
 * @param {LogEntry} entry
 * @param {{old: Buffered | null} | undefined} st  the stale window of the tag, if any
 * @param {LieKind[]} kinds
 * @param {string} tag
 */
async function serveManifest(upstream, req, res, entry, st, kinds, tag) {
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
    src = await upstream.fetch('GET', String(req.url), headers)
  }
  let body = src.body
  /** @type {Headers} */
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
  dropHopByHop(headers)
  headers['content-length'] = String(body.length)
  upstream.rewrite(String(req.method).toUpperCase(), src.status, headers, entry)
  entry.status = src.status
  res.writeHead(src.status, headers)
  res.end(req.method === 'HEAD' ? undefined : body)
}

module.exports = { createLies, serveManifest }
