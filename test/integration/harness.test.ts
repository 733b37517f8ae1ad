/**
 * Tests of the test harness itself (test/harness): if these fail, the integration tests prove nothing.
 */
import * as fs from 'node:fs'
import { spawnSync } from 'node:child_process'
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { startRegistry } from '../harness/registry'
import { startProxy } from '../harness/proxy'
import { ALIVE, DIR_VAR, RUN_PREFIX, freePort, listenOnOwnPort } from '../harness/ports'
import {
  pushImage,
  pushIndex,
  pushAttestation,
  attestationEntry,
  inspectRaw,
  inspectConfig,
  platformsOf,
  skopeo,
  deleteManifest,
  sha256,
  MT
} from '../harness/images'
import { parseCommandFile, inputEnvName, loadActionYml, listLocal, makeSharedStorage, runAction } from '../harness/action'
import type { TokenUser } from '../harness/tokenserver'
import { inputs, outputsOf } from './fixtures'

jest.setTimeout(120_000)

type Registry = Awaited<ReturnType<typeof startRegistry>>
type Proxy = Awaited<ReturnType<typeof startProxy>>

describe('registry + images', () => {
  let reg: Registry
  beforeAll(async () => {
    reg = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
  })

  test('pushImage pushes a valid image whose config has the requested platform', async () => {
    const img = await pushImage({ host: reg.host, repo: 'h/img', tag: '1-aarch64', architecture: 'arm64', variant: 'v8' })
    const got = await inspectRaw(reg.host, 'h/img:1-aarch64')
    expect(got.digest).toBe(img.digest)
    expect(got.json.mediaType).toBe(MT.ociManifest)
    const config = await inspectConfig(reg.host, 'h/img:1-aarch64')
    expect(config).toMatchObject({ architecture: 'arm64', os: 'linux', variant: 'v8' })
    // The whole image can be copied (layer digest and diff_id are consistent).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-harness-'))
    try {
      await skopeo(['copy', '--src-tls-verify=false', '--src-no-creds', `docker://${reg.host}/h/img:1-aarch64`, `oci:${dir}:x`])
      expect(fs.existsSync(path.join(dir, 'index.json'))).toBe(true)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('same arguments give the same digest, another salt another digest, docker media type', async () => {
    const a = await pushImage({ host: reg.host, repo: 'h/salt', tag: 'a', architecture: 'amd64' })
    const b = await pushImage({ host: reg.host, repo: 'h/salt', tag: 'b', architecture: 'amd64' })
    const c = await pushImage({ host: reg.host, repo: 'h/salt', tag: 'c', architecture: 'amd64', salt: 'x' })
    const d = await pushImage({ host: reg.host, repo: 'h/salt', tag: 'd', architecture: 'amd64', mediaType: 'docker' })
    expect(a.digest).toBe(b.digest)
    expect(c.digest).not.toBe(a.digest)
    expect(d.mediaType).toBe(MT.dockerManifest)
    expect((await inspectRaw(reg.host, 'h/salt:d')).json.mediaType).toBe(MT.dockerManifest)
  })

  test('pushIndex with a buildx-style attestation entry', async () => {
    const img = await pushImage({ host: reg.host, repo: 'h/idx', architecture: 'amd64' })
    const att = await pushAttestation({ host: reg.host, repo: 'h/idx', subject: img.digest })
    const idx = await pushIndex({ host: reg.host, repo: 'h/idx', tag: 'v1', manifests: [img, attestationEntry(att, img.digest)] })
    const got = await inspectRaw(reg.host, 'h/idx:v1')
    expect(got.digest).toBe(idx.digest)
    expect(got.json.manifests).toHaveLength(2)
    expect(got.json.manifests[1].annotations['vnd.docker.reference.type']).toBe('attestation-manifest')
    expect(platformsOf(got.json)).toEqual(['linux/amd64'])
  })

  test('inspectRaw allowMissing gives null for a missing tag', async () => {
    expect(await inspectRaw(reg.host, 'h/none:none', { allowMissing: true })).toBeNull()
    await expect(inspectRaw(reg.host, 'h/none:none')).rejects.toThrow(/manifest unknown/)
  })
})

describe('ports', () => {
  test('a port is handed out once per run: not again after its server stopped, nor one another worker claimed, nor one held', async () => {
    const dir = process.env[DIR_VAR] as string
    const claim = (port: number): string => path.join(dir, String(port))
    const first = await freePort()
    const server = http.createServer()
    const second = await listenOnOwnPort(server, '127.0.0.1')
    await new Promise(resolve => server.close(resolve))
    // What another worker claimed (a file named after the port) is passed over. Other workers
    // claim ports meanwhile too, so only the order is known, not the gaps.
    for (const p of [second + 1, second + 2]) fs.writeFileSync(claim(p), '')
    const third = await freePort()
    expect(second).toBeGreaterThan(first)
    expect(third).toBeGreaterThan(second + 2)
    expect([first, third].every(p => p >= 20000 && p < 32768)).toBe(true)
    // A port held by something outside the run (listened on, not claimed) is passed over: hold the
    // next one this process would try, claimed first so no worker takes it, then unclaimed.
    let held = third + 1
    for (;;) {
      try {
        fs.writeFileSync(claim(held), '', { flag: 'wx' })
        break
      } catch {
        held++
      }
    }
    const holder = http.createServer()
    await new Promise<void>(resolve => holder.listen(held, '127.0.0.1', resolve))
    fs.unlinkSync(claim(held))
    try {
      expect(await freePort()).toBeGreaterThan(held)
    } finally {
      await new Promise(resolve => holder.close(resolve))
    }
  })

  test('a port another live run on the machine claimed is passed over, not one of a run that is gone; gone runs are cleared at a start', async () => {
    // A machine of its own (TMPDIR) for a second run in a child, so the ports it gets are known.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-ports-'))
    const claimIn = (name: string, ports: number[]): string => {
      const dir = path.join(root, RUN_PREFIX + name)
      fs.mkdirSync(dir)
      for (const p of ports) fs.writeFileSync(path.join(dir, String(p)), '')
      return dir
    }
    const other = net.createServer(socket => socket.destroy())
    await new Promise<void>(resolve => other.listen(path.join(claimIn('other', [20000, 20002]), ALIVE), resolve))
    // From before the sockets: no alive.sock.
    claimIn('stale', [20003])
    const lib = path.join(__dirname, '..', 'harness', 'ports.js')
    const script = `
      const fs = require('node:fs'), net = require('node:net'), path = require('node:path')
      const ports = require(${JSON.stringify(lib)})
      const names = own => fs.readdirSync(process.env.TMPDIR).map(n => n === path.basename(own) ? 'own' : n).sort()
      ;(async () => {
        const run = await ports.startRun()
        process.env[ports.DIR_VAR] = run.dir
        const started = names(run.dir)
        // A run that ended during this one, its directory still there.
        const gone = path.join(process.env.TMPDIR, ports.RUN_PREFIX + 'gone')
        fs.mkdirSync(gone)
        fs.writeFileSync(path.join(gone, '20001'), '')
        const server = net.createServer()
        await new Promise(resolve => server.listen(path.join(gone, ports.ALIVE), resolve))
        await new Promise(resolve => server.close(resolve))
        const claims = [await ports.claimPort(), await ports.claimPort(), await ports.claimPort()]
        await run.close()
        console.log(JSON.stringify({ started, claims, ended: names(run.dir) }))
      })()`
    try {
      const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, TMPDIR: root, [DIR_VAR]: '' }, encoding: 'utf8' })
      expect(child.stderr).toBe('')
      expect(JSON.parse(child.stdout)).toEqual({
        started: ['multiarch-publish-ports-other', 'own'],
        claims: [20001, 20003, 20004],
        ended: ['multiarch-publish-ports-gone', 'multiarch-publish-ports-other']
      })
    } finally {
      await new Promise(resolve => other.close(resolve))
      fs.rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('registry lifecycle', () => {
  test('a registry dies with the process that started it, even on SIGKILL', async () => {
    const lib = path.join(__dirname, '..', 'harness', 'registry.js')
    const { spawn, spawnSync } = require('node:child_process')
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(lib)}).startRegistry().then(r => { console.log(r.host + ' ' + r.dir); setInterval(() => {}, 1000) })`
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] }
    )
    const line: string = await new Promise(resolve => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())))
    const [host, dir] = line.split(' ')
    expect((await fetch(`http://${host}/v2/`)).status).toBe(200)
    child.kill('SIGKILL')
    let alive = true
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      alive = spawnSync('pgrep', ['-f', `docker-registry serve ${dir}/config.yml`]).status === 0
    }
    expect(alive).toBe(false)
    for (let i = 0; i < 30 && fs.existsSync(dir); i++) await new Promise(resolve => setTimeout(resolve, 100))
    expect(fs.existsSync(dir)).toBe(false)
  })

  test('stop() kills the registry and removes its dir', async () => {
    const reg = await startRegistry()
    await reg.stop()
    await expect(fetch(`${reg.url}/v2/`)).rejects.toThrow()
    expect(fs.existsSync(reg.dir)).toBe(false)
  })
})

describe('htpasswd registry', () => {
  let reg: Registry
  const auth = { user: 'ci', password: 'S3cr3t-harness' }
  beforeAll(async () => {
    reg = await startRegistry({ htpasswd: auth })
  })
  afterAll(async () => {
    await reg?.stop()
  })

  test('demands a login and accepts the right one', async () => {
    const res = await fetch(`${reg.url}/v2/`)
    expect(res.status).toBe(401)
    await pushImage({ host: reg.host, repo: 'h/auth', tag: 't', architecture: 'amd64', auth })
    await expect(inspectRaw(reg.host, 'h/auth:t')).rejects.toThrow(/unauthorized/)
    await expect(inspectRaw(reg.host, 'h/auth:t', { auth: { user: 'ci', password: 'wrong' } })).rejects.toThrow(/unauthorized/)
    expect((await inspectRaw(reg.host, 'h/auth:t', { auth })).json.schemaVersion).toBe(2)
  })
})

describe('TLS registry with client certificates', () => {
  let reg: Registry
  beforeAll(async () => {
    reg = await startRegistry({ tls: { clientCerts: true } })
  })
  afterAll(async () => {
    await reg?.stop()
  })

  test('serves HTTPS to clients with the cert-dir, refuses others', async () => {
    expect(reg.url).toMatch(/^https:/)
    expect(fs.readdirSync(reg.certDir as string).sort()).toEqual(['ca.crt', 'client.cert', 'client.key'])
    const img = await pushImage({ host: reg.host, repo: 't/img', tag: '1', architecture: 'amd64', certDir: reg.certDir })
    expect((await inspectRaw(reg.host, 't/img:1', { certDir: reg.certDir })).digest).toBe(img.digest)
    const caOnly = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-caonly-'))
    try {
      fs.copyFileSync(reg.caFile as string, path.join(caOnly, 'ca.crt'))
      await expect(inspectRaw(reg.host, 't/img:1', { certDir: caOnly })).rejects.toThrow(/certificate|tls/i)
    } finally {
      fs.rmSync(caOnly, { recursive: true, force: true })
    }
    await expect(inspectRaw(reg.host, 't/img:1')).rejects.toThrow()
  })

  test('a proxy with tls speaks HTTPS to its clients (here with the registry’s certificate), numbering TLS connections', async () => {
    const read = (name: string): string => fs.readFileSync(path.join(path.dirname(reg.caFile as string), name), 'utf8')
    const p = await startProxy({ target: reg.host, tls: { cert: read('server.crt'), key: read('server.key') } })
    try {
      expect(p.url).toBe(`https://${p.host}`)
      p.failNext(1, 503)
      const status = await new Promise((resolve, reject) => {
        https
          .get(`${p.url}/v2/`, { ca: read('ca.crt'), agent: false }, res => {
            res.resume()
            resolve(res.statusCode)
          })
          .on('error', reject)
      })
      expect(status).toBe(503)
      await expect(rawRequest(`http://${p.host}/v2/`)).rejects.toThrow(/socket hang up/)
      expect(p.log.map(e => `${e.status} ${e.conn}`)).toEqual(['503 1'])
    } finally {
      await p.stop()
    }
  })
})

describe('proxy', () => {
  let reg: Registry
  let proxy: Proxy
  beforeAll(async () => {
    reg = await startRegistry()
    proxy = await startProxy({ target: reg.host })
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })
  beforeEach(() => {
    proxy.clearFaults()
    proxy.reset()
  })

  test('forwards, counts by method and keeps uploads on the proxy', async () => {
    const img = await pushImage({ host: proxy.host, repo: 'p/img', tag: 't', architecture: 'amd64' })
    expect(proxy.count('PUT')).toBe(3) // layer, config, manifest
    expect(proxy.count('POST')).toBe(2)
    expect(
      proxy.log.every(
        (e: { method: string; status: number | string }) => (typeof e.status === 'number' && e.status < 400) || e.method === 'HEAD'
      )
    ).toBe(true)
    expect((await inspectRaw(reg.host, 'p/img:t')).digest).toBe(img.digest)
  })

  test('failNext(2, 503) answers exactly two requests with 503', async () => {
    proxy.failNext(2, 503)
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(503)
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(503)
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200)
    expect(proxy.pending()).toBe(0)
  })

  test('failNext 429 sends Retry-After; matching by method', async () => {
    proxy.failNext(1, 429, { method: 'PUT' })
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200)
    const res = await fetch(`${proxy.url}/v2/p/img/manifests/x`, { method: 'PUT', body: '{}', headers: { 'Content-Type': MT.ociManifest } })
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('1')
  })

  test('cutNext destroys the connection without an answer', async () => {
    proxy.cutNext(1)
    await expect(fetch(`${proxy.url}/v2/`)).rejects.toThrow()
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200)
  })

  test('down refuses connections, up serves again; downWhen goes down on a matching request', async () => {
    await proxy.down()
    await expect(fetch(`${proxy.url}/v2/`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } })
    await proxy.up()
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200)
    proxy.downWhen({ method: 'POST' })
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200)
    await expect(fetch(`${proxy.url}/v2/p/x/blobs/uploads/`, { method: 'POST' })).rejects.toThrow()
    await expect(fetch(`${proxy.url}/v2/`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } })
    await proxy.up()
  })

  test('skopeo through the proxy sees the fault and recovers after it', async () => {
    await pushImage({ host: reg.host, repo: 'p/sk', tag: 't', architecture: 'amd64' })
    proxy.failNext(10, 503)
    await expect(inspectRaw(proxy.host, 'p/sk:t')).rejects.toThrow(/503/)
    proxy.clearFaults()
    expect((await inspectRaw(proxy.host, 'p/sk:t')).json.schemaVersion).toBe(2)
  })
})

/** One request on a new connection (or on `agent`'s); rejects when the connection is cut. */
function rawRequest(
  url: string,
  method = 'GET',
  o: { headers?: Record<string, string>; body?: string; agent?: http.Agent } = {}
): Promise<{ status: number; headers: http.IncomingHttpHeaders; rawHeaders: string[]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...o.headers, ...(o.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(o.body)) } : {}) }
    const req = http.request(url, { method, headers, agent: o.agent ?? false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) })
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(o.body)
  })
}

describe('proxy: lasting faults, lies and hooks', () => {
  let reg: Registry
  let proxy: Proxy
  beforeAll(async () => {
    reg = await startRegistry()
    proxy = await startProxy({ target: reg.host })
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })
  beforeEach(() => {
    proxy.clearFaults()
    proxy.reset()
  })

  const cuts = (): number => proxy.log.filter(e => e.status === 'cut' && e.fault).length

  test('cutRandomly cuts new connections at random, the same ones again for the same seed', async () => {
    // Each request on its own connection, as containers/image does.
    const outcomes = async (): Promise<string[]> => {
      const out: string[] = []
      for (let i = 0; i < 40; i++)
        out.push(
          await rawRequest(`${proxy.url}/v2/`).then(
            r => String(r.status),
            () => 'cut'
          )
        )
      return out
    }
    expect(proxy.cutRandomly(0.3, { seed: 1234 })).toBe(1234)
    const first = await outcomes()
    proxy.cutRandomly(0.3, { seed: 1234 })
    const replay = await outcomes()
    proxy.cutRandomly(0.3, { seed: 99 })
    const other = await outcomes()
    expect(replay).toEqual(first)
    expect(other).not.toEqual(first)
    expect(new Set(first)).toEqual(new Set(['200', 'cut']))
    expect(cuts()).toBe([...first, ...replay, ...other].filter(x => x === 'cut').length)
    // skopeo sees it too.
    await pushImage({ host: reg.host, repo: 'c/rand', tag: 't', architecture: 'amd64' })
    proxy.cutRandomly(1)
    await expect(inspectRaw(proxy.host, 'c/rand:t')).rejects.toThrow(/EOF|reset|closed/i)
    proxy.stopCutting()
    expect(await outcomes()).toEqual(Array(40).fill('200'))
    expect((await inspectRaw(proxy.host, 'c/rand:t')).json.schemaVersion).toBe(2)
  })

  test('cutRandomly with match cuts matching requests, also on a kept-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      proxy.cutRandomly(1, { seed: 1, match: { method: 'PUT', path: '/manifests/' } })
      expect((await rawRequest(`${proxy.url}/v2/`, 'GET', { agent })).status).toBe(200)
      await expect(
        rawRequest(`${proxy.url}/v2/c/m/manifests/t`, 'PUT', { agent, body: '{}', headers: { 'Content-Type': MT.ociManifest } })
      ).rejects.toThrow()
      expect((await rawRequest(`${proxy.url}/v2/`, 'GET', { agent })).status).toBe(200)
      // An image push gets its blobs through and loses the manifest PUT.
      await expect(pushImage({ host: proxy.host, repo: 'c/m', tag: 't', architecture: 'amd64' })).rejects.toThrow()
      expect(proxy.log.filter(e => e.status === 'cut').map(e => e.method)).toEqual(['PUT', 'PUT'])
      expect(await inspectRaw(reg.host, 'c/m:t', { allowMissing: true })).toBeNull()
    } finally {
      agent.destroy()
    }
  })

  test('failAlways answers every matching request until clearFaults', async () => {
    proxy.failAlways(500, { method: 'PUT', path: '/manifests/' })
    for (let i = 0; i < 3; i++) {
      await expect(pushImage({ host: proxy.host, repo: 'f/always', tag: 't', architecture: 'amd64' })).rejects.toThrow(/-> 500/)
    }
    expect(proxy.log.filter(e => e.fault).map(e => `${e.method} ${e.status}`)).toEqual(['PUT 500', 'PUT 500', 'PUT 500'])
    expect(proxy.pending()).toBe(Infinity)
    expect(await inspectRaw(reg.host, 'f/always:t', { allowMissing: true })).toBeNull()
    proxy.clearFaults()
    const img = await pushImage({ host: proxy.host, repo: 'f/always', tag: 't', architecture: 'amd64' })
    expect((await inspectRaw(reg.host, 'f/always:t')).digest).toBe(img.digest)
  })

  test('staleAfterPut: reads of a tag serve what it held before the PUT (or 404), not by digest', async () => {
    const repo = 's/tale'
    const old = await pushImage({ host: reg.host, repo, tag: 't', architecture: 'amd64' })
    proxy.staleAfterPut(600_000)
    const fresh = await pushImage({ host: proxy.host, repo, tag: 't', architecture: 'amd64', salt: 'new' })
    expect((await inspectRaw(reg.host, `${repo}:t`)).digest).toBe(fresh.digest)
    expect((await inspectRaw(proxy.host, `${repo}:t`)).digest).toBe(old.digest)
    for (const method of ['HEAD', 'GET']) {
      const r = await rawRequest(`${proxy.url}/v2/${repo}/manifests/t`, method, { headers: { Accept: MT.ociManifest } })
      expect({
        status: r.status,
        type: r.headers['content-type'],
        digest: r.headers['docker-content-digest'],
        length: r.headers['content-length']
      }).toEqual({ status: 200, type: MT.ociManifest, digest: old.digest, length: String(old.size) })
    }
    expect((await inspectRaw(proxy.host, `${repo}@${fresh.digest}`)).digest).toBe(fresh.digest)
    // A tag that did not exist stays missing.
    await pushImage({ host: proxy.host, repo, tag: 'new', architecture: 'arm64' })
    expect(await inspectRaw(proxy.host, `${repo}:new`, { allowMissing: true })).toBeNull()
    expect((await rawRequest(`${proxy.url}/v2/${repo}/manifests/new`, 'HEAD')).status).toBe(404)
    expect(await inspectRaw(reg.host, `${repo}:new`, { allowMissing: true })).not.toBeNull()
    // Another PUT within the window: still the manifest from before the first one.
    const newer = await pushImage({ host: proxy.host, repo, tag: 't', architecture: 'amd64', salt: 'newer' })
    expect((await inspectRaw(proxy.host, `${repo}:t`)).digest).toBe(old.digest)
    proxy.clearFaults()
    expect((await inspectRaw(proxy.host, `${repo}:t`)).digest).toBe(newer.digest)
    // The window ends by itself: it started before the PUT was answered, so it is over 300 ms later.
    proxy.staleAfterPut(100)
    const last = await pushImage({ host: proxy.host, repo, tag: 't', architecture: 'amd64', salt: 'last' })
    await new Promise(resolve => setTimeout(resolve, 300))
    expect((await inspectRaw(proxy.host, `${repo}:t`)).digest).toBe(last.digest)
  })

  test('lie: doctored lists by tag with their own digest and length; by digest and single images the truth', async () => {
    const repo = 'l/ie'
    const amd = await pushImage({ host: reg.host, repo, architecture: 'amd64' })
    const arm = await pushImage({ host: reg.host, repo, architecture: 'arm64' })
    const truth = await pushIndex({
      host: reg.host,
      repo,
      tag: 'v',
      manifests: [amd, arm],
      annotations: { 'org.opencontainers.image.version': '1' }
    })
    const single = await pushImage({ host: reg.host, repo, tag: 'single', architecture: 'amd64', salt: 'single' })
    const truthJson = (await inspectRaw(reg.host, `${repo}:v`)).json

    /** What the proxy serves for the tag, checking its headers describe its bytes, for GET and HEAD. */
    const served = async (): Promise<Awaited<ReturnType<typeof inspectRaw>>> => {
      const m = await inspectRaw(proxy.host, `${repo}:v`)
      const get = await rawRequest(`${proxy.url}/v2/${repo}/manifests/v`, 'GET', { headers: { Accept: MT.ociIndex } })
      const head = await rawRequest(`${proxy.url}/v2/${repo}/manifests/v`, 'HEAD', { headers: { Accept: MT.ociIndex } })
      expect(sha256(get.body)).toBe(m.digest)
      for (const r of [get, head]) {
        expect({
          digest: r.headers['docker-content-digest'],
          length: r.headers['content-length'],
          type: r.headers['content-type']
        }).toEqual({ digest: m.digest, length: String(get.body.length), type: MT.ociIndex })
      }
      return m
    }

    proxy.lie('drop-annotations')
    let m = await served()
    expect(m.digest).not.toBe(truth.digest)
    expect(m.json.annotations).toBeUndefined()
    expect(m.json.manifests).toEqual(truthJson.manifests)
    expect((await inspectRaw(proxy.host, `${repo}@${truth.digest}`)).digest).toBe(truth.digest)
    expect((await inspectRaw(proxy.host, `${repo}:single`)).digest).toBe(single.digest)

    proxy.clearFaults()
    proxy.lie('lose-entry')
    m = await served()
    expect(m.json.manifests.map((e: { digest: string }) => e.digest)).toEqual([amd.digest])
    expect(m.json.annotations).toEqual(truthJson.annotations)

    proxy.clearFaults()
    proxy.lie('other-list')
    m = await served()
    expect(m.digest).not.toBe(truth.digest)
    expect(m.json.manifests).toEqual([...truthJson.manifests].reverse())
    expect(platformsOf(m.json)).toEqual(platformsOf(truthJson))

    // With match: only HEAD lies.
    proxy.clearFaults()
    proxy.lie('lose-entry', { match: { method: 'HEAD' } })
    const head = await rawRequest(`${proxy.url}/v2/${repo}/manifests/v`, 'HEAD', { headers: { Accept: MT.ociIndex } })
    expect(head.headers['docker-content-digest']).not.toBe(truth.digest)
    expect((await inspectRaw(proxy.host, `${repo}:v`)).digest).toBe(truth.digest)

    proxy.clearFaults()
    expect((await served()).digest).toBe(truth.digest)
    expect(() => proxy.lie('nonsense' as never)).toThrow(/unknown lie/)
  })

  test('hangAll: connections accepted, (matching) requests never answered until release', async () => {
    await pushImage({ host: reg.host, repo: 'h/ang', tag: 't', architecture: 'amd64' })
    proxy.hangAll({ path: '/manifests/' })
    const pending = rawRequest(`${proxy.url}/v2/h/ang/manifests/t`, 'GET')
    pending.catch(() => undefined)
    while (proxy.hanging() === 0) await new Promise(resolve => setTimeout(resolve, 20))
    expect((await rawRequest(`${proxy.url}/v2/`)).status).toBe(200)
    // skopeo waits for an answer that never comes, until its own deadline.
    await expect(
      skopeo(['--command-timeout=2s', 'inspect', '--raw', '--tls-verify=false', '--no-creds', `docker://${proxy.host}/h/ang:t`])
    ).rejects.toThrow(/deadline|timeout/i)
    expect(proxy.log.filter(e => e.status === 'hang').length).toBeGreaterThanOrEqual(2)
    proxy.release()
    await expect(pending).rejects.toThrow()
    expect((await inspectRaw(proxy.host, 'h/ang:t')).json.schemaVersion).toBe(2)
  })

  test('onFirst runs its hook before forwarding the first matching request, once', async () => {
    const repo = 'o/first'
    const img = await pushImage({ host: reg.host, repo, tag: 't', architecture: 'amd64' })
    let calls = 0
    const done = proxy.onFirst({ method: ['GET', 'HEAD'], path: `/${repo}/manifests/t` }, async () => {
      calls++
      await deleteManifest(reg.host, repo, img.digest)
    })
    // The image is deleted between "push" and this read.
    expect(await inspectRaw(proxy.host, `${repo}:t`, { allowMissing: true })).toBeNull()
    await done
    const again = await pushImage({ host: reg.host, repo, tag: 't', architecture: 'amd64', salt: 'again' })
    expect((await inspectRaw(proxy.host, `${repo}:t`)).digest).toBe(again.digest)
    expect(calls).toBe(1)
    // A failing hook rejects its promise; the request goes on.
    const failing = proxy.onFirst({ path: '/v2/' }, () => {
      throw new Error('boom')
    })
    expect((await rawRequest(`${proxy.url}/v2/`)).status).toBe(200)
    await expect(failing).rejects.toThrow('boom')
    const never = proxy.onFirst({ method: 'DELETE' }, () => undefined)
    proxy.clearFaults()
    await expect(never).rejects.toThrow(/cleared/)
  })

  test('holdWhen holds matching requests (not forwarded) until releaseHeld, then forwards them', async () => {
    const repo = 'o/held'
    proxy.holdWhen({ method: 'PUT', path: '/manifests/' })
    const push = pushImage({ host: proxy.host, repo, tag: 't', architecture: 'arm64' })
    await proxy.whenHeld(1)
    expect(proxy.held()).toBe(1)
    expect(await inspectRaw(reg.host, `${repo}:t`, { allowMissing: true })).toBeNull()
    expect((await rawRequest(`${proxy.url}/v2/`)).status).toBe(200)
    proxy.releaseHeld()
    const img = await push
    expect(proxy.held()).toBe(0)
    expect((await inspectRaw(reg.host, `${repo}:t`)).digest).toBe(img.digest)
    // Holding ended with the release.
    expect((await pushImage({ host: proxy.host, repo, tag: 'u', architecture: 'arm64' })).digest).toBe(img.digest)
  })
})

type TokenServer = NonNullable<Registry['token']>

/** The header lines `name` has in an answer, as sent (node joins repeated ones in `headers`). */
const headerLines = (r: { rawHeaders: string[] }, name: string): string[] =>
  r.rawHeaders.flatMap((v, i) => (i % 2 === 1 && r.rawHeaders[i - 1].toLowerCase() === name ? [v] : []))

/** A token from `token`'s realm for `scope`, fetched as a client does (Basic auth of `user`). */
async function fetchToken(token: TokenServer, scope: string, user: TokenUser): Promise<string> {
  const headers = { Authorization: 'Basic ' + Buffer.from(`${user.user}:${user.password}`).toString('base64') }
  const res = await fetch(`${token.realm}?service=${token.service}&scope=${scope}`, { headers })
  expect(res.status).toBe(200)
  return ((await res.json()) as { token: string }).token
}

describe('token-auth registry', () => {
  let src: Registry
  let reg: Registry
  const ci: TokenUser = { user: 'ci', password: 'T0ken-harness', refreshToken: 'harness-refresh-token' }
  const reader: TokenUser = { user: 'reader', password: 'R3ad-harness', actions: ['pull'] }
  const tok = (): TokenServer => reg.token as TokenServer
  beforeAll(async () => {
    ;[src, reg] = await Promise.all([startRegistry(), startRegistry({ token: { users: [ci, reader] } })])
  })
  afterAll(async () => {
    await Promise.all([src?.stop(), reg?.stop()])
  })
  beforeEach(() => {
    tok().anonymousPull = false
  })

  /** Copy `ref` from `src` to the token registry with skopeo, with `creds` (none: --dest-no-creds). */
  const copy = (ref: string, creds?: TokenUser): Promise<Buffer> =>
    skopeo([
      'copy',
      '--src-tls-verify=false',
      '--src-no-creds',
      '--dest-tls-verify=false',
      ...(creds ? ['--dest-creds', `${creds.user}:${creds.password}`] : ['--dest-no-creds']),
      `docker://${src.host}/${ref}`,
      `docker://${reg.host}/${ref}`
    ])
  const since = (n: number): string[] =>
    tok()
      .log.slice(n)
      .map(e => `${e.grant} ${e.status} ${JSON.stringify(e.access.map(a => a.actions))}`)

  test('skopeo pushes with a user’s credentials, not with a wrong password nor as a pull-only user; token requests logged', async () => {
    expect(reg.auth).toBe(ci)
    expect((await fetch(`${reg.url}/v2/`)).headers.get('www-authenticate')).toBe(`Bearer realm="${tok().realm}",service="${tok().service}"`)
    const img = await pushImage({ host: src.host, repo: 'k/push', tag: 't', architecture: 'amd64' })
    await copy('k/push:t', ci)
    expect((await inspectRaw(reg.host, 'k/push:t', { auth: ci })).digest).toBe(img.digest)
    const pushes = tok().log.filter(e => e.scopes.includes('repository:k/push:pull,push'))
    expect(pushes.length).toBeGreaterThan(0)
    expect(tok().count('repository:k/push:pull,push')).toBe(pushes.length)
    expect(pushes[0]).toMatchObject({
      method: 'GET',
      grant: 'basic',
      user: 'ci',
      service: tok().service,
      userAgent: expect.stringMatching(/^skopeo\//),
      status: 200,
      access: [{ type: 'repository', name: 'k/push', actions: ['pull', 'push'] }]
    })
    let n = tok().log.length
    await expect(copy('k/push:t', { ...ci, password: 'wrong' })).rejects.toThrow(/incorrect username or password/)
    expect(since(n)).toContain('basic 401 []')
    n = tok().log.length
    await expect(copy('k/push:t', reader)).rejects.toThrow(/denied/)
    expect(since(n)).toContain('basic 200 [["pull"]]')
  })

  test('anonymous requests get a token without access (as Docker Hub), pull only with anonymousPull', async () => {
    await pushImage({ host: src.host, repo: 'k/anon', tag: 't', architecture: 'amd64' })
    await copy('k/anon:t', ci)
    let n = tok().log.length
    await expect(inspectRaw(reg.host, 'k/anon:t')).rejects.toThrow(/unauthorized|denied/)
    expect(new Set(since(n))).toEqual(new Set(['anonymous 200 []'])) // skopeo asks more than once
    tok().anonymousPull = true
    n = tok().log.length
    expect((await inspectRaw(reg.host, 'k/anon:t')).json.schemaVersion).toBe(2)
    expect(since(n)).toEqual(['anonymous 200 [["pull"]]'])
    await expect(copy('k/anon:t')).rejects.toThrow(/denied|unauthorized/)
  })

  test('identity token from an auth file (refresh_token grant); password grant hands out the refresh token', async () => {
    await pushImage({ host: src.host, repo: 'k/ident', tag: 't', architecture: 'arm64' })
    await copy('k/ident:t', ci)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-authfile-'))
    try {
      const authFile = path.join(dir, 'auth.json')
      const write = (identitytoken: string): void =>
        fs.writeFileSync(
          authFile,
          JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${ci.user}:`).toString('base64'), identitytoken } } })
        )
      write(ci.refreshToken as string)
      let n = tok().log.length
      expect((await inspectRaw(reg.host, 'k/ident:t', { authFile })).json.schemaVersion).toBe(2)
      expect(tok().log.slice(n)).toMatchObject([
        { method: 'POST', grant: 'refresh', user: 'ci', scopes: ['repository:k/ident:pull'], status: 200 }
      ])
      write('not-a-refresh-token')
      n = tok().log.length
      await expect(inspectRaw(reg.host, 'k/ident:t', { authFile })).rejects.toThrow(/400|invalid_grant/)
      expect(since(n)).toEqual(['refresh 400 []'])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    const form = new URLSearchParams({
      grant_type: 'password',
      username: ci.user,
      password: ci.password,
      service: tok().service,
      scope: 'repository:k/ident:pull',
      client_id: 'harness',
      access_type: 'offline'
    })
    const res = await fetch(tok().realm, { method: 'POST', body: form })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number; issued_at: string }
    expect(body).toMatchObject({ refresh_token: ci.refreshToken, expires_in: 300 })
    const got = await fetch(`${reg.url}/v2/k/ident/tags/list`, { headers: { Authorization: `Bearer ${body.access_token}` } })
    expect(await got.json()).toEqual({ name: 'k/ident', tags: ['t'] })
  })

  test('a POST that is not a form or has no client_id: 400 invalid_request; answerAs() shapes the 200 answers until undefined', async () => {
    const form = (o: Record<string, string>): string =>
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: ci.refreshToken as string,
        service: tok().service,
        scope: 'repository:k/x:pull',
        ...o
      }).toString()
    const post = async (body: string, type: string): Promise<unknown> => {
      const res = await fetch(tok().realm, { method: 'POST', body, headers: { 'content-type': type } })
      return { status: res.status, error: ((await res.json()) as { error?: string }).error }
    }
    const formType = 'application/x-www-form-urlencoded'
    const n = tok().log.length
    expect(await post(form({ client_id: 'containers/image' }), formType)).toEqual({ status: 200, error: undefined })
    expect(await post(form({ client_id: 'containers/image' }), `${formType}; charset=utf-8`)).toEqual({ status: 200, error: undefined })
    const invalid = { status: 400, error: 'invalid_request' }
    expect(await post(form({}), formType)).toEqual(invalid)
    expect(await post(form({ client_id: '' }), formType)).toEqual(invalid)
    expect(await post(form({ client_id: 'containers/image' }), 'text/plain')).toEqual(invalid)
    expect(await post(JSON.stringify({ client_id: 'containers/image' }), 'application/json')).toEqual(invalid)
    expect(
      tok()
        .log.slice(n)
        .map(e => [e.status, e.clientId])
    ).toEqual([
      [200, 'containers/image'],
      [200, 'containers/image'],
      [400, undefined],
      [400, ''],
      [400, 'containers/image'],
      [400, undefined]
    ])
    const basic = { headers: { Authorization: 'Basic ' + Buffer.from(`${ci.user}:${ci.password}`).toString('base64') } }
    const get = async (): Promise<{ type: string | null; text: string }> => {
      const res = await fetch(`${tok().realm}?service=${tok().service}&scope=repository:k/x:pull`, basic)
      expect(res.status).toBe(200)
      return { type: res.headers.get('content-type'), text: await res.text() }
    }
    try {
      tok().answerAs(({ token, expiresIn }) => ({ access_token: token, expires_in: expiresIn + 1 }))
      const shaped = JSON.parse((await get()).text) as Record<string, unknown>
      expect(Object.keys(shaped)).toEqual(['access_token', 'expires_in'])
      expect(shaped.expires_in).toBe(tok().expiresIn + 1)
      const list = await fetch(`${reg.url}/v2/k/x/tags/list`, { headers: { Authorization: `Bearer ${String(shaped.access_token)}` } })
      expect(list.status).toBe(404) // a real token: the registry takes it, and has no such repository
      tok().answerAs(() => 'not json')
      expect(await get()).toEqual({ type: 'text/plain', text: 'not json' })
      tok().answerAs(undefined)
      expect(Object.keys(JSON.parse((await get()).text) as object)).toEqual(['token', 'access_token', 'expires_in', 'issued_at'])
    } finally {
      tok().answerAs(undefined)
    }
  })

  test('the registry checks tokens: another repository, expired beyond the leeway; buildah pushes a list', async () => {
    await pushImage({ host: src.host, repo: 'k/list', tag: 'amd64', architecture: 'amd64' })
    await copy('k/list:amd64', ci)
    const list = (token: string): Promise<number> =>
      fetch(`${reg.url}/v2/k/list/tags/list`, { headers: { Authorization: `Bearer ${token}` } }).then(r => r.status)
    const access = [{ type: 'repository', name: 'k/list', actions: ['pull'] }]
    expect(await list(tok().issue('ci', access))).toBe(200)
    expect(await list(tok().issue('ci', [{ ...access[0], name: 'k/other' }]))).toBe(401)
    expect(await list(tok().issue('ci', access, -120))).toBe(401) // distribution allows 60 s past exp
    expect(await list(await fetchToken(tok(), 'repository:k/list:pull', ci))).toBe(200)

    const storage = makeSharedStorage()
    try {
      const env = { ...process.env, CONTAINERS_STORAGE_CONF: path.join(storage, 'storage.conf') }
      const creds = ['--tls-verify=false', '--creds', `${ci.user}:${ci.password}`]
      const buildah = (args: string[]): Promise<void> =>
        new Promise((resolve, reject) =>
          require('node:child_process').execFile('buildah', args, { env }, (err: Error | null, _out: string, stderr: string) =>
            err ? reject(new Error(`buildah ${args.join(' ')}: ${stderr}`)) : resolve()
          )
        )
      await buildah(['manifest', 'create', 'localhost/harness-token-list'])
      await buildah(['manifest', 'add', ...creds, 'localhost/harness-token-list', `docker://${reg.host}/k/list:amd64`])
      await buildah(['manifest', 'push', '--all', ...creds, 'localhost/harness-token-list', `docker://${reg.host}/k/list:v1`])
      await expect(
        buildah([
          'manifest',
          'push',
          '--all',
          '--tls-verify=false',
          '--creds',
          `${ci.user}:wrong`,
          'localhost/harness-token-list',
          `docker://${reg.host}/k/list:v2`
        ])
      ).rejects.toThrow(/incorrect username or password/)
    } finally {
      fs.rmSync(storage, { recursive: true, force: true })
    }
    expect(platformsOf((await inspectRaw(reg.host, 'k/list:v1', { auth: ci })).json)).toEqual(['linux/amd64'])
    expect(await inspectRaw(reg.host, 'k/list:v2', { auth: ci, allowMissing: true })).toBeNull()
  })
})

describe('proxy: registries that answer unlike distribution', () => {
  let basic: Registry
  let bearer: Registry
  let pb: Proxy
  let pt: Proxy
  const ci: TokenUser = { user: 'ci', password: 'Pr0xy-harness' }
  const tok = (): TokenServer => bearer.token as TokenServer
  let img: Awaited<ReturnType<typeof pushImage>>
  beforeAll(async () => {
    ;[basic, bearer] = await Promise.all([startRegistry({ htpasswd: ci }), startRegistry({ token: { users: [ci] } })])
    ;[pb, pt] = await Promise.all([startProxy({ target: basic.host }), startProxy({ target: bearer.host })])
    img = await pushImage({ host: basic.host, repo: 'r/img', tag: 't', architecture: 'amd64', auth: ci })
    const creds = `${ci.user}:${ci.password}`
    await skopeo([
      'copy',
      '--src-tls-verify=false',
      '--src-creds',
      creds,
      '--dest-tls-verify=false',
      '--dest-creds',
      creds,
      `docker://${basic.host}/r/img:t`,
      `docker://${bearer.host}/r/img:t`
    ])
  })
  afterAll(async () => {
    await Promise.all([pb?.stop(), pt?.stop()])
    await Promise.all([basic?.stop(), bearer?.stop()])
  })
  beforeEach(() => {
    for (const p of [pb, pt]) {
      p.clearFaults()
      p.reset()
    }
  })

  test('challenges: a second challenge on one line or two, the realm still the token server’s', async () => {
    const own = `Bearer realm="${tok().realm}",service="${tok().service}"`
    const other = 'Basic realm="multiarch-publish-proxy"'
    const served = async (p: Proxy, url = '/v2/'): Promise<string[]> => {
      const r = await rawRequest(`${p.url}${url}`)
      expect(r.status).toBe(401)
      return headerLines(r, 'www-authenticate')
    }
    expect(await served(pt)).toEqual([own])
    pt.challenges('one-line')
    expect(await served(pt)).toEqual([`${own}, ${other}`])
    expect(await served(pt, '/v2/r/img/manifests/t')).toEqual([`${own},scope="repository:r/img:pull", ${other}`])
    pt.challenges('two-lines')
    expect(await served(pt)).toEqual([other, own])
    pt.challenges('basic-first-one-line')
    expect(await served(pt)).toEqual([`${other}, ${own}`])
    expect(pt.log.map(e => e.mode)).toEqual([undefined, 'challenges', 'challenges', 'challenges', 'challenges'])
    // The realm gives a token the registry takes through the proxy.
    const token = await fetchToken(tok(), 'repository:r/img:pull', ci)
    const ok = await rawRequest(`${pt.url}/v2/r/img/manifests/t`, 'GET', {
      headers: { Authorization: `Bearer ${token}`, Accept: MT.ociManifest }
    })
    expect(sha256(ok.body)).toBe(img.digest)
    // A Basic registry gets Negotiate, which no registry client speaks.
    pb.challenges('one-line')
    expect(await served(pb)).toEqual(['Basic realm="multiarch-publish-test", Negotiate'])
    pb.challenges('two-lines')
    expect(await served(pb)).toEqual(['Negotiate', 'Basic realm="multiarch-publish-test"'])
    expect(() => pb.challenges('nonsense' as never)).toThrow(/unknown challenges mode/)
  })

  test('dropDigestOnHead: HEAD answers lack the digest and ETag, GET keeps them', async () => {
    const headers = { Authorization: 'Basic ' + Buffer.from(`${ci.user}:${ci.password}`).toString('base64'), Accept: MT.ociManifest }
    const url = `${pb.url}/v2/r/img/manifests/t`
    pb.dropDigestOnHead()
    const head = await rawRequest(url, 'HEAD', { headers })
    expect(head.status).toBe(200)
    expect([head.headers['docker-content-digest'], head.headers.etag]).toEqual([undefined, undefined])
    expect(head.headers['content-length']).toBe(String(img.size))
    expect((await rawRequest(url, 'GET', { headers })).headers['docker-content-digest']).toBe(img.digest)
    expect(pb.log.map(e => `${e.method} ${e.mode}`)).toEqual(['HEAD drop-digest', 'GET undefined'])
    pb.clearFaults()
    expect((await rawRequest(url, 'HEAD', { headers })).headers['docker-content-digest']).toBe(img.digest)
  })

  test('redirectBlobs: 307 to a store on 127.0.0.2 that refuses Authorization; skopeo copies through it', async () => {
    const manifest = JSON.parse((await inspectRaw(bearer.host, 'r/img:t', { auth: ci })).raw.toString('utf8'))
    const blob = `${pt.url}/v2/r/img/blobs/${manifest.config.digest}`
    await pt.redirectBlobs()
    expect((await rawRequest(blob)).status).toBe(401) // the registry's answer: nothing stored
    const auth = { Authorization: `Bearer ${await fetchToken(tok(), 'repository:r/img:pull', ci)}` }
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const redirect = await rawRequest(blob, 'GET', { headers: auth, agent })
      expect(redirect.status).toBe(307)
      const location = String(redirect.headers.location)
      expect(location).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/blobs\/.*X-Amz-Signature=/)
      const refused = await rawRequest(location, 'GET', { headers: auth })
      expect(refused.status).toBe(400)
      expect(refused.body.toString()).toContain('Only one auth mechanism allowed')
      expect(pt.refusedForAuth()).toBe(1)
      const served = await rawRequest(location)
      expect(served.status).toBe(200)
      expect(sha256(served.body)).toBe(manifest.config.digest)
      // One conn id per connection: the kept-alive one keeps its id, the store's are numbered apart.
      await rawRequest(`${pt.url}/v2/`, 'GET', { agent })
      expect(pt.log.map(e => `${e.status} ${e.mode}`)).toEqual(['401 undefined', '307 redirect', '401 undefined'])
      expect(pt.blobLog.map(e => e.status)).toEqual([400, 200])
      const [first, kept, again] = pt.log.map(e => e.conn)
      expect(again).toBe(kept)
      expect(new Set([first, kept, ...pt.blobLog.map(e => e.conn)]).size).toBe(4)
    } finally {
      agent.destroy()
    }
    pt.reset()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-redirect-'))
    try {
      await skopeo([
        'copy',
        '--src-tls-verify=false',
        '--src-creds',
        `${ci.user}:${ci.password}`,
        `docker://${pt.host}/r/img:t`,
        `oci:${dir}:x`
      ])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    expect(pt.refusedForAuth()).toBe(0)
    expect(pt.blobLog.map(e => e.status)).toEqual([200, 200]) // config and layer
    pt.clearFaults()
    expect((await rawRequest(blob, 'GET', { headers: auth })).status).toBe(200)
  })

  test('headDigest, bearerRealm, redirectNext, redirectManifests: each changes its answer, and clearFaults ends it', async () => {
    const headers = { Authorization: 'Basic ' + Buffer.from(`${ci.user}:${ci.password}`).toString('base64'), Accept: MT.ociManifest }
    const url = `${pb.url}/v2/r/img/manifests/t`
    const other = `sha256:${'1'.repeat(64)}`
    const realm = async (): Promise<string[]> => headerLines(await rawRequest(`${pt.url}/v2/`), 'www-authenticate')
    pb.headDigest(other)
    pb.redirectNext(1, { method: 'GET', path: '/manifests/t' })
    await pb.redirectManifests()
    const head = await rawRequest(url, 'HEAD', { headers })
    const loop = await rawRequest(url, 'GET', { headers })
    const stored = await rawRequest(url, 'GET', { headers })
    const location = String(stored.headers.location)
    expect({ head: head.headers['docker-content-digest'], loop: [loop.status, loop.headers.location], stored: stored.status }).toEqual({
      head: other,
      loop: [307, '/v2/r/img/manifests/t'],
      stored: 307
    })
    expect(location).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/blobs\//)
    expect((await rawRequest(location, 'GET', { headers })).status).toBe(400)
    expect(sha256((await rawRequest(location)).body)).toBe(img.digest)
    expect({ refused: pb.refusedManifestsForAuth(), store: pb.manifestLog.map(e => e.status) }).toEqual({ refused: 1, store: [400, 200] })
    expect(pb.log.map(e => `${e.method} ${e.status} ${e.mode}`)).toEqual([
      'HEAD 200 head-digest',
      'GET 307 redirect-loop',
      'GET 307 redirect'
    ])
    pt.bearerRealm(null)
    expect(await realm()).toEqual([`Bearer service="${tok().service}"`])
    pt.bearerRealm('ftp://127.0.0.1/token')
    expect(await realm()).toEqual([`Bearer realm="ftp://127.0.0.1/token",service="${tok().service}"`])
    for (const p of [pb, pt]) p.clearFaults()
    expect(await realm()).toEqual([`Bearer realm="${tok().realm}",service="${tok().service}"`])
    expect((await rawRequest(url, 'HEAD', { headers })).headers['docker-content-digest']).toBe(img.digest)
    expect((await rawRequest(url, 'GET', { headers })).status).toBe(200)
  })

  test('answerNext, cutBodyNext, chunkedBlobs, bearerService: each changes its answer, and clearFaults ends it', async () => {
    const headers = { Authorization: 'Basic ' + Buffer.from(`${ci.user}:${ci.password}`).toString('base64'), Accept: MT.ociManifest }
    const url = `${pb.url}/v2/r/img/manifests/t`
    const config = (JSON.parse((await rawRequest(url, 'GET', { headers })).body.toString()) as { config: { digest: string } }).config.digest
    const blobUrl = `${pb.url}/v2/r/img/blobs/${config}`
    const realm = async (): Promise<string[]> => headerLines(await rawRequest(`${pt.url}/v2/`), 'www-authenticate')
    pb.reset()
    const body = JSON.stringify({ errors: [{ code: 'DENIED' }] })
    pb.answerNext(1, 403, body, { method: 'GET', path: '/manifests/t' })
    const answered = await rawRequest(url, 'GET', { headers })
    expect({ status: answered.status, type: answered.headers['content-type'], body: answered.body.toString() }).toEqual({
      status: 403,
      type: 'application/json',
      body
    })
    pb.cutBodyNext(1, { method: 'GET', path: '/manifests/t' })
    // 'aborted': the headers came and the body stopped short (a cut before them is a 'socket hang up').
    await expect(rawRequest(url, 'GET', { headers })).rejects.toThrow(/^aborted$/)
    pb.chunkedBlobs()
    const chunked = await rawRequest(blobUrl, 'GET', { headers })
    expect({
      length: chunked.headers['content-length'],
      encoding: chunked.headers['transfer-encoding'],
      digest: sha256(chunked.body)
    }).toEqual({ length: undefined, encoding: 'chunked', digest: config })
    expect(pb.log.map(e => `${e.method} ${e.status} ${e.mode}`)).toEqual(['GET 403 answer', 'GET cut cut-body', 'GET 200 chunked'])
    pt.bearerService(null)
    expect(await realm()).toEqual([`Bearer realm="${tok().realm}"`])
    pt.bearerService('other')
    expect(await realm()).toEqual([`Bearer realm="${tok().realm}",service="other"`])
    pb.answerNext(1, 403, body)
    pb.cutBodyNext(1)
    for (const p of [pb, pt]) p.clearFaults()
    expect(await realm()).toEqual([`Bearer realm="${tok().realm}",service="${tok().service}"`])
    expect((await rawRequest(url, 'GET', { headers })).status).toBe(200)
    expect((await rawRequest(blobUrl, 'GET', { headers })).headers['content-length']).toBe(String(chunked.body.length))
  })
})

describe('in-process runner', () => {
  let reg: Registry
  beforeAll(async () => {
    reg = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
  })

  /** Loaded here, not at the top: it compiles src/, which must not keep the other harness tests from running. */
  const load = async (): Promise<typeof import('./inprocess')> => import('./inprocess')

  test('runInProcess gives the outputs runAction gives (dry-run publish, bad input) and puts the process back', async () => {
    const { runInProcess } = await load()
    const repo = 'inproc/dry'
    for (const a of [
      ['x86_64', 'amd64'],
      ['aarch64', 'arm64']
    ])
      await pushImage({ host: reg.host, repo, tag: `1-${a[0]}`, architecture: a[1] })
    const cases = [
      inputs([reg.host], repo, '1', ['x86_64', 'aarch64', 's390x'], { aliases: 'latest', 'dry-run': 'true' }),
      inputs([reg.host], '', '1', ['x86_64'])
    ]
    const env = { ...process.env }
    const write = process.stdout.write
    const ownWrite = Object.getOwnPropertyDescriptor(process.stdout, 'write')
    const results = []
    for (const ins of cases) {
      const spawned = await runAction(ins)
      const inproc = await runInProcess(ins)
      expect(process.env).toEqual(env)
      expect(process.exitCode).toBeUndefined()
      expect(process.stdout.write).toBe(write)
      expect(Object.getOwnPropertyDescriptor(process.stdout, 'write')).toEqual(ownWrite)
      expect(inproc.code).toBe(spawned.code)
      // Every output the bundle sets, the same; src/ may set more than a dist/ not rebuilt yet.
      expect(inproc.outputs).toMatchObject(spawned.outputs)
      expect(inproc.localLists).toEqual([])
      expect(inproc.steps.map(s => s.step)).toEqual(
        fs.existsSync(path.join(__dirname, '..', '..', 'src', 'post.ts')) ? ['main', 'post'] : ['main']
      )
      expect(fs.existsSync(inproc.tempDir)).toBe(false)
      expect(Object.keys(inproc.env).sort()).toEqual(Object.keys(spawned.env).sort())
      results.push(inproc)
    }
    expect(outputsOf(results[0])).toMatchObject({ result: 'dry-run', arches: ['x86_64', 'aarch64'], missing: ['s390x'], destinations: [] })
    expect(results[0].summary).toContain('dry-run')
    expect(results[1].code).toBe(1)
    expect(results[1].stdout).toMatch(/::error::Input "repo"/)
  })

  test('a failing run: exit code 1 reported, process.exitCode reset; out-of-process options refused; one run at a time', async () => {
    const { runInProcess } = await load()
    const r = await runInProcess(inputs([reg.host], '', '1', ['x86_64']))
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/::error::Input "repo"/)
    expect(r.outputs.result).toBe('failed')
    expect(process.exitCode).toBeUndefined()
    for (const opts of [{ killMain: new AbortController().signal }, { actionDir: '/tmp' }, { timeoutMs: 1000 }]) {
      await expect(runInProcess({}, opts)).rejects.toThrow(/use runAction for this/)
    }
    const first = runInProcess(inputs([reg.host], '', '1', ['x86_64']))
    await expect(runInProcess(inputs([reg.host], '', '1', ['x86_64']))).rejects.toThrow(/one|another in-process run/)
    expect((await first).code).toBe(1)
  })
})

describe('action runner helpers', () => {
  test('test/harness/*.d.ts are generated from the current JSDoc (run test/harness/gen-types.sh)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-dts-'))
    try {
      const lib = path.join(__dirname, '..', 'harness')
      const r = require('node:child_process').spawnSync('sh', [path.join(lib, 'gen-types.sh'), out], { encoding: 'utf8' })
      expect(r.status).toBe(0)
      for (const f of ['action.d.ts', 'images.d.ts', 'ports.d.ts', 'proxy.d.ts', 'registry.d.ts', 'tokenserver.d.ts']) {
        expect(`${f}:\n${fs.readFileSync(path.join(lib, f), 'utf8')}`).toBe(`${f}:\n${fs.readFileSync(path.join(out, f), 'utf8')}`)
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  })

  test('parseCommandFile reads heredocs and key=value lines', () => {
    const d = 'ghadelimiter_1234'
    expect(parseCommandFile(`a<<${d}\n["x","y"]\n${d}\nb=c=d\nmulti<<${d}\nl1\nl2\n${d}\n`)).toEqual({
      a: '["x","y"]',
      b: 'c=d',
      multi: 'l1\nl2'
    })
  })

  test('input env names follow the runner', () => {
    expect(inputEnvName('missing-arch-policy')).toBe('INPUT_MISSING-ARCH-POLICY')
    expect(inputEnvName('a b')).toBe('INPUT_A_B')
    expect(Object.keys(loadActionYml().inputs)).toEqual(expect.arrayContaining(['repo', 'tag', 'arches', 'registries', 'tls-verify']))
  })

  test('runAction passes inputs with defaults like a runner, parses outputs, runs post with state', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-fake-action-'))
    try {
      fs.mkdirSync(path.join(dir, 'dist'))
      fs.writeFileSync(
        path.join(dir, 'action.yml'),
        [
          'name: fake',
          'inputs:',
          '  repo:',
          '    required: true',
          '  missing-arch-policy:',
          '    default: fail',
          '  dry-run:',
          '    default: "false"',
          'runs:',
          '  using: node20',
          '  main: dist/main.js',
          '  post: dist/post.js',
          ''
        ].join('\n')
      )
      fs.writeFileSync(
        path.join(dir, 'dist', 'main.js'),
        `
        const fs = require('fs')
        const env = process.env
        fs.appendFileSync(env.GITHUB_OUTPUT, 'policy<<EOF_1\\n' + env['INPUT_MISSING-ARCH-POLICY'] + '\\nEOF_1\\n')
        fs.appendFileSync(env.GITHUB_OUTPUT, 'repo=' + env.INPUT_REPO + '\\n')
        fs.appendFileSync(env.GITHUB_OUTPUT, 'dry=' + env['INPUT_DRY-RUN'] + '\\n')
        fs.appendFileSync(env.GITHUB_OUTPUT, 'storage=' + env.CONTAINERS_STORAGE_CONF + '\\n')
        fs.appendFileSync(env.GITHUB_STATE, 'tmp=' + env.RUNNER_TEMP + '\\n')
        fs.appendFileSync(env.GITHUB_STEP_SUMMARY, '# hello\\n')
        process.exitCode = 3
      `
      )
      fs.writeFileSync(path.join(dir, 'dist', 'post.js'), 'console.log("post saw " + process.env.STATE_tmp)')
      const r = await runAction({ repo: 'a/b', 'dry-run': 'true' }, { actionDir: dir })
      expect(r.code).toBe(3)
      expect(r.outputs).toMatchObject({ policy: 'fail', repo: 'a/b', dry: 'true' })
      expect(r.outputs.storage).toMatch(/storage\.conf$/)
      expect(fs.existsSync(r.outputs.storage)).toBe(false) // removed with the run's temp dir
      expect(r.summary).toBe('# hello\n')
      expect(r.stateValues.tmp).toBe(r.runnerTemp)
      expect(r.steps.map(st => st.step)).toEqual(['main', 'post'])
      expect(r.steps[1].stdout).toBe(`post saw ${r.runnerTemp}\n`)
      expect(r.localLists).toEqual([])
      await expect(runAction({ nope: 'x' }, { actionDir: dir })).rejects.toThrow(/not an input/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('listLocal sees a manifest list in a private storage', () => {
    const dir = makeSharedStorage()
    try {
      const conf = path.join(dir, 'storage.conf')
      const env = { ...process.env, CONTAINERS_STORAGE_CONF: conf }
      const r = require('node:child_process').spawnSync('buildah', ['manifest', 'create', 'localhost/multiarch-publish-temp-harness-1-x'], {
        env,
        encoding: 'utf8'
      })
      expect(r.status).toBe(0)
      expect(listLocal(conf).lists).toEqual(['localhost/multiarch-publish-temp-harness-1-x:latest'])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
