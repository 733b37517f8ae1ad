/**
 * The relay (src/registry/relay.ts) in front of a scripted source: what it does with upstream answers a
 * real registry seldom gives (a manifest that is not what its digest says, a blob without a length, an
 * upstream cut mid-blob) and with the upstream stream when its own client goes away or only asks HEAD.
 * The relay's HTTP is real; test/integration/relay.test.ts runs it against real registries and skopeo.
 */
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import * as log from '../../src/log'
import { sha256 } from '../../src/manifest'
import { Relay, type Source } from '../../src/registry/relay'

const repo = 'registry.example/app'
const digestOf = (text: string): string => sha256(Buffer.from(text))

/** A blob upstream that says what was done to it: how many reads the relay asked, and whether it was destroyed. */
class Upstream extends Readable {
  reads = 0
  /** `ends`: whether the chunks are the whole blob; if not, it stays open after them, for the test to end. */
  constructor(
    private readonly chunks: Buffer[],
    private readonly ends = false
  ) {
    super()
  }
  override _read(): void {
    this.reads++
    const next = this.chunks.shift()
    if (next) this.push(next)
    else if (this.ends) this.push(null)
  }
}

let dir: string
const open: Relay[] = []

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-relay-unit-'))
  jest.spyOn(log, 'setSecret').mockImplementation(() => undefined)
})

afterEach(async () => {
  for (const relay of open.splice(0)) await relay.close()
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
  jest.restoreAllMocks()
})

/** A relay over `source` (what it leaves out answers nothing), the URL of `digest` in its one repository, and the Authorization its auth file gives. */
async function relayFor(source: Partial<Source>, digest: string): Promise<{ url: (kind: string) => string; authorization: string }> {
  const relay = await Relay.start({ manifest: async () => null, openBlob: async () => null, inProcess: () => true, ...source }, dir)
  open.push(relay)
  const via = relay.source(`${repo}@${digest}`)
  const [host, rest] = (via?.ref ?? '').split('/')
  const file = JSON.parse(fs.readFileSync(via?.authFile ?? '', 'utf8')) as { auths: Record<string, { auth: string }> }
  return {
    url: kind => `http://${host}/v2/${rest.split('@')[0]}/${kind}/${digest}`,
    authorization: `Basic ${file.auths[host].auth}`
  }
}

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** Whether the answer ended short of what it announced (the connection was cut). */
  cut: boolean
}

/** `onFirstBytes`: called once the answer's first bytes have arrived (the relay is mid-answer). */
function request(url: string, authorization: string, method = 'GET', onFirstBytes = (): void => undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { authorization } }, res => {
      const chunks: Buffer[] = []
      res.once('data', onFirstBytes)
      res.on('data', (c: Buffer) => chunks.push(c))
      const done = (cut: boolean) => (): void =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cut })
      res.on('end', done(false))
      res.on('error', done(true))
    })
    req.on('error', reject)
    req.end()
  })
}

test('a manifest whose bytes are not what its digest names is refused (404), not served under that digest', async () => {
  const digest = digestOf('{"the":"manifest asked for"}')
  const { url, authorization } = await relayFor({ manifest: async () => Buffer.from('{"another":"manifest"}') }, digest)
  const answer = await request(url('manifests'), authorization)
  expect({ status: answer.status, body: JSON.parse(answer.body.toString()) as unknown }).toEqual({
    status: 404,
    body: { errors: [{ code: 'MANIFEST_UNKNOWN', message: `${digest} is not a manifest of ${repo}` }] }
  })
})

test('a blob without a length is streamed whole, with no Content-Length', async () => {
  const bytes = Buffer.from('a blob whose registry sent no length')
  const digest = digestOf(bytes.toString())
  const upstream = new Upstream([bytes], true)
  const { url, authorization } = await relayFor({ openBlob: async () => ({ stream: upstream }) }, digest)
  const answer = await request(url('blobs'), authorization)
  expect({ status: answer.status, length: answer.headers['content-length'], body: answer.body.toString(), cut: answer.cut }).toEqual({
    status: 200,
    length: undefined,
    body: bytes.toString(),
    cut: false
  })
})

test('a HEAD of a blob answers its length and closes the upstream stream unread', async () => {
  const bytes = Buffer.from('x'.repeat(1000))
  const digest = digestOf(bytes.toString())
  const upstream = new Upstream([bytes])
  const { url, authorization } = await relayFor({ openBlob: async () => ({ stream: upstream, length: bytes.length }) }, digest)
  const answer = await request(url('blobs'), authorization, 'HEAD')
  expect({
    status: answer.status,
    length: answer.headers['content-length'],
    digest: answer.headers['docker-content-digest'],
    body: answer.body.length,
    upstreamReads: upstream.reads,
    upstreamDestroyed: upstream.destroyed
  }).toEqual({ status: 200, length: '1000', digest, body: 0, upstreamReads: 0, upstreamDestroyed: true })
})

// A cut upstream must cut the answer: a client that got a clean end would take a short blob for the
// whole (skopeo checks the digest, but only after reading it), and one left waiting would hang.
test.each([
  ['fails (error)', (upstream: Upstream) => upstream.destroy(new Error('upstream reset'))],
  ['is aborted (an http answer cut mid-body)', (upstream: Upstream) => upstream.emit('aborted')]
])('a blob whose upstream %s after its first bytes is cut short, not ended', async (_, cutUpstream) => {
  const first = Buffer.from('the first part')
  const digest = digestOf('the whole blob')
  const upstream = new Upstream([first])
  const { url, authorization } = await relayFor({ openBlob: async () => ({ stream: upstream, length: 100 }) }, digest)
  const answer = await request(url('blobs'), authorization, 'GET', () => cutUpstream(upstream))
  expect({ status: answer.status, body: answer.body.toString(), cut: answer.cut }).toEqual({
    status: 200,
    body: first.toString(),
    cut: true
  })
})

test('a client that goes away mid-blob closes the upstream stream (no upstream read is left open)', async () => {
  const digest = digestOf('a large blob')
  const upstream = new Upstream([Buffer.from('the first part')])
  const closed = new Promise<void>(resolve => upstream.once('close', () => resolve()))
  const { url, authorization } = await relayFor({ openBlob: async () => ({ stream: upstream, length: 1 << 20 }) }, digest)
  const req = http.request(url('blobs'), { headers: { authorization } }, res => res.once('data', () => req.destroy()))
  req.on('error', () => undefined)
  req.end()
  await closed
  expect(upstream.destroyed).toBe(true)
})
