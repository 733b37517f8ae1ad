'use strict'
/**
 * A token server for registries with `auth: token` (distribution's token auth, what Docker Hub, GHCR,
 * Quay and Forgejo speak), on 127.0.0.1 with a free port. startRegistry({token}) starts one; a test
 * reads `registry.token.log` to count token fetches.
 *
 * It signs RS256 JWTs whose header carries the signing certificate (`x5c`), which distribution 2.8
 * verifies against its `rootcertbundle`. Grants:
 *   GET /token with Basic auth of a configured user    the requested actions the user is allowed;
 *                                                        a wrong password: 401
 *   GET /token without Authorization                    `pull` with `anonymousPull`, else a token with
 *                                                        no access (as Docker Hub does: the registry then
 *                                                        answers 401 insufficient_scope)
 *   POST /token grant_type=refresh_token                as for the user whose `refreshToken` it is
 *     (containers/image with an `identitytoken` in its auth file)
 *   POST /token grant_type=password&username&password  as for Basic; with access_type=offline the
 *                                                        answer carries the user's refreshToken
 *   a POST with an unknown refresh token or a wrong password: 400 invalid_grant (RFC 6749 5.2)
 *   a POST that is not a form (application/x-www-form-urlencoded) or has no client_id: 400
 *     invalid_request, as distribution's token spec asks ("client_id: required")
 * answerAs(shape) makes the 200 answers another shape until answerAs(undefined): OAuth2's
 * `access_token` alone, no token, something other than JSON (what other token servers send).
 * Scopes come from every `scope` parameter, each split on spaces (OAuth2 style).
 * The registry accepts a token for 60 s past its `exp` (distribution's leeway).
 */
const { X509Certificate, createPrivateKey, randomUUID, sign: signData } = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const { listenOnOwnPort } = require('./ports')

/**
 * @typedef {{user: string, password: string, refreshToken?: string, actions?: string[]}} TokenUser
 *   `actions`: what the user may do in any repository (default pull, push, delete)
 * @typedef {{type: string, name: string, actions: string[]}} Access
 * @typedef {{method: string, path: string, grant: 'basic' | 'refresh' | 'password' | 'anonymous' | 'none',
 *   account: string | undefined, user: string | undefined, service: string | undefined, clientId: string | undefined,
 *   userAgent: string, scopes: string[], access: Access[], status: number, conn: number}} TokenRequest
 *   `grant` 'none': no credentials understood (bad grant_type, unknown path); `access`: what the token grants;
 *   `clientId`: a POST's client_id; `userAgent`: who asked (the reader, skopeo, buildah)
 * @typedef {(issued: {token: string, expiresIn: number}) => string | object} TokenShape
 *   the body of a 200 answer made from the token issued: a string is sent as it is (text/plain), anything else as JSON
 * @typedef {{users?: TokenUser[], anonymousPull?: boolean, expiresIn?: number, service?: string, issuer?: string}} TokenOptions
 */

const DEFAULT_ACTIONS = ['pull', 'push', 'delete']

/** @param {Buffer | string} b */
const b64url = b => Buffer.from(b).toString('base64url')

/**
 * `<type>:<name>:<actions>`, e.g. `repository:a/b:pull,push` or `registry:catalog:*`.
 * @param {string} scope
 * @returns {Access | undefined}
 */
function parseScope(scope) {
  const first = scope.indexOf(':')
  const last = scope.lastIndexOf(':')
  if (first < 0 || last === first) return undefined
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean)
  }
}

/**
 * @param {TokenOptions & {certFile: string, keyFile: string}} opts  the signing certificate (self-signed,
 *   also the registry's rootcertbundle) and its private key, PEM
 */
async function startTokenServer(opts) {
  const users = opts.users ?? []
  const service = opts.service ?? 'multiarch-publish-test'
  const issuer = opts.issuer ?? 'multiarch-publish-test-issuer'
  const key = createPrivateKey(fs.readFileSync(opts.keyFile))
  const certDer = new X509Certificate(fs.readFileSync(opts.certFile)).raw.toString('base64')
  /** @type {TokenRequest[]} */
  const log = []
  let lifetime = opts.expiresIn ?? 300
  /** @type {TokenShape | undefined} */
  let shape
  let conns = 0
  /** @type {WeakMap<import('node:net').Socket, number>} */
  const connIds = new WeakMap()

  /**
   * @param {string | undefined} sub
   * @param {Access[]} access
   * @param {number} expiresIn
   */
  function sign(sub, access, expiresIn) {
    const now = Math.floor(Date.now() / 1000)
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] }
    const claims = { iss: issuer, sub: sub ?? '', aud: service, exp: now + expiresIn, nbf: now, iat: now, jti: randomUUID(), access }
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
    return `${input}.${b64url(signData('sha256', Buffer.from(input), key))}`
  }

  /**
   * What `user` (undefined: anonymous) gets of the requested scopes.
   * @param {TokenUser | undefined} user
   * @param {string[]} scopes
   * @returns {Access[]}
   */
  function grant(user, scopes) {
    const allowed = user ? (user.actions ?? DEFAULT_ACTIONS) : api.anonymousPull ? ['pull'] : []
    /** @type {Access[]} */
    const out = []
    for (const s of scopes) {
      const a = parseScope(s)
      if (!a || a.type !== 'repository') continue
      const actions = a.actions.filter(x => allowed.includes(x))
      if (actions.length > 0) out.push({ ...a, actions })
    }
    return out
  }

  /**
   * @param {http.ServerResponse} res
   * @param {number} status
   * @param {object} body
   */
  function json(res, status, body) {
    const bytes = Buffer.from(JSON.stringify(body))
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(bytes.length) })
    res.end(bytes)
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {string} body
   * @param {TokenRequest} entry
   * @param {http.ServerResponse} res
   */
  function answer(req, body, entry, res) {
    const url = new URL(String(req.url), 'http://token')
    const params = req.method === 'POST' ? new URLSearchParams(body) : url.searchParams
    entry.service = params.get('service') ?? undefined
    entry.account = params.get('account') ?? params.get('username') ?? undefined
    entry.scopes = params
      .getAll('scope')
      .flatMap(s => s.split(' '))
      .filter(Boolean)
    if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'POST')) {
      entry.status = 404
      return json(res, 404, { details: 'not found' })
    }
    /** @type {TokenUser | undefined} */
    let user
    /** @type {string | undefined} */
    let refreshToken
    if (req.method === 'GET') {
      const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')
      if (req.headers.authorization && !m) {
        entry.status = 401
        return json(res, 401, { details: 'unsupported authorization' })
      }
      if (m) {
        entry.grant = 'basic'
        const decoded = Buffer.from(m[1], 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        const name = decoded.slice(0, colon)
        user = users.find(u => colon >= 0 && u.user === name && u.password === decoded.slice(colon + 1))
        if (!user) {
          entry.status = 401
          return json(res, 401, { details: 'incorrect username or password' })
        }
      } else {
        entry.grant = 'anonymous'
      }
    } else {
      entry.clientId = params.get('client_id') ?? undefined
      if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '') || !entry.clientId) {
        entry.status = 400
        return json(res, 400, { error: 'invalid_request' })
      }
      const type = params.get('grant_type')
      if (type === 'refresh_token') {
        entry.grant = 'refresh'
        user = users.find(u => u.refreshToken !== undefined && u.refreshToken === params.get('refresh_token'))
      } else if (type === 'password') {
        entry.grant = 'password'
        user = users.find(u => u.user === params.get('username') && u.password === params.get('password'))
        if (user && params.get('access_type') === 'offline') refreshToken = user.refreshToken
      }
      if (!user) {
        entry.status = 400
        return json(res, 400, { error: 'invalid_grant' })
      }
    }
    entry.user = user?.user
    entry.access = grant(user, entry.scopes)
    const token = sign(user?.user, entry.access, lifetime)
    entry.status = 200
    if (shape) {
      const body = shape({ token, expiresIn: lifetime })
      if (typeof body !== 'string') return json(res, 200, body)
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(body)) })
      return res.end(body)
    }
    json(res, 200, {
      token,
      access_token: token,
      expires_in: lifetime,
      issued_at: new Date().toISOString(),
      ...(refreshToken ? { refresh_token: refreshToken } : {})
    })
  }

  const server = http.createServer((req, res) => {
    /** @type {TokenRequest} */
    const entry = {
      method: String(req.method),
      path: String(req.url),
      grant: 'none',
      account: undefined,
      user: undefined,
      service: undefined,
      clientId: undefined,
      userAgent: req.headers['user-agent'] ?? '',
      scopes: [],
      access: [],
      status: 0,
      conn: connIds.get(req.socket) ?? 0
    }
    log.push(entry)
    /** @type {Buffer[]} */
    const chunks = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => answer(req, Buffer.concat(chunks).toString('utf8'), entry, res))
  })
  server.on('connection', s => connIds.set(s, ++conns))
  const port = await listenOnOwnPort(server, '127.0.0.1')
  const url = `http://127.0.0.1:${port}`

  const api = {
    url,
    /** What the registry's challenge names as realm. */
    realm: `${url}/token`,
    service,
    issuer,
    /** The signing certificate: the registry's rootcertbundle. */
    certFile: opts.certFile,
    users,
    /** Every token request, in order. */
    log,
    /** Whether anonymous requests get `pull` from now on (else a token with no access). */
    anonymousPull: !!opts.anonymousPull,
    /** Lifetime (s) of the tokens issued from now on: `expires_in` and the JWT's `exp`. */
    get expiresIn() {
      return lifetime
    },
    set expiresIn(s) {
      lifetime = s
    },
    /**
     * From now on until answerAs(undefined), each 200 answer's body is `next(issued)` instead of
     * distribution's `{token, access_token, expires_in, issued_at}`.
     * @param {TokenShape | undefined} next
     */
    answerAs(next) {
      shape = next
    },
    /**
     * Token requests that asked for `scope` (all requests without an argument), whatever their outcome.
     * @param {string} [scope]  e.g. `repository:a/b:pull,push`
     */
    count(scope) {
      return scope === undefined ? log.length : log.filter(e => e.scopes.includes(scope)).length
    },
    /** A token as the server would issue it, with the given access (for tests that talk HTTP themselves). */
    issue(/** @type {string | undefined} */ sub, /** @type {Access[]} */ access, expiresIn = lifetime) {
      return sign(sub, access, expiresIn)
    },
    async stop() {
      if (!server.listening) return
      const closed = new Promise(resolve => server.close(() => resolve(undefined)))
      server.closeAllConnections()
      await closed
    }
  }
  return api
}

module.exports = { startTokenServer }
