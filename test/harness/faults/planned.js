'use strict'
/**
 * Faults planned ahead and consumed by the next matching requests, in one queue: answer with a status
 * (failNext, failAlways), cut (cutNext), hang (hangNext, hangAll), go down (downWhen). A request takes
 * the first planned fault that matches it, whatever its kind.
 */
const { matches } = require('./common')

/**
 * @typedef {import('../proxy').Fault} Fault
 * @typedef {import('./common').Request} Request
 * @typedef {import('./common').Response} Response
 * @typedef {import('./common').LogEntry} LogEntry
 */

const REASONS = /** @type {Record<number, string>} */ ({
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout'
})

/**
 * @param {{down: () => void}} proxy  what a `down` fault does to the proxy
 */
function createPlanned(proxy) {
  /** @type {Fault[]} */
  let plan = []
  /** Sockets of hung requests, dropped by release(). @type {Set<import('node:net').Socket>} */
  const hung = new Set()

  /**
   * @param {Request} req
   * @returns {Fault | undefined}
   */
  function take(req) {
    const f = plan.find(x => x.left > 0 && matches(x.match, req))
    if (!f) return undefined
    f.left--
    plan = plan.filter(x => x.left > 0)
    return f
  }

  return {
    /** @param {Fault} fault */
    add(fault) {
      plan.push(fault)
    },
    /**
     * Apply the first planned fault that matches the request, if any.
     * @param {Request} req
     * @param {Response} res
     * @param {LogEntry} entry
     * @returns {boolean} whether a fault took the request
     */
    apply(req, res, entry) {
      const fault = take(req)
      if (!fault) return false
      entry.fault = true
      if (fault.kind === 'down') {
        entry.status = 'cut'
        req.socket.destroy()
        proxy.down()
        return true
      }
      if (fault.kind === 'hang') {
        entry.status = 'hang'
        hung.add(req.socket)
        req.resume()
        return true
      }
      if (fault.kind === 'cut') {
        entry.status = 'cut'
        req.socket.destroy()
        return true
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
      return true
    },
    /** How many requests are being held unanswered right now. */
    hanging() {
      return [...hung].filter(s => !s.destroyed).length
    },
    /** Drop the hung requests' connections, and end hangAll(). */
    release() {
      plan = plan.filter(f => !(f.kind === 'hang' && f.left === Infinity))
      for (const s of hung) s.destroy()
      hung.clear()
    },
    /** Faults planned but not consumed yet. */
    pending() {
      return plan.reduce((a, f) => a + f.left, 0)
    },
    /** Forget every planned fault (hung requests stay hung until release()). */
    clear() {
      plan = []
    }
  }
}

module.exports = { createPlanned }
