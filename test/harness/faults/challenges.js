'use strict'
/**
 * challenges(): each 401 answer carries the registry's challenge and another one a client must not pick.
 */

/** @typedef {import('../proxy').ChallengeMode} ChallengeMode */

/**
 * The WWW-Authenticate lines for a 401 whose registry challenged with `own`: that challenge and another
 * one a client must not pick. For a Bearer registry the other is Basic (which it refuses), for a Basic
 * one Negotiate (which no registry client speaks).
 * @param {ChallengeMode} mode
 * @param {string} own
 */
function challengeLines(mode, own) {
  const other = /^Bearer\s/i.test(own) ? 'Basic realm="multiarch-publish-proxy"' : 'Negotiate'
  if (mode === 'one-line') return [`${own}, ${other}`] // as Forgejo/Codeberg send it
  // Forgejo's ping also names a placeholder scope, which a client must not ask a token for.
  if (mode === 'forgejo') return [`${/\bscope=/.test(own) ? own : `${own},scope="*"`}, ${other}`]
  if (mode === 'two-lines') return [other, own]
  if (mode === 'basic-first-one-line') return [`${other}, ${own}`]
  throw new Error(`unknown challenges mode: ${mode}`)
}

function createChallenges() {
  /** @type {ChallengeMode | undefined} */
  let challengeMode
  return {
    /** @param {ChallengeMode | undefined} mode  undefined turns it off */
    set(mode) {
      if (mode) challengeLines(mode, '') // an unknown mode throws here, not in the middle of a request
      challengeMode = mode
    },
    /**
     * @param {number} status
     * @param {import('./common').Headers} headers  changed in place
     * @param {import('./common').LogEntry} entry
     */
    rewrite(status, headers, entry) {
      const own = headers['www-authenticate']
      if (challengeMode && status === 401 && typeof own === 'string') {
        headers['www-authenticate'] = challengeLines(challengeMode, own)
        entry.mode = 'challenges'
      }
    }
  }
}

module.exports = { createChallenges }
