'use strict'
/**
 * Ports for the harness's servers (registries, proxies, token servers, blob stores).
 *
 * Under jest, each port is handed out once per run, whichever worker asks: a client in one test
 * file still retrying a server that was stopped (or a proxy taken down) cannot reach another file's
 * new server on the same port, as it could with ports the kernel picks (it hands a freed port out
 * again). A port is claimed by creating a file named after it in the run's directory (O_EXCL, so
 * two workers never claim the same one), which `jest.setup.js` creates and removes. The ports lie
 * below the kernel's ephemeral range (32768 and up), so no outgoing connection holds them either.
 * Outside jest (bench, demo) the kernel picks, as one process is all there is.
 * The same ports come back in the next run: skopeo's and buildah's blob-info cache
 * (/var/lib/containers/cache, kept across runs, keyed by host:port) then names repositories of an
 * earlier run's registry, and a copy asks for pull on them to mount blobs from. A test may count the
 * reader's token scopes, not the writers' (reader-publish.test.ts).
 */
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')

const FIRST = 20000
const LAST = 32767
/** Where a run's claims are kept (made by ports-setup.js, jest's globalSetup). */
const DIR_VAR = 'MULTIARCH_TEST_PORTS'

/** The next port to try in this process: a hint only, the claim files decide. */
let next = FIRST

/**
 * A port nobody in this jest run was given before, or 0 (the kernel picks) outside jest.
 * @returns {number}
 */
function claimPort() {
  const dir = process.env[DIR_VAR]
  if (!dir) return 0
  for (; next <= LAST; next++) {
    try {
      fs.closeSync(fs.openSync(path.join(dir, String(next)), 'wx'))
      return next++
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EEXIST') throw e
    }
  }
  throw new Error(`test/harness/ports.js: all ports from ${FIRST} to ${LAST} were handed out in this run`)
}

/**
 * Listen on `host` at a port of this run's own (see above); one held by something else on the
 * machine is passed over.
 * @param {net.Server} server
 * @param {string} host
 * @returns {Promise<number>} the port
 */
async function listenOnOwnPort(server, host) {
  for (;;) {
    const port = claimPort()
    const outcome = await new Promise(resolve => {
      /** @param {NodeJS.ErrnoException} e */
      const failed = e => resolve(e)
      server.once('error', failed)
      server.listen(port, host, () => {
        server.off('error', failed)
        resolve(undefined)
      })
    })
    if (outcome === undefined) return /** @type {net.AddressInfo} */ (server.address()).port
    if (port === 0 || /** @type {NodeJS.ErrnoException} */ (outcome).code !== 'EADDRINUSE') throw outcome
  }
}

/**
 * A port of this run's own, free a moment ago on 127.0.0.1, for a server another process binds.
 * @returns {Promise<number>}
 */
async function freePort() {
  const probe = net.createServer()
  probe.unref()
  const port = await listenOnOwnPort(probe, '127.0.0.1')
  await new Promise(resolve => probe.close(() => resolve(undefined)))
  return port
}

module.exports = { listenOnOwnPort, freePort, DIR_VAR }
