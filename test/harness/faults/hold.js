'use strict'
/** holdWhen(): hold matching requests, neither answered nor forwarded, until releaseHeld(). */
const { matches } = require('./common')

/**
 * @typedef {import('../proxy').Match} Match
 * @typedef {import('./common').Request} Request
 * @typedef {import('./common').LogEntry} LogEntry
 */

function createHold() {
  /** @type {Match | undefined} */
  let holdMatch
  /** @type {Array<{socket: import('node:net').Socket, go: () => void}>} */
  let heldReqs = []
  /** @type {Array<{n: number, resolve: () => void}>} */
  let waiters = []

  function heldNow() {
    return heldReqs.filter(h => !h.socket.destroyed).length
  }
  function notify() {
    const n = heldNow()
    waiters = waiters.filter(w => {
      if (n >= w.n) w.resolve()
      return n < w.n
    })
  }

  return {
    /** @param {Match} match */
    when(match) {
      holdMatch = match
    },
    /**
     * Whether the request is to be held.
     * @param {Request} req
     */
    holds(req) {
      return !!holdMatch && matches(holdMatch, req)
    },
    /**
     * Hold the request until release().
     * @param {Request} req
     * @param {LogEntry} entry
     */
    async wait(req, entry) {
      entry.status = 'held'
      await new Promise(resolve => {
        heldReqs.push({ socket: req.socket, go: () => resolve(undefined) })
        notify()
      })
    },
    /** Stop holding, and let the held requests go on. */
    release() {
      holdMatch = undefined
      const go = heldReqs
      heldReqs = []
      for (const h of go) h.go()
    },
    held: heldNow,
    /**
     * @param {number} n
     * @returns {Promise<void>} once at least `n` requests are held
     */
    whenHeld(n) {
      return new Promise(resolve => {
        waiters.push({ n, resolve: () => resolve(undefined) })
        notify()
      })
    }
  }
}

module.exports = { createHold }
