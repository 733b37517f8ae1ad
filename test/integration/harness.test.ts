/**
 * Tests of the test harness itself (scripts/lib): if these fail, the integration tests prove nothing.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startRegistry } from '../../scripts/lib/registry'
import { startProxy } from '../../scripts/lib/proxy'
import { pushImage, pushIndex, pushAttestation, attestationEntry, inspectRaw, inspectConfig, platformsOf, skopeo, MT } from '../../scripts/lib/images'
import { parseCommandFile, inputEnvName, loadActionYml, listLocal, makeSharedStorage, runAction } from '../../scripts/lib/action'

jest.setTimeout(120_000)

type Registry = Awaited<ReturnType<typeof startRegistry>>
type Proxy = Awaited<ReturnType<typeof startProxy>>

describe('registry + images', () => {
  let reg: Registry
  beforeAll(async () => { reg = await startRegistry() })
  afterAll(async () => { await reg?.stop() })

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

describe('registry lifecycle', () => {
  test('a registry dies with the process that started it, even on SIGKILL', async () => {
    const lib = path.join(__dirname, '..', '..', 'scripts', 'lib', 'registry.js')
    const { spawn, spawnSync } = require('node:child_process')
    const child = spawn(process.execPath, ['-e',
      `require(${JSON.stringify(lib)}).startRegistry().then(r => { console.log(r.host + ' ' + r.dir); setInterval(() => {}, 1000) })`],
      { stdio: ['ignore', 'pipe', 'inherit'] })
    const line: string = await new Promise((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())))
    const [host, dir] = line.split(' ')
    expect((await fetch(`http://${host}/v2/`)).status).toBe(200)
    child.kill('SIGKILL')
    let alive = true
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      alive = spawnSync('pgrep', ['-f', `docker-registry serve ${dir}/config.yml`]).status === 0
    }
    expect(alive).toBe(false)
    for (let i = 0; i < 30 && fs.existsSync(dir); i++) await new Promise((resolve) => setTimeout(resolve, 100))
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
  beforeAll(async () => { reg = await startRegistry({ htpasswd: auth }) })
  afterAll(async () => { await reg?.stop() })

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
  beforeAll(async () => { reg = await startRegistry({ tls: { clientCerts: true } }) })
  afterAll(async () => { await reg?.stop() })

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
  beforeEach(() => { proxy.clearFaults(); proxy.reset() })

  test('forwards, counts by method and keeps uploads on the proxy', async () => {
    const img = await pushImage({ host: proxy.host, repo: 'p/img', tag: 't', architecture: 'amd64' })
    expect(proxy.count('PUT')).toBe(3) // layer, config, manifest
    expect(proxy.count('POST')).toBe(2)
    expect(proxy.log.every((e: { method: string, status: number | string }) => typeof e.status === 'number' && e.status < 400 || e.method === 'HEAD')).toBe(true)
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

describe('action runner helpers', () => {
  test('scripts/lib/*.d.ts are generated from the current JSDoc (run scripts/lib/gen-types.sh)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-dts-'))
    try {
      const lib = path.join(__dirname, '..', '..', 'scripts', 'lib')
      const r = require('node:child_process').spawnSync('sh', [path.join(lib, 'gen-types.sh'), out], { encoding: 'utf8' })
      expect(r.status).toBe(0)
      for (const f of ['action.d.ts', 'images.d.ts', 'proxy.d.ts', 'registry.d.ts']) {
        expect(`${f}:\n${fs.readFileSync(path.join(lib, f), 'utf8')}`).toBe(`${f}:\n${fs.readFileSync(path.join(out, f), 'utf8')}`)
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  })

  test('parseCommandFile reads heredocs and key=value lines', () => {
    const d = 'ghadelimiter_1234'
    expect(parseCommandFile(`a<<${d}\n["x","y"]\n${d}\nb=c=d\nmulti<<${d}\nl1\nl2\n${d}\n`)).toEqual({ a: '["x","y"]', b: 'c=d', multi: 'l1\nl2' })
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
      fs.writeFileSync(path.join(dir, 'action.yml'), [
        'name: fake', 'inputs:', '  repo:', '    required: true', '  missing-arch-policy:', '    default: fail',
        '  dry-run:', '    default: "false"', 'runs:', '  using: node20', '  main: dist/main.js', '  post: dist/post.js', ''
      ].join('\n'))
      fs.writeFileSync(path.join(dir, 'dist', 'main.js'), `
        const fs = require('fs')
        const env = process.env
        fs.appendFileSync(env.GITHUB_OUTPUT, 'policy<<EOF_1\\n' + env['INPUT_MISSING-ARCH-POLICY'] + '\\nEOF_1\\n')
        fs.appendFileSync(env.GITHUB_OUTPUT, 'repo=' + env.INPUT_REPO + '\\n')
        fs.appendFileSync(env.GITHUB_OUTPUT, 'dry=' + env['INPUT_DRY-RUN'] + '\\n')
        fs.appendFileSync(env.GITHUB_OUTPUT, 'storage=' + env.CONTAINERS_STORAGE_CONF + '\\n')
        fs.appendFileSync(env.GITHUB_STATE, 'tmp=' + env.RUNNER_TEMP + '\\n')
        fs.appendFileSync(env.GITHUB_STEP_SUMMARY, '# hello\\n')
        process.exitCode = 3
      `)
      fs.writeFileSync(path.join(dir, 'dist', 'post.js'), 'console.log("post saw " + process.env.STATE_tmp)')
      const r = await runAction({ repo: 'a/b', 'dry-run': 'true' }, { actionDir: dir })
      expect(r.code).toBe(3)
      expect(r.outputs).toMatchObject({ policy: 'fail', repo: 'a/b', dry: 'true' })
      expect(r.outputs.storage).toMatch(/storage\.conf$/)
      expect(fs.existsSync(r.outputs.storage)).toBe(false) // removed with the run's temp dir
      expect(r.summary).toBe('# hello\n')
      expect(r.stateValues.tmp).toBe(r.runnerTemp)
      expect(r.steps.map((st) => st.step)).toEqual(['main', 'post'])
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
      const r = require('node:child_process').spawnSync('buildah', ['manifest', 'create', 'localhost/multiarch-publish-temp-harness-1-x'], { env, encoding: 'utf8' })
      expect(r.status).toBe(0)
      expect(listLocal(conf).lists).toEqual(['localhost/multiarch-publish-temp-harness-1-x:latest'])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
