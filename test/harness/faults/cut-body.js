'use strict'
/**
 * cutBodyNext(n, match): the next n matching requests get the registry's status line and headers (its
 * full Content-Length) and half of its body, then the connection is destroyed: an answer cut mid-body.
 */
const { countedPlans, dropHopByHop } = require('./common')

/** @param {import('./common').Upstream} upstream */
function createCutBody(upstream) {
  /** @type {ReturnType<typeof countedPlans<{left: number, match?: import('./common').Match}>>} */
  const plans = countedPlans()
  return {
    /** @param {number} n @param {import('./common').Match} [match] */
    add(n, match) {
      plans.add({ left: n, match })
    },
    /**
     * Takes `req` if a plan wants it.
     * @param {import('./common').Request} req
     * @param {import('./common').Response} res
     * @param {import('./common').LogEntry} entry
     */
    apply(req, res, entry) {
      const plan = plans.take(req)
      if (!plan) return false
      req.resume()
      entry.fault = true
      entry.mode = 'cut-body'
      upstream.fetch(String(req.method), String(req.url), req.headers).then(
        up => {
          entry.status = 'cut'
          /** @type {import('./common').Headers} */
          const headers = { ...up.headers, 'content-length': String(up.body.length) }
          dropHopByHop(headers)
          res.writeHead(up.status, headers)
          // Destroyed only once the half is on its way, so the client has read it when the connection ends.
          res.write(up.body.subarray(0, Math.floor(up.body.length / 2)), () => req.socket.destroy())
        },
        () => req.socket.destroy()
      )
      return true
    },
    clear() {
      plans.clear()
    }
  }
}

module.exports = { createCutBody }
