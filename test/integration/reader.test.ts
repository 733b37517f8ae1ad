/**
 * The in-process reader (src/registry) against real registries behind the fault proxy: a Basic
 * (htpasswd) one and a Bearer (token server) one. Each test reads with `Reads` directly, the object
 * the phases ask, and looks at what reached the registry (proxy log) and the token server (its log).
 * A Reads here never falls back to skopeo: its skopeo is one that fails the test.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { MT, pushImage, pushIndex, sha256, skopeo, type Descriptor } from '../harness/images'
import { startProxy } from '../harness/proxy'
import { startRegistry } from '../harness/registry'
import type { TokenServer } from '../harness/registry'
import { Reads } from '../../src/registry/reader'
import { noSkopeo, type Proxy, type Registry } from './fixtures'

const ci = { user: 'ci', password: 'Rd-3c9a-reader' }
const basicAuth = (user: string, password: string): string => Buffer.from(`${user}:${password}`).toString('base64')

let basic: Registry
let bearer: Registry
let pb: Proxy
let pt: Proxy
let dir: string
let authFile: string
type Image = Awaited<ReturnType<typeof pushImage>>
let img: Image
let arm: Image
let ociList: Descriptor
let dockerList: Descriptor
const tok = (): TokenServer => bearer.token as TokenServer

const open: Reads[] = []
/** A Reads as the action makes it, with `password` for every registry here and short back-offs. */
function reads(o: { password?: string; retries?: number } = {}): Reads {
  let file = authFile
  if (o.password !== undefined) {
    file = path.join(dir, `auth-${open.length}.json`)
    const auth = basicAuth(ci.user, o.password)
    fs.writeFileSync(file, JSON.stringify({ auths: Object.fromEntries([pb.host, pt.host].map(h => [h, { auth }])) }))
  }
  const r = new Reads(noSkopeo, {
    mode: 'auto',
    access: {
      tlsVerify: false,
      authFile: file,
      env: { PATH: process.env.PATH, HOME: dir },
      retries: o.retries ?? 3,
      baseDelayMs: 10,
      maxDelayMs: 50
    },
    isSource: () => false,
    client: { idleMs: 10_000 }
  })
  open.push(r)
  return r
}

beforeAll(async () => {
  ;[basic, bearer] = await Promise.all([startRegistry({ htpasswd: ci }), startRegistry({ token: { users: [ci] } })])
  ;[pb, pt] = await Promise.all([startProxy({ target: basic.host }), startProxy({ target: bearer.host })])
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-reader-'))
  authFile = path.join(dir, 'auth.json')
  const auth = basicAuth(ci.user, ci.password)
  fs.writeFileSync(authFile, JSON.stringify({ auths: Object.fromEntries([pb.host, pt.host].map(h => [h, { auth }])) }))
  const at = { host: basic.host, repo: 'r/img', auth: ci }
  img = await pushImage({ ...at, tag: 't', architecture: 'amd64' })
  arm = await pushImage({ ...at, tag: 'arm', architecture: 'arm64', mediaType: 'docker' })
  const amdDocker = await pushImage({ ...at, architecture: 'amd64', mediaType: 'docker' })
  ociList = await pushIndex({ ...at, tag: 'oci', manifests: [img, { ...arm, platform: { architecture: 'arm64', os: 'linux' } }] })
  dockerList = await pushIndex({
    ...at,
    tag: 'docker',
    mediaType: 'docker',
    manifests: [
      { ...amdDocker, platform: { architecture: 'amd64', os: 'linux' } },
      { ...arm, platform: { architecture: 'arm64', os: 'linux' } }
    ]
  })
  // The token registry gets the same repository (every tag, bytes unchanged) and a second one.
  const creds = `${ci.user}:${ci.password}`
  const tls = ['--src-tls-verify=false', '--src-creds', creds, '--dest-tls-verify=false', '--dest-creds', creds]
  await skopeo([
    'sync',
    '--src',
    'docker',
    '--dest',
    'docker',
    '--all',
    '--preserve-digests',
    ...tls,
    `${basic.host}/r/img`,
    `${bearer.host}/r`
  ])
  await skopeo(['copy', ...tls, `docker://${basic.host}/r/img:t`, `docker://${bearer.host}/r/other:t`])
}, 60_000)
afterAll(async () => {
  for (const r of open) r.close()
  await Promise.all([pb?.stop(), pt?.stop()])
  await Promise.all([basic?.stop(), bearer?.stop()])
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => {
  for (const p of [pb, pt]) {
    p.clearFaults()
    p.reset()
  }
})
afterEach(() => {
  for (const r of open.splice(0)) r.close()
})

/** `METHOD path status` of each request the proxy saw, paths shortened after `/v2/`. */
const requests = (p: Proxy, from = 0): string[] => p.log.slice(from).map(e => `${e.method} ${e.path.replace(/^\/v2\//, '')} ${e.status}`)

describe.each([
  ['Basic (htpasswd)', () => pb],
  ['Bearer (token server)', () => pt]
])('%s registry through the proxy', (_name, proxy) => {
  test('tags and digests, images and lists: the digest of the bytes the registry serves, HEAD and GET agreeing', async () => {
    const p = proxy()
    const r = reads()
    for (const [tag, want] of [
      ['t', img],
      ['arm', arm],
      ['oci', ociList],
      ['docker', dockerList]
    ] as const) {
      const raw = await r.manifest(`${p.host}/r/img:${tag}`)
      expect({ tag, digest: raw && sha256(raw), head: await r.digest(`${p.host}/r/img:${tag}`) }).toEqual({
        tag,
        digest: want.digest,
        head: want.digest
      })
      expect(await r.digest(`${p.host}/r/img@${want.digest}`)).toBe(want.digest)
    }
    // Lists come back as lists (the full Accept list): neither 404 nor the registry's pick of one image.
    expect(JSON.parse(((await r.manifest(`${p.host}/r/img:oci`)) as Buffer).toString()).mediaType).toBe(MT.ociIndex)
    expect(JSON.parse(((await r.manifest(`${p.host}/r/img:docker`)) as Buffer).toString()).mediaType).toBe(MT.dockerList)
    expect(JSON.parse((await r.config(`${p.host}/r/img@${arm.digest}`)).toString()).architecture).toBe('arm64')
    expect(await r.manifest(`${p.host}/r/img:absent`)).toBeNull()
    expect(await r.digest(`${p.host}/r/img:absent`)).toBeNull()
    expect(await r.digest(`${p.host}/r/nothing:t`)).toBeNull()
    expect(p.writes()).toBe(0)
  })

  test('HEAD without Docker-Content-Digest: the digest comes from a GET of the bytes', async () => {
    const p = proxy()
    const r = reads()
    await r.digest(`${p.host}/r/img:arm`) // ping and token first
    p.reset()
    p.dropDigestOnHead()
    expect(await r.digest(`${p.host}/r/img:t`)).toBe(img.digest)
    expect(await r.digest(`${p.host}/r/img:oci`)).toBe(ociList.digest)
    expect(requests(p)).toEqual([
      'HEAD r/img/manifests/t 200',
      'GET r/img/manifests/t 200',
      'HEAD r/img/manifests/oci 200',
      'GET r/img/manifests/oci 200'
    ])
    expect(p.log.map(e => e.mode)).toEqual(['drop-digest', undefined, 'drop-digest', undefined])
  })

  test('blobs redirected to another origin (127.0.0.2): the config is read, and Authorization stays with the registry', async () => {
    const p = proxy()
    await p.redirectBlobs()
    const r = reads()
    expect(JSON.parse((await r.config(`${p.host}/r/img@${img.digest}`)).toString()).architecture).toBe('amd64')
    expect(p.log.map(e => e.mode)).toContain('redirect')
    expect(p.blobLog.map(e => e.status)).toEqual([200])
    expect(p.refusedForAuth()).toBe(0)
  })

  test('a manifest by digest served as other bytes under that digest is refused: the digest is computed over the bytes', async () => {
    const p = proxy()
    p.otherBytesByDigest()
    const r = reads()
    await expect(r.manifest(`${p.host}/r/img@${img.digest}`)).rejects.toThrow(`the registry served bytes whose digest is sha256:`)
    await expect(r.config(`${p.host}/r/img@${img.digest}`)).rejects.toThrow(/served bytes whose digest is/)
    expect(p.log.filter(e => e.mode === 'other-bytes').length).toBeGreaterThanOrEqual(2)
    // By tag there is nothing to check against; the bytes read are what is hashed.
    const byTag = (await r.manifest(`${p.host}/r/img:t`)) as Buffer
    expect(sha256(byTag)).toBe(img.digest)
    // (skopeo 1.9's `inspect --raw` passes such bytes on unchecked: this check is the reader's own.)
    p.clearFaults()
    expect(sha256((await r.manifest(`${p.host}/r/img@${img.digest}`)) as Buffer)).toBe(img.digest)
  })

  test('a config blob served as other bytes under its digest is refused', async () => {
    const p = proxy()
    p.otherBytesByDigest(true, 'blobs')
    await expect(reads().config(`${p.host}/r/img@${img.digest}`)).rejects.toThrow(/came back with digest sha256:/)
    expect(p.log.filter(e => e.mode === 'other-bytes').length).toBeGreaterThanOrEqual(1)
  })

  test('a cut connection, 503 and 429 (Retry-After): the reader retries that one request', async () => {
    const p = proxy()
    const r = reads()
    await r.digest(`${p.host}/r/img:arm`)
    p.reset()
    p.cutNext(1, { method: 'HEAD', path: '/manifests/t' })
    expect(await r.digest(`${p.host}/r/img:t`)).toBe(img.digest)
    p.failNext(1, 503, { method: 'GET', path: '/manifests/oci' })
    expect(sha256((await r.manifest(`${p.host}/r/img:oci`)) as Buffer)).toBe(ociList.digest)
    p.failNext(1, 429, { method: 'GET', path: '/blobs/', retryAfter: 0 })
    expect(JSON.parse((await r.config(`${p.host}/r/img@${img.digest}`)).toString()).architecture).toBe('amd64')
    expect(requests(p).filter(l => !/\/blobs\/.* 200$|manifests\/sha256:.* 200$/.test(l))).toEqual([
      'HEAD r/img/manifests/t cut',
      'HEAD r/img/manifests/t 200',
      'GET r/img/manifests/oci 503',
      'GET r/img/manifests/oci 200',
      expect.stringMatching(/^GET r\/img\/blobs\/sha256:\w+ 429$/)
    ])
  })

  test('after the first token of a repository a read is one request, all on one kept-alive connection', async () => {
    const p = proxy()
    const r = reads()
    const tokens = tok().log.length
    expect(await r.digest(`${p.host}/r/img:t`)).toBe(img.digest)
    // The ping, then the read (with a token fetched from the token server in between for Bearer).
    expect(requests(p)).toEqual(['GET  401', 'HEAD r/img/manifests/t 200'])
    const perRead: Array<[string, number, number]> = []
    const read = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      const [n, t] = [p.log.length, tok().log.length]
      await fn()
      perRead.push([what, p.log.length - n, tok().log.length - t])
    }
    await read('digest again', () => r.digest(`${p.host}/r/img:t`))
    await read('digest of another tag', () => r.digest(`${p.host}/r/img:oci`))
    await read('manifest by tag', () => r.manifest(`${p.host}/r/img:docker`))
    await read('manifest by digest', () => r.manifest(`${p.host}/r/img@${arm.digest}`))
    await read('digest by digest', () => r.digest(`${p.host}/r/img@${arm.digest}`))
    expect(perRead).toEqual([
      ['digest again', 1, 0],
      ['digest of another tag', 1, 0],
      ['manifest by tag', 1, 0],
      ['manifest by digest', 1, 0],
      ['digest by digest', 1, 0]
    ])
    // Another repository on the same host: no second ping; with Bearer, its own token once.
    await read('other repository', () => r.digest(`${p.host}/r/other:t`))
    await read('other repository again', () => r.digest(`${p.host}/r/other:t`))
    const bearerHost = p === pt
    expect(perRead.slice(-2)).toEqual([
      ['other repository', 1, bearerHost ? 1 : 0],
      ['other repository again', 1, 0]
    ])
    expect(tok().log.length - tokens).toBe(bearerHost ? 2 : 0)
    expect(new Set(p.log.map(e => e.conn)).size).toBe(1)
  })

  test('a wrong password fails with unauthorized, once: a 401 is not retried', async () => {
    const p = proxy()
    const r = reads({ password: 'wrong', retries: 5 })
    const tokens = tok().log.length
    await expect(r.digest(`${p.host}/r/img:t`)).rejects.toThrow(/unauthorized/)
    await expect(r.manifest(`${p.host}/r/img:oci`)).rejects.toThrow(/unauthorized/)
    // With Bearer the token server refuses and the registry sees no read; with Basic the registry refuses each read once.
    const bearerHost = p === pt
    expect(requests(p)).toEqual(bearerHost ? ['GET  401'] : ['GET  401', 'HEAD r/img/manifests/t 401', 'GET r/img/manifests/oci 401'])
    expect(
      tok()
        .log.slice(tokens)
        .map(e => `${e.grant} ${e.status}`)
    ).toEqual(bearerHost ? ['basic 401', 'basic 401'] : [])
  })
})

test('close() ends the reads in flight: no retry and no new connection after it (a failed run stops reading)', async () => {
  const r = reads({ retries: 5 })
  await r.digest(`${pb.host}/r/img:arm`)
  pb.hangNext(1, { method: 'HEAD', path: '/manifests/t' })
  const inFlight = r.digest(`${pb.host}/r/img:t`)
  inFlight.catch(() => undefined) // awaited below
  while (pb.hanging() === 0) await new Promise(resolve => setTimeout(resolve, 5))
  const seen = pb.log.length
  r.close()
  await expect(inFlight).rejects.toThrow()
  // Nothing started after close(): a retry on a fresh connection would have been answered.
  await expect(r.digest(`${pb.host}/r/img:t`)).rejects.toThrow(/closed/)
  expect(pb.log.length).toBe(seen)
})

describe('Bearer registry: the token', () => {
  test('scope is repository:<path>:pull of the repository read, one token per repository, whatever the challenge names', async () => {
    // 'forgejo' names scope="*" in the ping's challenge: a placeholder, not what to ask for.
    for (const mode of [undefined, 'one-line', 'forgejo'] as const) {
      pt.challenges(mode)
      const r = reads()
      const n = tok().log.length
      expect(await r.digest(`${pt.host}/r/img:t`)).toBe(img.digest)
      expect(sha256((await r.manifest(`${pt.host}/r/other:t`)) as Buffer)).toBe(img.digest)
      expect(await r.digest(`${pt.host}/r/img:oci`)).toBe(ociList.digest)
      expect(tok().log.slice(n)).toEqual([
        expect.objectContaining({ grant: 'basic', user: 'ci', service: tok().service, scopes: ['repository:r/img:pull'], status: 200 }),
        expect.objectContaining({ grant: 'basic', user: 'ci', service: tok().service, scopes: ['repository:r/other:pull'], status: 200 })
      ])
    }
    expect(pt.log.filter(e => e.mode === 'challenges').length).toBeGreaterThan(0)
    expect(tok().log.flatMap(e => e.scopes)).not.toContain('*')
  })

  test('Forgejo’s `Bearer …, Basic …` on one line: Bearer, as skopeo; Basic first: Basic, which both the reader and skopeo then fail with', async () => {
    const skopeoRead = (): Promise<Buffer> => skopeo(['inspect', '--raw', `docker://${pt.host}/r/img:t`], { auth: ci })
    for (const mode of ['one-line', 'forgejo'] as const) {
      pt.challenges(mode)
      expect(await reads().digest(`${pt.host}/r/img:t`)).toBe(img.digest)
      expect(sha256(await skopeoRead())).toBe(img.digest)
    }
    pt.challenges('basic-first-one-line')
    await expect(reads().digest(`${pt.host}/r/img:t`)).rejects.toThrow(/unauthorized/)
    await expect(skopeoRead()).rejects.toThrow(/unauthorized|authentication required/)
  })
})
