/**
 * Reads that start while the registry's `/v2/` ping is on its way (src/registry/client.ts,
 * `readBeforePing`): with no credential there is nothing for the challenge to choose, so they go out at
 * once without Authorization. Their answer stands only if it is a 200, or if the ping then says the
 * registry asks for no authorization; anything else is asked again as the challenge says. Real
 * registries behind the fault proxy: a plain one, a Bearer one that gives anonymous pull tokens, and a
 * Basic (htpasswd) one.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { pushImage, skopeo } from '../harness/images'
import { startProxy } from '../harness/proxy'
import { startRegistry } from '../harness/registry'
import type { TokenServer } from '../harness/registry'
import { Reads } from '../../src/registry/reader'
import { noSkopeo, type Proxy, type Registry } from './fixtures'

const ci = { user: 'ci', password: 'Er-7f2e-early' }

let plain: Registry
let bearer: Registry
let basic: Registry
/** HTTPS with a private CA and htpasswd: no proxy (the proxy speaks HTTP), requests seen through `onRequest`. */
let tlsBasic: Registry
let pp: Proxy
let pt: Proxy
let pb: Proxy
let dir: string
let digest: string

const open: Reads[] = []
/** A Reads as the action makes it; `credential` puts ci's password in its auth file for every proxy here. */
function reads({
  credential = false,
  tls,
  onRequest
}: { credential?: boolean; tls?: { verify: boolean; certDir?: string }; onRequest?: (method: string, url: string) => void } = {}): Reads {
  const file = path.join(dir, `auth-${open.length}.json`)
  const auth = Buffer.from(`${ci.user}:${ci.password}`).toString('base64')
  const auths = credential ? Object.fromEntries([pp.host, pt.host, pb.host].map(h => [h, { auth }])) : {}
  fs.writeFileSync(file, JSON.stringify({ auths }))
  const r = new Reads(noSkopeo, {
    mode: 'auto',
    access: {
      tlsVerify: tls?.verify ?? false,
      certDir: tls?.certDir,
      authFile: file,
      env: { PATH: process.env.PATH, HOME: dir },
      retries: 2,
      baseDelayMs: 10,
      maxDelayMs: 50
    },
    isSource: () => false,
    client: { idleMs: 10_000, onRequest }
  })
  open.push(r)
  return r
}

/** `METHOD path status` of each request the proxy saw: `ping` for `/v2/`, other paths shortened after it. */
const requests = (p: Proxy): string[] =>
  p.log.map(e => `${e.method} ${e.path === '/v2/' ? 'ping' : e.path.replace(/^\/v2\//, '')} ${e.status}`)

beforeAll(async () => {
  ;[plain, bearer, basic] = await Promise.all([
    startRegistry(),
    startRegistry({ token: { users: [ci], anonymousPull: true } }),
    startRegistry({ htpasswd: ci })
  ])
  tlsBasic = await startRegistry({ htpasswd: ci, tls: {} })
  ;[pp, pt, pb] = await Promise.all([plain, bearer, basic].map(r => startProxy({ target: r.host })))
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-early-'))
  // The same image (same bytes, same digest) in all three: the harness pushes without a token, so
  // the other two get it from the plain one by skopeo.
  digest = (await pushImage({ host: plain.host, repo: 'r/img', tag: 't', architecture: 'amd64', salt: 'early' })).digest
  for (const host of [bearer.host, basic.host])
    await skopeo([
      'copy',
      '--preserve-digests',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--dest-creds',
      `${ci.user}:${ci.password}`,
      `docker://${plain.host}/r/img:t`,
      `docker://${host}/r/img:t`
    ])
}, 60_000)
afterAll(async () => {
  for (const r of open) r.close()
  await Promise.all([pp?.stop(), pt?.stop(), pb?.stop()])
  await Promise.all([plain?.stop(), bearer?.stop(), basic?.stop(), tlsBasic?.stop()])
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => {
  for (const p of [pp, pt, pb]) {
    p.clearFaults()
    p.reset()
  }
})
afterEach(() => {
  for (const r of open.splice(0)) r.close()
})

test('a registry that asks for no authorization answers the reads while its ping is still held', async () => {
  pp.holdWhen({ method: 'GET', path: /^\/v2\/$/ })
  const r = reads()
  // Were the reads to wait for the ping, this would never resolve (the test would time out).
  const digests = await Promise.all([r.digest(`${pp.host}/r/img:t`), r.manifest(`${pp.host}/r/img:t`)])
  expect(digests[0]).toBe(digest)
  expect(digests[1]).not.toBeNull()
  expect(pp.held()).toBe(1)
  pp.releaseHeld()
})

test('the early answer stands when the ping says no authorization is needed: an absent tag is asked once', async () => {
  const r = reads()
  expect(await r.digest(`${pp.host}/r/img:absent`)).toBeNull()
  expect(requests(pp).sort()).toEqual(['GET ping 200', 'HEAD r/img/manifests/absent 404'])
})

test('a 404 to a read without a token is not believed: the Bearer registry is asked again with one', async () => {
  // A registry may hide a repository from requests without a token behind a 404.
  pt.failNext(1, 404, { path: '/manifests/' })
  const tokens = (bearer.token as TokenServer).log
  const before = tokens.length
  const r = reads()
  expect(await r.digest(`${pt.host}/r/img:t`)).toBe(digest)
  expect(tokens.slice(before).map(e => e.grant)).toEqual(['anonymous'])
  expect(
    requests(pt)
      .filter(x => x.includes('manifests/t'))
      .sort()
  ).toEqual(['HEAD r/img/manifests/t 200', 'HEAD r/img/manifests/t 404'])
})

test('an early 401 is asked again with the anonymous token; reads after the ping carry it at once', async () => {
  const r = reads()
  expect(await r.digest(`${pt.host}/r/img:t`)).toBe(digest)
  expect(await r.manifest(`${pt.host}/r/img:t`)).not.toBeNull()
  expect(requests(pt).filter(x => x.includes('manifests/t'))).toEqual([
    'HEAD r/img/manifests/t 401',
    'HEAD r/img/manifests/t 200',
    'GET r/img/manifests/t 200'
  ])
})

test('with a credential the reads wait for the challenge: one request per read, none without Authorization', async () => {
  const r = reads({ credential: true })
  expect(await Promise.all([r.digest(`${pb.host}/r/img:t`), r.digest(`${pt.host}/r/img:t`)])).toEqual([digest, digest])
  expect(requests(pb)).toEqual(['GET ping 401', 'HEAD r/img/manifests/t 200'])
  expect(requests(pt).filter(x => x.includes('manifests/t'))).toEqual(['HEAD r/img/manifests/t 200'])
})

describe('over HTTPS (a Basic registry, no credential: every read ends unauthorized)', () => {
  const sent = (): { log: string[]; onRequest: (method: string, url: string) => void } => {
    const log: string[] = []
    return { log, onRequest: (method, url) => log.push(`${method} ${new URL(url).pathname}`) }
  }

  test('verified TLS: the scheme is known before the ping, so the read goes out early and again after the challenge', async () => {
    const { log, onRequest } = sent()
    const r = reads({ tls: { verify: true, certDir: tlsBasic.certDir }, onRequest })
    await expect(r.digest(`${tlsBasic.host}/r/img:t`)).rejects.toThrow(/unauthorized/)
    expect(log.sort()).toEqual(['GET /v2/', 'HEAD /v2/r/img/manifests/t', 'HEAD /v2/r/img/manifests/t'])
  })

  test("tls-verify false: the scheme is the ping's answer, so the read waits for it and goes out once", async () => {
    const { log, onRequest } = sent()
    const r = reads({ tls: { verify: false }, onRequest })
    await expect(r.digest(`${tlsBasic.host}/r/img:t`)).rejects.toThrow(/unauthorized/)
    expect(log).toEqual(['GET /v2/', 'HEAD /v2/r/img/manifests/t'])
  }, 20_000)
})
