'use strict'
/**
 * Start throw-away Docker registries (Debian's `docker-registry`, i.e. distribution 2.8) on loopback.
 *
 * Each registry gets a private temp dir (config, filesystem storage, optional htpasswd file) and a free
 * port on 127.0.0.1, speaks plain HTTP and has deletes enabled. A watchdog shell kills the registry and
 * removes its temp dir if this Node process dies without calling stop() (even on SIGKILL), so no
 * registry is ever left behind. With `token`, a token server (tokenserver.js) in this process issues
 * the registry's bearer tokens.
 */
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { freePort } = require('./ports')
const { startTokenServer } = require('./tokenserver')

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set()
let exitHookInstalled = false

function installExitHook() {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL')
      } catch {
        /* already gone */
      }
    }
  })
}

/** @param {number} ms */
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/**
 * @typedef {object} Registry
 * @property {string} host  `127.0.0.1:PORT`, usable as a registry prefix
 * @property {string} url   `http://127.0.0.1:PORT`
 * @property {number} port
 * @property {string} dir   the registry's temp dir (config.yml, data/, htpasswd)
 * @property {{user: string, password: string} | undefined} auth  the htpasswd credentials, or with
 *   `token` its first user's, if any
 * @property {TokenServer | undefined} token  with `token`: the token server (realm, log of token
 *   requests, count(scope), users)
 * @property {string | undefined} certDir  with `tls`: a containers cert-dir for clients (`ca.crt`, and
 *   `client.cert` + `client.key` when client certificates are required)
 * @property {string | undefined} caFile   with `tls`: the CA that signed the server (and client) certificates
 * @property {() => string} logs  what the registry printed so far
 * @property {() => Promise<void>} stop  kill the registry and remove its temp dir (idempotent)
 */

/**
 * @typedef {Awaited<ReturnType<typeof startTokenServer>>} TokenServer
 */

/**
 * @param {string[]} args
 * @param {string} cwd
 */
function openssl(args, cwd) {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr || r.error}`)
}

/**
 * A private CA, a server certificate for 127.0.0.1 and a client certificate, in `dir/pki`; and a
 * containers cert-dir (`dir/certs.d`) a client uses: `ca.crt`, plus `client.cert`/`client.key`.
 * @param {string} dir
 * @param {boolean} withClient
 */
function makePki(dir, withClient) {
  const pki = path.join(dir, 'pki')
  const certs = path.join(dir, 'certs.d')
  fs.mkdirSync(pki)
  fs.mkdirSync(certs)
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=multiarch-publish test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt'
    ],
    pki
  )
  fs.writeFileSync(path.join(pki, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr'], pki)
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'server.ext',
      '-out',
      'server.crt'
    ],
    pki
  )
  fs.copyFileSync(path.join(pki, 'ca.crt'), path.join(certs, 'ca.crt'))
  if (withClient) {
    fs.writeFileSync(path.join(pki, 'client.ext'), 'extendedKeyUsage=clientAuth\n')
    openssl(
      ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=multiarch-publish test client', '-keyout', 'client.key', '-out', 'client.csr'],
      pki
    )
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'client.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        'client.ext',
        '-out',
        'client.cert'
      ],
      pki
    )
    fs.copyFileSync(path.join(pki, 'client.cert'), path.join(certs, 'client.cert'))
    fs.copyFileSync(path.join(pki, 'client.key'), path.join(certs, 'client.key'))
  }
  return { pki, certs }
}

/** PEM key and certificate of the token signer, made once per process (an RSA key takes a while). */
let tokenSigner = { key: '', cert: '' }

/**
 * A key and self-signed certificate in `dir` for the token server to sign with (the registry's rootcertbundle).
 * @param {string} dir
 */
function makeTokenSigner(dir) {
  const keyFile = path.join(dir, 'token.key')
  const certFile = path.join(dir, 'token.crt')
  if (tokenSigner.key) {
    fs.writeFileSync(keyFile, tokenSigner.key, { mode: 0o600 })
    fs.writeFileSync(certFile, tokenSigner.cert)
  } else {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=multiarch-publish test token signer',
        '-keyout',
        keyFile,
        '-out',
        certFile
      ],
      dir
    )
    tokenSigner = { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') }
  }
  return { keyFile, certFile }
}

/**
 * Start a registry on 127.0.0.1 with a free port; resolves once `GET /v2/` answers 200 or 401.
 * With `tls`, it speaks HTTPS with a certificate from a private CA (see `certDir`), and with
 * `tls.clientCerts` it also demands a client certificate signed by that CA. With `token`, it wants
 * bearer tokens from a token server started with these options (see tokenserver.js), e.g.
 * `{users: [{user: 'ci', password: 'pw', refreshToken: 'rt'}], anonymousPull: true, expiresIn: 60}`.
 * @param {{htpasswd?: {user: string, password: string}, token?: import('./tokenserver').TokenOptions,
 *   tls?: {clientCerts?: boolean}, startTimeoutMs?: number}} [opts]
 * @returns {Promise<Registry>}
 */
async function startRegistry(opts = {}) {
  if (opts.htpasswd && opts.token) throw new Error('startRegistry: htpasswd and token exclude each other')
  installExitHook()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-registry-'))
  const data = path.join(dir, 'data')
  fs.mkdirSync(data)
  let authBlock = ''
  /** @type {TokenServer | undefined} */
  let token
  if (opts.token) {
    try {
      token = await startTokenServer({ ...opts.token, ...makeTokenSigner(dir) })
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true })
      throw e
    }
    authBlock = [
      'auth:',
      '  token:',
      `    realm: ${token.realm}`,
      `    service: ${token.service}`,
      `    issuer: ${token.issuer}`,
      `    rootcertbundle: ${token.certFile}`,
      ''
    ].join('\n')
  }
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

  let tlsBlock = ''
  /** @type {{pki: string, certs: string} | undefined} */
  let pki
  if (opts.tls) {
    try {
      pki = makePki(dir, !!opts.tls.clientCerts)
    } catch (e) {
      await token?.stop()
      fs.rmSync(dir, { recursive: true, force: true })
      throw e
    }
    tlsBlock = [
      '  tls:',
      `    certificate: ${path.join(pki.pki, 'server.crt')}`,
      `    key: ${path.join(pki.pki, 'server.key')}`,
      ...(opts.tls.clientCerts ? ['    clientcas:', `      - ${path.join(pki.pki, 'ca.crt')}`] : []),
      ''
    ].join('\n')
  }

  let lastError = ''
  // The free port can be taken between probing and binding: retry with another one.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const config = path.join(dir, 'config.yml')
    fs.writeFileSync(
      config,
      [
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
        tlsBlock,
        authBlock
      ].join('\n')
    )
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] })
    live.add(child)
    let log = ''
    child.stdout?.on('data', d => {
      log += d
    })
    child.stderr?.on('data', d => {
      log += d
    })
    let exited = false
    child.on('exit', () => {
      exited = true
      live.delete(child)
    })
    child.on('error', e => {
      exited = true
      log += String(e)
      live.delete(child)
    })

    // Watchdog: if this Node process disappears, kill the registry and clean up.
    const watchdog = spawn(
      'sh',
      [
        '-c',
        'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null; ' +
          'if ! kill -0 "$1" 2>/dev/null; then rm -rf "$3"; fi',
        'watchdog',
        String(process.pid),
        String(child.pid),
        dir
      ],
      { stdio: 'ignore', detached: true }
    )
    watchdog.unref()

    const url = `${pki ? 'https' : 'http'}://127.0.0.1:${port}`
    const deadline = Date.now() + (opts.startTimeoutMs ?? 15000)
    let ready = false
    while (!exited && Date.now() < deadline) {
      if (pki) {
        // Any TLS handshake answer means it listens (fetch cannot present a client certificate).
        ready = await new Promise(resolve => {
          const sock = net.connect(port, '127.0.0.1', () => {
            sock.destroy()
            resolve(true)
          })
          sock.on('error', () => resolve(false))
        })
        if (ready) break
      } else {
        try {
          const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) })
          await res.arrayBuffer()
          if (res.status === 200 || res.status === 401) {
            ready = true
            break
          }
        } catch {
          /* not listening yet */
        }
      }
      await sleep(50)
    }
    if (!ready) {
      lastError = log
      try {
        child.kill('SIGKILL')
      } catch {
        /* gone */
      }
      try {
        if (watchdog.pid) process.kill(watchdog.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
      live.delete(child)
      continue
    }

    let stopped = false
    return {
      host: `127.0.0.1:${port}`,
      url,
      port,
      dir,
      auth: opts.htpasswd ?? token?.users[0],
      token,
      certDir: pki?.certs,
      caFile: pki ? path.join(pki.pki, 'ca.crt') : undefined,
      logs: () => log,
      stop: async () => {
        if (stopped) return
        stopped = true
        if (!exited) {
          const gone = new Promise(resolve => child.once('exit', resolve))
          child.kill('SIGTERM')
          const timer = setTimeout(() => {
            try {
              child.kill('SIGKILL')
            } catch {
              /* gone */
            }
          }, 3000)
          await gone
          clearTimeout(timer)
        }
        live.delete(child)
        try {
          if (watchdog.pid) process.kill(watchdog.pid, 'SIGKILL')
        } catch {
          /* gone */
        }
        await token?.stop()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  await token?.stop()
  fs.rmSync(dir, { recursive: true, force: true })
  throw new Error(`docker-registry did not start: ${lastError}`)
}

module.exports = { startRegistry }
