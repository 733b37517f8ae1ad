/**
 * src/registry/reader.ts's Reads: which reads go in process and which to skopeo, the memo, and one
 * client per endpoint. The configuration is a table (TableConfig) and the in-process client a fake
 * that answers from builders.ts's registry, so nothing here touches the network. The real client
 * against real registries: test/integration/reader.test.ts.
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import * as log from '../../src/log'
import { sha256 } from '../../src/manifest'
import { repositoryOf } from '../../src/reference'
import type { ClientOptions, RegistryClient } from '../../src/registry/client'
import { RegistryConfig, type Credential, type Endpoint, type Handoff, type TlsInputs } from '../../src/registry/config'
import { Reads, type ReadsOptions } from '../../src/registry/reader'
import { amd64, arm64, FakeRegistry, image, list } from './builders'

jest.mock('../../src/log', () => ({ info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

type ClientEndpoint = ConstructorParameters<typeof RegistryClient>[0]
interface MadeClient {
  endpoint: ClientEndpoint
  credential?: Credential
  options: ClientOptions
  closed: boolean
}
interface ClientCall {
  client: number
  what: 'getManifest' | 'headManifest' | 'getBlob'
  path: string
  reference: string
}
/** Every in-process client made, and every request asked of them. */
const mockClients: MadeClient[] = []
const mockCalls: ClientCall[] = []
/** What the in-process clients answer from, at `host/path` (set by each test). */
const mockServer: { registry: FakeRegistry } = { registry: new FakeRegistry() }

jest.mock('../../src/registry/client', () => {
  const actual = jest.requireActual<typeof import('../../src/registry/client')>('../../src/registry/client')
  /** The real client's interface with no network behind it: it answers from mockServer.registry. */
  class FakeClient extends actual.RegistryClient {
    private readonly index: number
    private readonly host: string

    constructor(...args: ConstructorParameters<typeof actual.RegistryClient>) {
      super(...args)
      const [endpoint, credential, options] = args
      this.host = endpoint.host
      this.index = mockClients.push({ endpoint, credential, options, closed: false }) - 1
    }

    override async getManifest(p: string, reference: string): Promise<{ raw: Buffer; digest: string; mediaType: string } | null> {
      const raw = await this.answer('getManifest', p, reference)
      return raw && { raw, digest: sha256(raw), mediaType: '' }
    }

    override async headManifest(p: string, reference: string): Promise<string | null> {
      const raw = await this.answer('headManifest', p, reference)
      return raw && sha256(raw)
    }

    override async getBlob(p: string, digest: string): Promise<Buffer> {
      const raw = await this.answer('getBlob', p, digest)
      if (!raw) throw new Error(`${this.host}/${p}@${digest}: blob unknown`)
      return raw
    }

    override close(): void {
      mockClients[this.index].closed = true
      super.close()
    }

    private async answer(what: ClientCall['what'], p: string, reference: string): Promise<Buffer | null> {
      mockCalls.push({ client: this.index, what, path: p, reference })
      const ref = `${this.host}/${p}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`
      await mockServer.registry.onRead(ref)
      return mockServer.registry.get(ref)
    }
  }
  return { ...actual, RegistryClient: FakeClient }
})

/** registries.conf, the auth files and the cert dirs as a table: each reference's answer, and every question asked. */
class TableConfig extends RegistryConfig {
  readonly asked: Array<{ ref: string; role: 'source' | 'destination'; tls: TlsInputs }> = []

  constructor(private readonly answer: (ref: string) => Endpoint | Handoff) {
    super({ env: {} })
  }

  override endpointFor(ref: string, role: 'source' | 'destination', tls: TlsInputs): Endpoint | Handoff {
    this.asked.push({ ref, role, tls })
    return this.answer(ref)
  }
}

/** The endpoint of `ref`'s registry, read in process; `o` changes some of it. */
const native =
  (o: Partial<Endpoint> = {}) =>
  (ref: string): Endpoint => {
    const host = ref.split('/')[0]
    return { via: 'native', registry: host, host, path: repositoryOf(ref).slice(host.length + 1), insecure: false, ...o }
  }

/** Registries whose reads the configuration hands to skopeo, with why; the rest are read in process. */
const handingOff =
  (reasons: Record<string, string>, rest = native()) =>
  (ref: string): Endpoint | Handoff => {
    const reason = reasons[ref.split('/')[0]]
    return reason ? { via: 'skopeo', reason } : rest(ref)
  }

function readsOf(skopeo: FakeRegistry, config: RegistryConfig | undefined, o: Partial<ReadsOptions> = {}): Reads {
  return new Reads(skopeo, {
    mode: 'auto',
    access: { tlsVerify: true, env: {}, retries: 0 },
    isSource: () => false,
    client: { idleMs: 5000 },
    config,
    ...o
  })
}

const AMD = image(amd64)
const ARM = image(arm64)
const REPO = 'n.example/app'

beforeEach(() => {
  mockClients.length = 0
  mockCalls.length = 0
  mockServer.registry = new FakeRegistry()
  jest.mocked(log.info).mockClear()
})

describe('Reads: who answers', () => {
  test('reads: skopeo: every read goes to skopeo as asked, and no configuration is read', async () => {
    const skopeo = new FakeRegistry().put(REPO, AMD).tag(`${REPO}:1`, AMD.manifest)
    const config = new TableConfig(native())
    const reads = readsOf(skopeo, config, { mode: 'skopeo' })
    expect(await reads.manifest(`${REPO}:1`)).toEqual(AMD.manifest)
    expect(await reads.manifest(`${REPO}:1`, { fresh: true })).toEqual(AMD.manifest)
    expect(await reads.config(`${REPO}@${AMD.digest}`)).toEqual(AMD.config)
    expect(await reads.digest(`${REPO}:1`)).toBe(AMD.digest)
    expect(skopeo.reads).toEqual([
      { what: 'manifest', ref: `${REPO}:1` },
      { what: 'fresh manifest', ref: `${REPO}:1` },
      { what: 'config', ref: `${REPO}@${AMD.digest}` },
      { what: 'digest', ref: `${REPO}:1` }
    ])
    expect(config.asked).toEqual([])
    expect(mockClients).toEqual([])
  })

  test('a registry the configuration hands off is read through skopeo, and that is said once per registry', async () => {
    const skopeo = new FakeRegistry().put('h.example/a', AMD).tag('h.example/a:1', AMD.manifest).tag('h.example/b:1', AMD.manifest)
    const reads = readsOf(skopeo, new TableConfig(handingOff({ 'h.example': 'a mirror', 'k.example': 'a proxy' })), {
      isSource: ref => ref.includes('@')
    })
    expect(await reads.manifest('h.example/a:1', { fresh: true })).toEqual(AMD.manifest)
    expect(await reads.config(`h.example/a@${AMD.digest}`)).toEqual(AMD.config)
    expect(await reads.digest('h.example/b:1')).toBe(AMD.digest)
    expect(await reads.digest('k.example/c:1')).toBeNull()
    expect(skopeo.reads).toEqual([
      { what: 'fresh manifest', ref: 'h.example/a:1' },
      { what: 'config', ref: `h.example/a@${AMD.digest}` },
      { what: 'digest', ref: 'h.example/b:1' },
      { what: 'digest', ref: 'k.example/c:1' }
    ])
    expect(mockCalls).toEqual([])
    expect(jest.mocked(log.info).mock.calls).toEqual([
      ['Reads of h.example go through skopeo: a mirror'],
      ['Reads of k.example go through skopeo: a proxy']
    ])
  })

  test('the route is decided once per repository (however its host is spelled) and role, before its first read', async () => {
    mockServer.registry.put(REPO, AMD).tag(`${REPO}:1`, AMD.manifest)
    const config = new TableConfig(native())
    const reads = readsOf(new FakeRegistry(), config, { isSource: ref => ref.includes('@') })
    await reads.digest(`${REPO}:1`)
    await reads.digest(`N.Example/app:1`)
    await reads.manifest(`${REPO}:2`)
    await reads.digest(`${REPO}@${AMD.digest}`)
    await reads.manifest(`${REPO}@${AMD.digest}`)
    await reads.digest('n.example/other:1')
    expect(config.asked.map(a => [a.ref, a.role])).toEqual([
      [`${REPO}:1`, 'destination'],
      [`${REPO}@${AMD.digest}`, 'source'],
      ['n.example/other:1', 'destination']
    ])
  })

  test('the routes of two repositories are their own: one handed off, one read in process', async () => {
    mockServer.registry.tag(`${REPO}:1`, AMD.manifest)
    const skopeo = new FakeRegistry().tag('h.example/a:1', ARM.manifest)
    const reads = readsOf(skopeo, new TableConfig(handingOff({ 'h.example': 'a mirror' })))
    expect(await reads.digest('h.example/a:1')).toBe(ARM.digest)
    expect(await reads.digest(`${REPO}:1`)).toBe(AMD.digest)
    expect(skopeo.reads).toEqual([{ what: 'digest', ref: 'h.example/a:1' }])
    expect(mockCalls).toEqual([{ client: 0, what: 'headManifest', path: 'app', reference: '1' }])
  })

  test("the configuration is asked with the reference's own TLS settings (input registry-auth), else the step's", async () => {
    const config = new TableConfig(native())
    const reads = readsOf(new FakeRegistry(), config, {
      access: {
        tlsVerify: true,
        certDir: '/certs',
        env: {},
        retries: 0,
        registries: [{ prefix: 'o.example', tlsVerify: false, certDir: '/own' }]
      }
    })
    await reads.digest('o.example/app:1')
    await reads.digest(`${REPO}:1`)
    expect(config.asked.map(a => a.tls)).toEqual([
      { tlsVerify: false, certDir: '/own' },
      { tlsVerify: true, certDir: '/certs' }
    ])
  })
})

describe('Reads without a configuration given: the step env and auth file are what it reads', () => {
  test("the step's env: CONTAINERS_REGISTRIES_CONF hands every read to skopeo", async () => {
    const skopeo = new FakeRegistry().tag(`${REPO}:1`, AMD.manifest)
    const reads = readsOf(skopeo, undefined, {
      access: { tlsVerify: false, env: { CONTAINERS_REGISTRIES_CONF: '/elsewhere.conf' }, retries: 0 }
    })
    expect(await reads.digest(`${REPO}:1`)).toBe(AMD.digest)
    expect(mockClients).toEqual([])
    expect(jest.mocked(log.info).mock.calls).toEqual([
      ['Reads of n.example go through skopeo: CONTAINERS_REGISTRIES_CONF is set, and whether skopeo reads it depends on its version']
    ])
  })

  test("the step's auth file: its credential is the client's", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reader-'))
    try {
      const authFile = path.join(dir, 'auth.json')
      fs.writeFileSync(authFile, JSON.stringify({ auths: { 'n.example': { auth: Buffer.from('ci:secret').toString('base64') } } }))
      mockServer.registry.tag(`${REPO}:1`, AMD.manifest)
      // No verification: the system's roots are not read.
      const reads = readsOf(new FakeRegistry(), undefined, { access: { tlsVerify: false, authFile, env: { HOME: dir }, retries: 0 } })
      expect(await reads.digest(`${REPO}:1`)).toBe(AMD.digest)
      expect(mockClients.map(c => c.credential)).toEqual([{ username: 'ci', password: 'secret' }])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('Reads in process', () => {
  test('a manifest by tag and by digest, each from the repository path; absent is null', async () => {
    mockServer.registry.put(REPO, AMD).tag(`${REPO}:1`, AMD.manifest)
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()))
    expect(await reads.manifest(`${REPO}:1`)).toEqual(AMD.manifest)
    expect(await reads.manifest(`${REPO}@${AMD.digest}`)).toEqual(AMD.manifest)
    expect(await reads.manifest(`${REPO}:2`)).toBeNull()
    expect(mockCalls).toEqual([
      { client: 0, what: 'getManifest', path: 'app', reference: '1' },
      { client: 0, what: 'getManifest', path: 'app', reference: AMD.digest },
      { client: 0, what: 'getManifest', path: 'app', reference: '2' }
    ])
  })

  test('a reference with a tag and a digest (input arch-images) is read by its digest', async () => {
    mockServer.registry.put(REPO, AMD)
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()))
    expect(await reads.manifest(`${REPO}:1@${AMD.digest}`)).toEqual(AMD.manifest)
    expect(await reads.digest(`${REPO}:1@${AMD.digest}`)).toBe(AMD.digest)
    expect(mockCalls.map(c => c.reference)).toEqual([AMD.digest, AMD.digest])
  })

  test('manifests are remembered unless read fresh, and a fresh read is what is remembered next', async () => {
    mockServer.registry.tag(`${REPO}:1`, AMD.manifest)
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()))
    expect(await reads.manifest(`${REPO}:1`)).toEqual(AMD.manifest)
    mockServer.registry.tag(`${REPO}:1`, ARM.manifest)
    expect(await reads.manifest(`${REPO}:1`)).toEqual(AMD.manifest)
    expect(mockCalls).toHaveLength(1)
    expect(await reads.manifest(`${REPO}:1`, { fresh: true })).toEqual(ARM.manifest)
    expect(await reads.manifest(`${REPO}:1`)).toEqual(ARM.manifest)
    expect(mockCalls).toHaveLength(2)
  })

  test('a failed read is not remembered: the next read asks again', async () => {
    mockServer.registry.tag(`${REPO}:1`, AMD.manifest)
    let failures = 1
    mockServer.registry.onRead = () => {
      if (failures-- > 0) throw new Error('connection reset')
    }
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()))
    await expect(reads.manifest(`${REPO}:1`)).rejects.toThrow('connection reset')
    expect(await reads.manifest(`${REPO}:1`)).toEqual(AMD.manifest)
    expect(mockCalls).toHaveLength(2)
  })

  test('the digest is always read afresh, by HEAD; absent is null', async () => {
    mockServer.registry.tag(`${REPO}:1`, AMD.manifest)
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()))
    expect(await reads.digest(`${REPO}:1`)).toBe(AMD.digest)
    mockServer.registry.tag(`${REPO}:1`, ARM.manifest)
    expect(await reads.digest(`${REPO}:1`)).toBe(ARM.digest)
    expect(await reads.digest(`${REPO}@${AMD.digest}`)).toBe(AMD.digest)
    expect(await reads.digest(`${REPO}:2`)).toBeNull()
    expect(mockCalls).toEqual([
      { client: 0, what: 'headManifest', path: 'app', reference: '1' },
      { client: 0, what: 'headManifest', path: 'app', reference: '1' },
      { client: 0, what: 'headManifest', path: 'app', reference: AMD.digest },
      { client: 0, what: 'headManifest', path: 'app', reference: '2' }
    ])
  })

  test('a config: its manifest read through the memo, then the blob it names; both remembered', async () => {
    mockServer.registry.put(REPO, AMD)
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()))
    const ref = `${REPO}@${AMD.digest}`
    expect(await reads.config(ref)).toEqual(AMD.config)
    expect(await reads.config(ref)).toEqual(AMD.config)
    expect(await reads.manifest(ref)).toEqual(AMD.manifest)
    expect(mockCalls).toEqual([
      { client: 0, what: 'getManifest', path: 'app', reference: AMD.digest },
      { client: 0, what: 'getBlob', path: 'app', reference: sha256(AMD.config) }
    ])
  })

  test('a config of an image that is gone, or of no image at all, is an error naming the reference', async () => {
    const withoutConfig = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: 'sha256:short' } }))
    const index = list([{ digest: AMD.digest, platform: amd64 }])
    mockServer.registry.tag(`${REPO}:odd`, withoutConfig).tag(`${REPO}:list`, index)
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()))
    await expect(reads.config(`${REPO}@${AMD.digest}`)).rejects.toThrow(
      new Error(`${REPO}@${AMD.digest} disappeared while it was being read`)
    )
    await expect(reads.config(`${REPO}@${sha256(withoutConfig)}`)).rejects.toThrow(
      new Error(`${REPO}@${sha256(withoutConfig)} is not an image with a config`)
    )
    await expect(reads.config(`${REPO}@${sha256(index)}`)).rejects.toThrow(
      new Error(`${REPO}@${sha256(index)} is not an image with a config`)
    )
    expect(mockCalls.map(c => c.what)).toEqual(['getManifest', 'getManifest', 'getManifest'])
  })

  test.each([
    ['a digest of another algorithm', `sha512:${'a'.repeat(64)}`],
    ['a digest with text before it', `x-sha256:${'a'.repeat(64)}`],
    ['a digest with text after it', `sha256:${'a'.repeat(64)}x`],
    ['a digest in capitals', `sha256:${'A'.repeat(64)}`],
    ['63 hex digits', `sha256:${'a'.repeat(63)}`],
    ['65 hex digits', `sha256:${'a'.repeat(65)}`],
    ['not a string', 42]
  ])('a config digest that is not sha256 and 64 hex digits is refused before any blob is asked for: %s', async (_, digest) => {
    const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest } }))
    mockServer.registry.tag(`${REPO}:1`, raw)
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()))
    await expect(reads.config(`${REPO}@${sha256(raw)}`)).rejects.toThrow('is not an image with a config')
    expect(mockCalls.map(c => c.what)).toEqual(['getManifest'])
  })
})

describe('Reads: one client per host, TLS settings and credential', () => {
  test('repositories of one endpoint share a client; the options are the step retries, default back-offs and the client options', async () => {
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()), { access: { tlsVerify: true, env: {}, retries: 4 } })
    await reads.digest(`${REPO}:1`)
    await reads.digest('n.example/other:1')
    expect(mockCalls.map(c => c.client)).toEqual([0, 0])
    expect(mockClients).toHaveLength(1)
    expect(mockClients[0].options).toEqual({ idleMs: 5000, retries: 4, baseDelayMs: 1000, maxDelayMs: 30_000 })
    expect(mockClients[0].endpoint).toMatchObject({ host: 'n.example', insecure: false })
  })

  test('the back-offs the step sets are the client options', async () => {
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()), {
      access: { tlsVerify: true, env: {}, retries: 1, baseDelayMs: 10, maxDelayMs: 50 }
    })
    await reads.digest(`${REPO}:1`)
    expect(mockClients[0].options).toEqual({ idleMs: 5000, retries: 1, baseDelayMs: 10, maxDelayMs: 50 })
  })

  test.each<[string, Partial<Endpoint>, Partial<Endpoint>]>([
    ['the TLS verification', { insecure: false }, { insecure: true }],
    ['the CA roots', { ca: ['root A'] }, { ca: ['root B'] }],
    ['the client certificate', { cert: 'cert A' }, { cert: 'cert B' }],
    [
      'the credential',
      { credential: { username: 'a', password: 'p' }, credentialFrom: 'auth.json, key n.example/a' },
      { credential: { username: 'b', password: 'p' }, credentialFrom: 'auth.json, key n.example/b' }
    ]
  ])('two repositories of one host that differ in %s have a client each, with its own credential', async (_, a, b) => {
    const config = new TableConfig(ref => native(ref.startsWith('n.example/a') ? a : b)(ref))
    const reads = readsOf(new FakeRegistry(), config)
    await reads.digest('n.example/a:1')
    await reads.digest('n.example/b:1')
    await reads.digest('n.example/a:2')
    expect(mockCalls.map(c => c.client)).toEqual([0, 1, 0])
    expect(mockClients.map(c => c.credential)).toEqual([a.credential, b.credential])
  })

  test('close closes every client', async () => {
    const reads = readsOf(new FakeRegistry(), new TableConfig(native()))
    await reads.digest(`${REPO}:1`)
    await reads.digest('m.example/app:1')
    reads.close()
    expect(mockClients.map(c => [c.endpoint.host, c.closed])).toEqual([
      ['n.example', true],
      ['m.example', true]
    ])
  })
})
