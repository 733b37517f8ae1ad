'use strict'
/** redirectNext(n, match): the next n matching requests are answered 307 to their own URL, a loop while it lasts. */
const { countedPlans } = require('./common')

function createRedirectLoop() {
  /** @type {ReturnType<typeof countedPlans<{left: number, match?: import('./common').Match}>>} */
  const plans = countedPlans()
  return {
    /** @param {number} n @param {import('./common').Match} [match] */
    add(n, match) {
      plans.add({ left: n, match })
    },
    /**
     * Answers `req` with a 307 to itself if a plan wants it.
     * @param {import('./common').Request} req
     * @param {import('./common').Response} res
     * @param {import('./common').LogEntry} entry
     */
    apply(req, res, entry) {
      const plan = plans.take(req)
      if (!plan) return false
      req.resume()
      entry.fault = true
      entry.status = 307
      entry.mode = 'redirect-loop'
      res.writeHead(307, { location: String(req.url), 'content-length': '0' })
      res.end()
      return true
    },
    clear() {
      plans.clear()
    }
  }
}

module.exports = { createRedirectLoop }
