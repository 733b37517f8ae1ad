'use strict'
/**
 * answerNext(n, status, body, match): the next n matching requests are answered `status` with `body`
 * (JSON), such as an error document without messages that no registry the harness runs sends.
 */
const { matches } = require('./common')

function createAnswerNext() {
  /** @type {Array<{left: number, status: number, body: string, match?: import('./common').Match}>} */
  let plans = []
  return {
    /** @param {number} n @param {number} status @param {string} body @param {import('./common').Match} [match] */
    add(n, status, body, match) {
      plans.push({ left: n, status, body, match })
    },
    /**
     * Answers `req` if a plan wants it.
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
      entry.status = plan.status
      entry.mode = 'answer'
      res.writeHead(plan.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(plan.body)) })
      res.end(plan.body)
      return true
    },
    clear() {
      plans = []
    }
  }
}

module.exports = { createAnswerNext }
