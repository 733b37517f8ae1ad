'use strict'
/** redirectNext(n, match): the next n matching requests are answered 307 to their own URL, a loop while it lasts. */
const { matches } = require('./common')

function createRedirectLoop() {
  /** @type {Array<{left: number, match?: import('./common').Match}>} */
  let plans = []
  return {
    /** @param {number} n @param {import('./common').Match} [match] */
    add(n, match) {
      plans.push({ left: n, match })
    },
    /**
     * Answers `req` with a 307 to itself if a plan wants it.
     * @param {import('./common').Request} req
     * @param {import('./common').Response} res
     * @param {import('./common').LogEntry} entry
     */
    apply(req, res, entry) {
      const plan = plans.find(p => p.left > 0 && matches(p.match, req))
      if (!plan) return false
      plan.left--
      req.resume()
      entry.fault = true
      entry.status = 307
      entry.mode = 'redirect-loop'
      res.writeHead(307, { location: String(req.url), 'content-length': '0' })
      res.end()
      return true
    },
    clear() {
      plans = []
    }
  }
}

module.exports = { createRedirectLoop }
