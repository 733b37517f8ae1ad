'use strict'
/**
 * Start throw-away Docker registries (Debian's `docker-registry`, i.e. distribution 2.8) on loopback.
 *
 * Each registry gets a private temp dir (config, filesystem storage, optional htpasswd file) and a free
 * port on 127.0.0.1, speaks plain HTTP and has deletes enabled. A watchdog shell kills the registry and
 * removes its temp dir if this Node process dies without calling stop() (even on SIGKILL), so no
 * registry is ever left behind.
 */
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set()
let exitHookInstalled = false

function installExitHook () {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of live) {
      try { child.kill('SIGKILL') } catch { /* already gone */ }
    }
  })
}

/**
 * A port that was free a moment ago on 127.0.0.1.
 * @returns {Promise<number>}
 */
function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = /** @type {net.AddressInfo} */ (srv.address())
      srv.close(() => resolve(addr.port))
    })
  })
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * @typedef {object} Registry
 * @property {string} host  `127.0.0.1:PORT`, usable as a registry prefix
 * @property {string} url   `http://127.0.0.1:PORT`
 * @property {number} port
 * @property {string} dir   the registry's temp dir (config.yml, data/, htpasswd)
 * @property {{user: string, password: string} | undefined} auth  the htpasswd credentials, if any
 * @property {() => string} logs  what the registry printed so far
 * @property {() => Promise<void>} stop  kill the registry and remove its temp dir (idempotent)
 */

/**
 * Start a registry on 127.0.0.1 with a free port; resolves once `GET /v2/` answers 200 or 401.
 * @param {{htpasswd?: {user: string, password: string}, startTimeoutMs?: number}} [opts]
 * @returns {Promise<Registry>}
 */
async function startRegistry (opts = {}) {
  installExitHook()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-registry-'))
  const data = path.join(dir, 'data')
  fs.mkdirSync(data)
  let authBlock = ''
  if (opts.htpasswd) {
    const r = spawnSync('htpasswd', ['-Bbn', opts.htpasswd.user, opts.htpasswd.password], { encoding: 'utf8' })
    if (r.status !== 0) {
      fs.rmSync(dir, { recursive: true, force: true })
      throw new Error(`htpasswd failed: ${r.error ?? r.stderr}`)
    }
    const file = path.join(dir, 'htpasswd')
    fs.writeFileSync(file, r.stdout, { mode: 0o600 })
    authBlock = `auth:\n  htpasswd:\n    realm: multiarch-publish-test\n    path: ${file}\n`
  }

  let lastError = ''
  // The free port can be taken between probing and binding: retry with another one.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const config = path.join(dir, 'config.yml')
    fs.writeFileSync(config, [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${data}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      authBlock
    ].join('\n'))
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] })
    live.add(child)
    let log = ''
    child.stdout?.on('data', (d) => { log += d })
    child.stderr?.on('data', (d) => { log += d })
    let exited = false
    child.on('exit', () => { exited = true; live.delete(child) })
    child.on('error', (e) => { exited = true; log += String(e); live.delete(child) })

    // Watchdog: if this Node process disappears, kill the registry and clean up.
    const watchdog = spawn('sh', ['-c',
      'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null; ' +
      'if ! kill -0 "$1" 2>/dev/null; then rm -rf "$3"; fi',
      'watchdog', String(process.pid), String(child.pid), dir], { stdio: 'ignore', detached: true })
    watchdog.unref()

    const url = `http://127.0.0.1:${port}`
    const deadline = Date.now() + (opts.startTimeoutMs ?? 15000)
    let ready = false
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) })
        await res.arrayBuffer()
        if (res.status === 200 || res.status === 401) { ready = true; break }
      } catch { /* not listening yet */ }
      await sleep(50)
    }
    if (!ready) {
      lastError = log
      try { child.kill('SIGKILL') } catch { /* gone */ }
      try { if (watchdog.pid) process.kill(watchdog.pid, 'SIGKILL') } catch { /* gone */ }
      live.delete(child)
      continue
    }

    let stopped = false
    return {
      host: `127.0.0.1:${port}`,
      url,
      port,
      dir,
      auth: opts.htpasswd,
      logs: () => log,
      stop: async () => {
        if (stopped) return
        stopped = true
        if (!exited) {
          const gone = new Promise((resolve) => child.once('exit', resolve))
          child.kill('SIGTERM')
          const timer = setTimeout(() => { try { child.kill('SIGKILL') } catch { /* gone */ } }, 3000)
          await gone
          clearTimeout(timer)
        }
        live.delete(child)
        try { if (watchdog.pid) process.kill(watchdog.pid, 'SIGKILL') } catch { /* gone */ }
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true })
  throw new Error(`docker-registry did not start: ${lastError}`)
}

module.exports = { startRegistry, freePort }
