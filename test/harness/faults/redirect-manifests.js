'use strict'
/**
 * redirectManifests(): a manifest GET is answered 307 to a store on 127.0.0.2 that refuses requests
 * with an Authorization header, as S3 does: redirectBlobs()'s store, for manifests.
 */
const { createBlobRedirect } = require('./redirect-blobs')

/**
 * @param {import('./common').Upstream} upstream
 * @param {{connId: (s: import('node:net').Socket) => number, onConnection: (s: import('node:net').Socket) => void}} conns
 */
function createManifestRedirect(upstream, conns) {
  const store = createBlobRedirect(upstream, conns)
  let on = false
  return {
    ...store,
    /** @param {boolean} value */
    async enable(value) {
      on = value
      await store.enable(value)
    },
    /** @param {string} method  upper case @param {string} url */
    wants(method, url) {
      return on && method === 'GET' && /^\/v2\/.+\/manifests\/[^/]+$/.test(url)
    },
    clear() {
      on = false
      store.clear()
    },
    async stop() {
      on = false
      await store.stop()
    }
  }
}

module.exports = { createManifestRedirect }
