'use strict'
/**
 * headDigest(value): HEAD answers of manifests carry Docker-Content-Digest `value` (another digest,
 * or a malformed one), as a broken cache would; a client must not believe it by digest.
 */

function createHeadDigest() {
  /** @type {string | undefined} */
  let digest
  return {
    /** @param {string | undefined} value  undefined turns it off */
    set(value) {
      digest = value
    },
    /**
     * @param {string} method
     * @param {import('./common').Headers} headers  changed in place
     * @param {import('./common').LogEntry} entry
     */
    rewrite(method, headers, entry) {
      if (digest !== undefined && method === 'HEAD' && headers['docker-content-digest'] !== undefined) {
        headers['docker-content-digest'] = digest
        entry.mode = 'head-digest'
      }
    }
  }
}

module.exports = { createHeadDigest }
