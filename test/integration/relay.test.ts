/**
 * The relay (src/registry/relay.ts): `skopeo copy` reads its source through it, over the reader's
 * kept-alive connections, against real registries: the source behind the fault proxy with Basic
 * auth (htpasswd), the destination a plain registry. What the source registry saw is the proxy's log.
 */
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { inspectRaw, pushImage } from '../harness/images'
import { startProxy } from '../harness/proxy'
import { startRegistry } from '../harness/registry'
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
