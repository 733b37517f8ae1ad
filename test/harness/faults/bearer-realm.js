'use strict'
/**
 * bearerRealm(value): the Bearer challenges of 401 answers get `realm="value"` (such as an ftp:// one),
 * or lose their realm (null), as a misconfigured registry's would.
 */

function createBearerRealm() {
  /** @type {string | null | undefined} */
  let realm
  return {
    /** @param {string | null | undefined} value  undefined turns it off */
    set(value) {
      realm = value
    },
    /**
     * @param {number} status
     * @param {import('./common').Headers} headers  changed in place
     * @param {import('./common').LogEntry} entry
     */
    rewrite(status, headers, entry) {
      const own = headers['www-authenticate']
      if (realm === undefined || status !== 401 || typeof own !== 'string' || !/^Bearer\s/i.test(own)) return
      headers['www-authenticate'] =
        realm === null ? own.replace(/realm="[^"]*",?\s*/, '').replace(/,\s*$/, '') : own.replace(/realm="[^"]*"/, `realm="${realm}"`)
      entry.mode = 'realm'
    }
  }
}

module.exports = { createBearerRealm }
