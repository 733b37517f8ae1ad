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
 * can target, say, only uploads. Counters: `proxy.counts` (per method and `total`), `proxy.log`.
 */
const http = require('node:http')

/**
 * @typedef {{method?: string | string[], path?: RegExp | string}} Match
 * @typedef {{kind: 'status', status: number, left: number, match?: Match, retryAfter?: number}
 *   | {kind: 'cut', left: number, match?: Match}
 *   | {kind: 'down', left: number, match?: Match}
 *   | {kind: 'hang', left: number, match?: Match}} Fault
 * @typedef {{method: string, path: string, status: number | 'cut' | 'hang' | 'error', fault: boolean}} LogEntry
 */

/**
 * @param {Match | undefined} m
 * @param {http.IncomingMessage} req
 */
function matches (m, req) {
  if (!m) return true
  if (m.method) {
    const methods = Array.isArray(m.method) ? m.method : [m.method]
    if (!methods.map((x) => x.toUpperCase()).includes(String(req.method).toUpperCase())) return false
  }
  if (m.path) {
    const p = String(req.url)
    if (typeof m.path === 'string' ? !p.includes(m.path) : !m.path.test(p)) return false
  }
  return true
}

const REASONS = /** @type {Record<number, string>} */ ({
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'
})

/**
 * @param {{target: string, latencyMs?: number, port?: number}} opts  target is `host:port` of the registry
 */
async function startProxy (opts) {
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

  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

  /**
   * @param {http.IncomingMessage} req
   * @returns {Fault | undefined}
   */
  function takeFault (req) {
    const f = plan.find((x) => x.left > 0 && matches(x.match, req))
    if (!f) return undefined
    f.left--
    plan = plan.filter((x) => x.left > 0)
    return f
  }

  const server = http.createServer((req, res) => {
    const method = String(req.method)
    counts[method] = (counts[method] ?? 0) + 1
    counts.total++
    /** @type {LogEntry} */
    const entry = { method, path: String(req.url), status: 'error', fault: false }
    log.push(entry)
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
      const body = JSON.stringify({ errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: `injected ${fault.status}`, detail: null }] })
      /** @type {Record<string, string>} */
      const headers = { 'Content-Type': fault.status === 429 ? 'application/json' : 'text/html', 'Content-Length': String(Buffer.byteLength(body)) }
      if (fault.status === 429) headers['Retry-After'] = String(fault.retryAfter ?? 1)
      res.writeHead(fault.status, REASONS[fault.status] ?? 'Injected', headers)
      res.end(body)
      return
    }
    const forward = () => {
      const headers = { ...req.headers }
      const up = http.request({ host: targetHost, port: targetPort, method, path: req.url, headers, agent }, (ures) => {
        entry.status = ures.statusCode ?? 0
        const out = { ...ures.headers }
        if (typeof out.location === 'string') {
          out.location = out.location
            .replace(`http://${opts.target}`, `http://${selfHost}`)
            .replace(`//${opts.target}/`, `//${selfHost}/`)
        }
        res.writeHead(ures.statusCode ?? 502, ures.statusMessage, out)
        ures.pipe(res)
      })
      up.on('error', () => { entry.status = 'error'; req.socket.destroy() })
      req.pipe(up)
    }
    if (latencyMs > 0) setTimeout(forward, latencyMs)
    else forward()
  })
  server.keepAliveTimeout = 5000
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })

  /** @param {number} port */
  const listen = (port) => new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(undefined) })
  })
  await listen(opts.port ?? 0)
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port
  selfHost = `127.0.0.1:${port}`

  const api = {
    host: selfHost,
    url: `http://${selfHost}`,
    port,
    target: opts.target,
    counts,
    log,
    /** Answer the next `n` matching requests with `status` (503, 429, 502, ...). */
    failNext (/** @type {number} */ n, status = 503, /** @type {Match & {retryAfter?: number}} */ match = {}) {
      const { retryAfter, ...m } = match
      plan.push({ kind: 'status', status, left: n, match: m, retryAfter })
    },
    /** Destroy the socket of the next `n` matching requests without answering. */
    cutNext (/** @type {number} */ n, /** @type {Match} */ match = {}) {
      plan.push({ kind: 'cut', left: n, match })
    },
    /** Accept the next `n` matching requests and never answer them (see `hanging()`, `release()`). */
    hangNext (/** @type {number} */ n, /** @type {Match} */ match = {}) {
      plan.push({ kind: 'hang', left: n, match })
    },
    /** How many requests are being held unanswered right now. */
    hanging () { return [...hung].filter((s) => !s.destroyed).length },
    /** Drop the held requests' connections. */
    release () {
      for (const s of hung) s.destroy()
      hung.clear()
    },
    /** Go down (refuse connections) when the first request matching `match` arrives. */
    downWhen (/** @type {Match} */ match) {
      plan.push({ kind: 'down', left: 1, match })
    },
    /** Faults planned but not consumed yet. */
    pending () { return plan.reduce((a, f) => a + f.left, 0) },
    clearFaults () { plan = [] },
    setLatency (/** @type {number} */ ms) { latencyMs = ms },
    /** Zero the counters and the log. */
    reset () {
      for (const k of Object.keys(counts)) delete counts[k]
      counts.total = 0
      log.length = 0
    },
    /** Requests seen for one method (0 if none). */
    count (/** @type {string} */ method) { return counts[method.toUpperCase()] ?? 0 },
    /** Writes seen: POST + PUT + PATCH + DELETE. */
    writes () { return api.count('POST') + api.count('PUT') + api.count('PATCH') + api.count('DELETE') },
    isUp () { return isUp },
    /** Refuse connections: close the listener and drop open connections. */
    async down () {
      if (!isUp) return
      isUp = false
      const closed = new Promise((resolve) => server.close(() => resolve(undefined)))
      for (const s of sockets) s.destroy()
      await closed
    },
    /** Serve again on the same port. */
    async up () {
      if (isUp) return
      await listen(port)
      isUp = true
    },
    async stop () {
      plan = []
      api.release()
      agent.destroy()
      if (isUp) {
        isUp = false
        const closed = new Promise((resolve) => server.close(() => resolve(undefined)))
        for (const s of sockets) s.destroy()
        await closed
      }
    }
  }
  return api
}

module.exports = { startProxy }
