'use strict'
/** dropDigestOnHead(): HEAD answers lack Docker-Content-Digest (and ETag), as some registries' do. */

function createDropDigest() {
  let dropDigest = false
  return {
    /** @param {boolean} on */
    set(on) {
      dropDigest = on
    },
    /**
     * @param {string} method
     * @param {import('./common').Headers} headers  changed in place
     * @param {import('./common').LogEntry} entry
     */
    rewrite(method, headers, entry) {
      if (dropDigest && method === 'HEAD' && headers['docker-content-digest'] !== undefined) {
        delete headers['docker-content-digest']
        delete headers.etag // distribution's ETag is the digest too
        entry.mode = 'drop-digest'
      }
    }
  }
}

module.exports = { createDropDigest }
