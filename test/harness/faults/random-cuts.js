'use strict'
/**
 * cutRandomly(): cut new connections (or, with `match`, matching requests) with a probability, from a
 * seeded PRNG so that a failing run can be replayed.
 */
const { matches } = require('./common')

/**
 * @typedef {import('../proxy').Match} Match
 * @typedef {import('./common').Request} Request
 * @typedef {import('node:net').Socket} Socket
 */

/**
 * Small seeded PRNG (mulberry32): the same seed gives the same sequence, so a failing run can be replayed.
 * @param {number} seed
 */
function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function createRandomCuts() {
  /** @type {{rate: number, seed: number, rng: () => number, match?: Match} | undefined} */
  let cutting
  /** Connections drawn for a cut: their first request is cut. */
  let doomed = /** @type {WeakSet<Socket>} */ (new WeakSet())

  return {
    /**
     * @param {number} rate  0..1
     * @param {{seed?: number, match?: Match}} o
     * @returns {number} the seed used
     */
    start(rate, o) {
      const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32)
      cutting = { rate, seed, rng: mulberry32(seed), match: o.match }
      doomed = new WeakSet()
      return seed
    },
    stop() {
      cutting = undefined
      doomed = new WeakSet()
    },
    /**
     * A new connection: without `match`, draw whether its first request is cut.
     * containers/image opens a connection per request, so this is where random cuts bite.
     * @param {Socket} s
     */
    onConnection(s) {
      if (cutting && !cutting.match && cutting.rng() < cutting.rate) doomed.add(s)
    },
    /**
     * Whether to cut this request: the first of a doomed connection, or with `match` a matching one drawn now.
     * @param {Request} req
     */
    draw(req) {
      if (doomed.has(req.socket)) {
        doomed.delete(req.socket)
        return true
      }
      return !!cutting?.match && matches(cutting.match, req) && cutting.rng() < cutting.rate
    }
  }
}

module.exports = { createRandomCuts }
