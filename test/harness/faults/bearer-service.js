'use strict'
/**
 * bearerService(null): the Bearer challenges of 401 answers lose their `service` (a string sets it
 * instead), as from a registry whose token server needs none.
 */

function createBearerService() {
  /** @type {string | null | undefined} */
  let service
  return {
    /** @param {string | null | undefined} value  undefined turns it off */
    set(value) {
      service = value
    },
    /**
     * @param {number} status
     * @param {import('./common').Headers} headers  changed in place
     * @param {import('./common').LogEntry} entry
     */
    rewrite(status, headers, entry) {
      const own = headers['www-authenticate']
      if (service === undefined || status !== 401 || typeof own !== 'string' || !/^Bearer\s/i.test(own)) return
      headers['www-authenticate'] =
        service === null
          ? own.replace(/,?\s*service="[^"]*"/, '').replace(/(Bearer\s+),\s*/i, '$1')
          : own.replace(/service="[^"]*"/, `service="${service}"`)
      entry.mode = 'service'
    }
  }
}

module.exports = { createBearerService }
