'use strict'
/**
 * answerNext(n, status, body, match): the next n matching requests are answered `status` with `body`
 * (JSON), such as an error document without messages that no registry the harness runs sends.
 */
const { countedPlans } = require('./common')

function createAnswerNext() {
  /** @type {ReturnType<typeof countedPlans<{left: number, status: number, body: string, match?: import('./common').Match}>>} */
  const plans = countedPlans()
  return {
    /** @param {number} n @param {number} status @param {string} body @param {import('./common').Match} [match] */
    add(n, status, body, match) {
      plans.add({ left: n, status, body, match })
    },
    /**
     * Answers `req` if a plan wants it.
     * @param {import('./common').Request} req
     * @param {import('./common').Response} res
     * @param {import('./common').LogEntry} entry
     */
    apply(req, res, entry) {
      const plan = plans.take(req)
      if (!plan) return false
      req.resume()
      entry.fault = true
      entry.status = plan.status
      entry.mode = 'answer'
      res.writeHead(plan.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(plan.body)) })
      res.end(plan.body)
      return true
    },
    clear() {
      plans.clear()
    }
  }
}

module.exports = { createAnswerNext }
