'use strict'
/**
 * Ports for the harness's servers (registries, proxies, token servers, blob stores).
 *
 * Under jest, each port is handed out once per machine until its run ends, whichever worker or run
 * asks: a client in one test file still retrying a server that was stopped (or a proxy taken down)
 * cannot reach another file's new server on the same port, as it could with ports the kernel picks
 * (it hands a freed port out again), nor a server of another run beside it (a mutation run and a
 * test run). A port is claimed by creating a file named after it in the run's directory (O_EXCL, so
 * two workers never claim the same one) and is then given up if another live run's directory holds
 * the same name: each run looks after creating its own, so of two runs claiming one port at least the
 * later sees the earlier. A run is live while its directory's socket accepts (`alive.sock`, listened
 * on by jest's main process): that holds across PID namespaces (`scripts/mutate`), where a pid would
 * not. `startRun` (jest's globalSetup) makes the directory and removes those of runs that are gone;
 * `endRun` (globalTeardown) removes it. The ports lie below the kernel's ephemeral range (32768 and
 * up), so no outgoing connection holds them either. Outside jest (bench, demo) the kernel picks, as
 * one process is all there is.
 * The same ports come back in the next run: skopeo's and buildah's blob-info cache
 * (/var/lib/containers/cache, kept across runs, keyed by host:port) then names repositories of an
 * earlier run's registry, and a copy asks for pull on them to mount blobs from. A test may count the
 * reader's token scopes, not the writers' (reader-publish.test.ts).
 */
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const FIRST = 20000
const LAST = 32767
/** Where a run's claims are kept (made by startRun). */
const DIR_VAR = 'MULTIARCH_TEST_PORTS'
/** Run directories in the temporary directory; a new one is made under another name and renamed once it listens. */
const RUN_PREFIX = 'multiarch-publish-ports-'
const STARTING_PREFIX = 'multiarch-publish-starting-'
const ALIVE = 'alive.sock'

/** The next port to try in this process: a hint only, the claim files decide. */
let next = FIRST
/** Runs seen gone stay gone; one seen live may have ended since, which costs a port at most. */
const liveness = new Map()

/** @returns {string[]} the run directories on this machine, this run's too */
function runDirs() {
  const root = os.tmpdir()
  return fs
    .readdirSync(root)
    .filter(name => name.startsWith(RUN_PREFIX))
    .map(name => path.join(root, name))
}

/**
 * @param {string} dir  a run directory
 * @returns {Promise<boolean>} whether its run still listens
 */
function alive(dir) {
  return new Promise(resolve => {
    const socket = net.connect(path.join(dir, ALIVE))
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    // ENOENT (a directory from before the sockets, or one half removed), ECONNREFUSED (its run is gone).
    socket.once('error', () => resolve(false))
  })
}

/** @param {string} dir */
async function aliveCached(dir) {
  if (liveness.get(dir) === false) return false
  const live = await alive(dir)
  liveness.set(dir, live)
  return live
}

/**
 * @param {string} own  this run's directory
 * @param {number} port
 */
async function claimedElsewhere(own, port) {
  for (const dir of runDirs()) {
    if (dir === own || !fs.existsSync(path.join(dir, String(port)))) continue
    if (await aliveCached(dir)) return true
  }
  return false
}

/**
 * A port no other worker or live run on this machine was given before, or 0 (the kernel picks)
 * outside jest.
 * @returns {Promise<number>}
 */
async function claimPort() {
  const dir = process.env[DIR_VAR]
  if (!dir) return 0
  while (next <= LAST) {
    const port = next++
    try {
      fs.closeSync(fs.openSync(path.join(dir, String(port)), 'wx'))
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EEXIST') throw e
      continue
    }
    // The claim file stays either way: this run never tries the port again.
    if (!(await claimedElsewhere(dir, port))) return port
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
    const port = await claimPort()
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

/**
 * A run's directory, listening, after the directories of runs that are gone were removed.
 * @returns {Promise<{dir: string, close: () => Promise<void>}>}
 */
async function startRun() {
  for (const dir of runDirs()) if (!(await alive(dir))) fs.rmSync(dir, { recursive: true, force: true })
  // Made under another name: a run cleaning up meanwhile would take it, not yet listening, for a gone one.
  const starting = fs.mkdtempSync(path.join(os.tmpdir(), STARTING_PREFIX))
  const server = net.createServer(socket => socket.destroy())
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path.join(starting, ALIVE), () => resolve(undefined))
  })
  // Neither jest's exit nor a killed run waits for it.
  server.unref()
  const dir = path.join(os.tmpdir(), RUN_PREFIX + path.basename(starting).slice(STARTING_PREFIX.length))
  fs.renameSync(starting, dir)
  return {
    dir,
    close: async () => {
      await new Promise(resolve => server.close(() => resolve(undefined)))
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

module.exports = { listenOnOwnPort, freePort, claimPort, startRun, DIR_VAR, RUN_PREFIX, ALIVE }
