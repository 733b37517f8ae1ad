/**
 * The relay (src/registry/relay.ts): `skopeo copy` reads its source through it, over the reader's
 * kept-alive connections, against real registries: the source behind the fault proxy with Basic
 * auth (htpasswd), the destination a plain registry. What the source registry saw is the proxy's log.
 */
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { inspectRaw, MT, pushBlob, pushImage, putManifest, sha256 } from '../harness/images'
import { startProxy } from '../harness/proxy'
import { startRegistry } from '../harness/registry'
import * as log from '../../src/log'
import { Reads } from '../../src/registry/reader'
import { Relay } from '../../src/registry/relay'
import { Skopeo, type AccessOptions } from '../../src/skopeo'
import { noSkopeo, type Proxy, type Registry } from './fixtures'

const ci = { user: 'ci', password: 'Relay-77c1-source' }

let source: Registry
let destination: Registry
let proxy: Proxy
let dir: string
let access: AccessOptions
let img: Awaited<ReturnType<typeof pushImage>>
const repo = 'relay/app'
const open: Array<{ close(): unknown }> = []

beforeAll(async () => {
  source = await startRegistry({ htpasswd: ci })
  destination = await startRegistry()
  proxy = await startProxy({ target: source.host })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-relay-'))
  const authFile = path.join(dir, 'auth.json')
  const auth = Buffer.from(`${ci.user}:${ci.password}`).toString('base64')
  fs.writeFileSync(authFile, JSON.stringify({ auths: { [proxy.host]: { auth } } }), { mode: 0o600 })
  access = { tlsVerify: false, authFile, env: { PATH: process.env.PATH, HOME: dir }, retries: 3, baseDelayMs: 10, maxDelayMs: 50 }
  img = await pushImage({ host: source.host, repo, tag: '1-x86_64', architecture: 'amd64', auth: ci, salt: 'relay' })
}, 60_000)

afterEach(async () => {
  for (const o of open.splice(0)) await o.close()
})

afterAll(async () => {
  await proxy.stop()
  await source.stop()
  await destination.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function started(mode: 'auto' | 'skopeo' = 'auto'): Promise<{ reads: Reads; relay: Relay }> {
  const reads = new Reads(noSkopeo, { mode, access, isSource: () => true, client: { idleMs: 10_000 } })
  const relay = await Relay.start(reads, dir)
  open.push(relay, reads)
  return { reads, relay }
}

function get(
  url: string,
  headers: http.OutgoingHttpHeaders = {},
  method = 'GET'
): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

test('a copy reads its source through the relay: the source registry sees blob GETs only (no ping, no manifest), and the destination gets the image by digest', async () => {
  const { reads, relay } = await started()
  const ref = `${proxy.host}/${repo}@${img.digest}`
  // As observe does before any copy: the manifest is read (and kept) by the reader.
  expect(await reads.manifest(ref)).not.toBeNull()
  const via = relay.source(ref)
  expect(via?.ref).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+/s0@${img.digest}$`))
  const before = proxy.log.length
  await new Skopeo(access).copy(ref, `${destination.host}/${repo}@${img.digest}`, { via })
  const during = proxy.log.slice(before).map(e => `${e.method} ${e.path.replace(/sha256:[0-9a-f]{64}/, '<digest>')} ${e.status}`)
  expect(during.length).toBeGreaterThan(0)
  expect(during.filter(line => line !== `GET /v2/${repo}/blobs/<digest> 200`)).toEqual([])
  expect((await inspectRaw(destination.host, `${repo}@${img.digest}`)).digest).toBe(img.digest)
})

test("answers only with the run's password, only for repositories the run named, and only reads", async () => {
  const { reads, relay } = await started()
  const ref = `${proxy.host}/${repo}@${img.digest}`
  const via = relay.source(ref)
  expect(via).toBeDefined()
  const base = `http://${via?.ref.split('/')[0]}`
  const file = JSON.parse(fs.readFileSync(via?.authFile ?? '', 'utf8')) as { auths: Record<string, { auth: string }> }
  const right = { authorization: `Basic ${Object.values(file.auths)[0].auth}` }
  const wrong = { authorization: `Basic ${Buffer.from('multiarch-publish:guess').toString('base64')}` }
  const manifest = `/v2/s0/manifests/${img.digest}`
  const answers = {
    anonymous: (await get(`${base}/v2/`)).status,
    anonymousManifest: (await get(`${base}${manifest}`)).status,
    wrongPassword: (await get(`${base}${manifest}`, wrong)).status,
    ping: (await get(`${base}/v2/`, right)).status,
    manifest: (await get(`${base}${manifest}`, right)).status,
    unnamedRepository: (await get(`${base}/v2/s1/manifests/${img.digest}`, right)).status,
    byTag: (await get(`${base}/v2/s0/manifests/1-x86_64`, right)).status,
    put: (await get(`${base}${manifest}`, right, 'PUT')).status,
    delete: (await get(`${base}${manifest}`, right, 'DELETE')).status
  }
  expect(answers).toEqual({
    anonymous: 401,
    anonymousManifest: 401,
    wrongPassword: 401,
    ping: 200,
    manifest: 200,
    unnamedRepository: 404,
    byTag: 404,
    put: 405,
    delete: 405
  })
  expect((await get(`${base}/v2/`)).headers['www-authenticate']).toMatch(/^Basic /)
  expect((await get(`${base}${manifest}`, right)).body).toEqual(await reads.manifest(ref))
  expect(fs.statSync(via?.authFile ?? '').mode & 0o777).toBe(0o600)
})

test('a repository whose reads go through skopeo is copied from its registry, not through the relay', async () => {
  const { relay } = await started('skopeo')
  expect(relay.source(`${proxy.host}/${repo}@${img.digest}`)).toBeUndefined()
})

test('the first two blob reads at the source cut: the reader retries them and the copy succeeds in its first attempt', async () => {
  const { reads, relay } = await started()
  const ref = `${proxy.host}/${repo}@${img.digest}`
  expect(await reads.manifest(ref)).not.toBeNull()
  proxy.cutNext(2, { path: /\/blobs\// })
  const target = `${destination.host}/${repo}-cut@${img.digest}`
  const warnings: string[] = []
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    if (String(chunk).startsWith('::warning::')) warnings.push(String(chunk))
    return true
  })
  const before = proxy.log.length
  try {
    await new Skopeo(access).copy(ref, target, { via: relay.source(ref) })
  } finally {
    spy.mockRestore()
  }
  expect(proxy.log.slice(before).filter(e => e.status === 'cut')).toHaveLength(2)
  // No attempt of the copy was redone: the cuts never reached skopeo.
  expect(warnings.filter(w => /succeeded after/.test(w))).toEqual([])
  expect((await inspectRaw(destination.host, `${repo}-cut@${img.digest}`)).digest).toBe(img.digest)
})

/** The relay's base URL and the Authorization header of its auth file, for `ref`'s repository. */
function client(relay: Relay, ref: string): { base: string; right: http.OutgoingHttpHeaders; name: string } {
  const via = relay.source(ref)
  const [host, rest] = (via?.ref ?? '').split('/')
  const file = JSON.parse(fs.readFileSync(via?.authFile ?? '', 'utf8')) as { auths: Record<string, { auth: string }> }
  return { base: `http://${host}`, right: { authorization: `Basic ${file.auths[host].auth}` }, name: rest.split('@')[0] }
}

const errors = (body: Buffer): unknown => (JSON.parse(body.toString()) as { errors: unknown }).errors

test('answers as a read-only registry: the ping, HEAD and GET of manifests and blobs with their headers, each refusal with its code', async () => {
  const { reads, relay } = await started()
  const ref = `${proxy.host}/${repo}@${img.digest}`
  const raw = (await reads.manifest(ref)) as Buffer
  const config = (JSON.parse(raw.toString()) as { config: { digest: string } }).config.digest
  const { base, right } = client(relay, ref)
  const headersOf = (r: { headers: http.IncomingHttpHeaders }, ...names: string[]): unknown =>
    Object.fromEntries(names.map(n => [n, r.headers[n]]))
  for (const ping of ['/v2', '/v2/']) {
    const r = await get(`${base}${ping}`, right)
    expect({
      status: r.status,
      body: r.body.toString(),
      ...(headersOf(r, 'content-type', 'docker-distribution-api-version') as object)
    }).toEqual({
      status: 200,
      body: '{}',
      'content-type': 'application/json',
      'docker-distribution-api-version': 'registry/2.0'
    })
  }
  const manifest = `${base}/v2/s0/manifests/${img.digest}`
  const blob = `${base}/v2/s0/blobs/${config}`
  const head = await get(manifest, right, 'HEAD')
  expect({
    status: head.status,
    body: head.body.length,
    ...(headersOf(head, 'content-type', 'content-length', 'docker-content-digest') as object)
  }).toEqual({
    status: 200,
    body: 0,
    'content-type': MT.ociManifest,
    'content-length': String(raw.length),
    'docker-content-digest': img.digest
  })
  const got = await get(blob, right)
  expect({
    status: got.status,
    digest: sha256(got.body),
    ...(headersOf(got, 'content-type', 'content-length', 'docker-content-digest') as object)
  }).toEqual({
    status: 200,
    digest: config,
    'content-type': 'application/octet-stream',
    'content-length': String(got.body.length),
    'docker-content-digest': config
  })
  const headBlob = await get(blob, right, 'HEAD')
  expect({ status: headBlob.status, body: headBlob.body.length, length: headBlob.headers['content-length'] }).toEqual({
    status: 200,
    body: 0,
    length: String(got.body.length)
  })
  const missing = `sha256:${'0'.repeat(64)}`
  const refusals = await Promise.all(
    [
      get(`${base}/v2/s0/manifests/${missing}`, right),
      get(`${base}/v2/s0/blobs/${missing}`, right),
      get(`${base}/v2/s1/blobs/${config}`, right),
      get(manifest, right, 'PUT'),
      get(manifest)
    ].map(async r => {
      const { status, body, headers } = await r
      return { status, errors: errors(body), type: headers['content-type'] }
    })
  )
  const json = 'application/json'
  expect(refusals).toEqual([
    { status: 404, type: json, errors: [{ code: 'MANIFEST_UNKNOWN', message: `${missing} is not a manifest of ${proxy.host}/${repo}` }] },
    { status: 404, type: json, errors: [{ code: 'BLOB_UNKNOWN', message: `${missing} is not a blob of ${proxy.host}/${repo}` }] },
    { status: 404, type: json, errors: [{ code: 'NAME_UNKNOWN', message: 'not a repository of this run' }] },
    { status: 405, type: json, errors: [{ code: 'UNSUPPORTED', message: 'this registry is read-only' }] },
    { status: 401, type: json, errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }
  ])
})

test('the Content-Type of a manifest is its mediaType, OCI when it names none', async () => {
  const { reads, relay } = await started()
  const docker = await pushImage({ host: source.host, repo, architecture: 'arm64', auth: ci, salt: 'relay', mediaType: 'docker' })
  // An OCI manifest may leave mediaType out (its Content-Type says what it is).
  const bare = JSON.parse((await inspectRaw(source.host, `${repo}@${img.digest}`, { auth: ci })).raw.toString()) as Record<string, unknown>
  delete bare.mediaType
  const untyped = await putManifest({ host: source.host, repo, auth: ci }, undefined, Buffer.from(JSON.stringify(bare)), MT.ociManifest)
  const types: unknown[] = []
  for (const digest of [docker.digest, untyped.digest]) {
    const ref = `${proxy.host}/${repo}@${digest}`
    expect(await reads.manifest(ref)).not.toBeNull()
    const { base, right } = client(relay, ref)
    types.push((await get(`${base}/v2/s0/manifests/${digest}`, right)).headers['content-type'])
  }
  expect(types).toEqual([MT.dockerManifest, MT.ociManifest])
})

test('a read that fails upstream (after its retries) is a 503 naming why', async () => {
  const { relay } = await started()
  const ref = `${proxy.host}/${repo}@${img.digest}`
  const { base, right } = client(relay, ref)
  proxy.failAlways(500, { path: '/manifests/' })
  try {
    const r = await get(`${base}/v2/s0/manifests/${img.digest}`, right)
    expect({ status: r.status, errors: errors(r.body) }).toEqual({
      status: 503,
      errors: [{ code: 'UNAVAILABLE', message: expect.stringMatching(/^GET .*: internal server error \(status: 500\)/) }]
    })
  } finally {
    proxy.clearFaults()
  }
})

test('names: one per repository (s0, s1, …), by digest only; the password is masked and the relay listens on 127.0.0.1 only', async () => {
  const masked = jest.spyOn(log, 'setSecret')
  const { relay } = await started()
  const other = `sha256:${'1'.repeat(64)}`
  const names = [
    `${proxy.host}/${repo}@${img.digest}`,
    `${proxy.host}/${repo}-other@${img.digest}`,
    `${proxy.host}/${repo}@${other}`,
    `${proxy.host}/${repo}:1-x86_64`
  ].map(ref =>
    relay
      .source(ref)
      ?.ref.replace(/^[^/]+\//, '')
      .replace(/@.*/, '')
  )
  expect(names).toEqual(['s0', 's1', 's0', undefined])
  const { base, right } = client(relay, `${proxy.host}/${repo}@${img.digest}`)
  const password = Buffer.from(String(right.authorization).replace(/^Basic /, ''), 'base64')
    .toString()
    .replace(/^multiarch-publish:/, '')
  expect(masked.mock.calls).toContainEqual([password])
  masked.mockRestore()
  const port = new URL(base).port
  await expect(get(`http://127.0.0.2:${port}/v2/`, right)).rejects.toThrow(/ECONNREFUSED/)
})

test('a blob cut upstream mid-answer is cut through the relay too: the answer ends short, never looking complete', async () => {
  const { reads, relay } = await started()
  // Larger than every socket buffer between the registry and this test, so the cut lands mid-answer.
  const big = Buffer.alloc(48 << 20, 7)
  const digest = await pushBlob({ host: source.host, repo, auth: ci }, big)
  const ref = `${proxy.host}/${repo}@${img.digest}`
  expect(await reads.manifest(ref)).not.toBeNull()
  const { base, right } = client(relay, ref)
  const answer = await new Promise<{ status: number; length: string | undefined; received: number; complete: boolean }>(
    (resolve, reject) => {
      const req = http.get(`${base}/v2/s0/blobs/${digest}`, { headers: right }, res => {
        let received = 0
        const done = (): void =>
          resolve({ status: res.statusCode ?? 0, length: res.headers['content-length'], received, complete: res.complete })
        res.once('data', (chunk: Buffer) => {
          received += chunk.length
          // The answer is flowing: stop reading, cut the source's connections, then read what is left.
          res.pause()
          void proxy.down().then(() => {
            res.on('data', (c: Buffer) => (received += c.length))
            res.resume()
          })
        })
        res.on('end', done)
        res.on('error', done)
        res.on('close', done)
      })
      req.on('error', reject)
    }
  )
  await proxy.up()
  expect({ ...answer, received: answer.received < big.length }).toEqual({
    status: 200,
    length: String(big.length),
    received: true,
    complete: false
  })
})
