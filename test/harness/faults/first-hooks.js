'use strict'
/** onFirst(): when the first request matching a hook arrives, await the hook's fn before going on (once). */
const { matches } = require('./common')

/**
 * @typedef {import('../proxy').Match} Match
 * @typedef {import('./common').Request} Request
 * @typedef {import('./common').LogEntry} LogEntry
 */

function createFirstHooks() {
  /** @type {Array<{match: Match, fn: () => unknown, resolve: () => void, reject: (e: unknown) => void}>} */
  let hooks = []

  return {
    /**
     * @param {Match} match
     * @param {() => unknown} fn
     * @returns {Promise<void>} resolves when fn has finished, rejects with its error or when dropped first
     */
    add(match, fn) {
      /** @type {() => void} */
      let resolve = () => {}
      /** @type {(e: unknown) => void} */
      let reject = () => {}
      const done = new Promise((res, rej) => {
        resolve = () => res(undefined)
        reject = rej
      })
      done.catch(() => {}) // a test need not await it: no unhandled rejection
      hooks.push({ match, fn, resolve, reject })
      return done
    },
    /**
     * The first hook that matches the request, taken off the list: a function that runs it (the
     * request goes on either way); undefined when none matches, so the request need not wait.
     * @param {Request} req
     * @returns {((entry: LogEntry) => Promise<void>) | undefined}
     */
    take(req) {
      const hook = hooks.find(h => matches(h.match, req))
      if (!hook) return undefined
      hooks = hooks.filter(h => h !== hook)
      return async entry => {
        entry.status = 'held'
        try {
          await hook.fn()
          hook.resolve()
        } catch (e) {
          hook.reject(e)
        }
      }
    },
    /**
     * Reject the hooks that have not fired, and forget them.
     * @param {string} why
     */
    drop(why) {
      for (const h of hooks) h.reject(new Error(why))
      hooks = []
    }
  }
}

module.exports = { createFirstHooks }
