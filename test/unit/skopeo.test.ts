/**
 * src/skopeo.ts with @actions/exec faked: the argv each call gives skopeo, how a copy's progress
 * lines decide its retries, and what a read makes of "not found". Against a real skopeo:
 * test/integration.
 */
import * as actionsExec from '@actions/exec'
import * as core from '../../src/runner'
import * as path from 'path'
import { sha256 } from '../../src/manifest'
import { AccessOptions, checkSkopeo, copyStage, Skopeo } from '../../src/skopeo'
import { amd64, image, list } from './builders'

jest.mock('@actions/exec')

interface Reply {
  code?: number
  stdout?: string
  stderr?: string
}

const execMock = actionsExec.exec as jest.MockedFunction<typeof actionsExec.exec>
let calls: Array<{ tool: string; args: string[]; env: NodeJS.ProcessEnv }>
let replies: Reply[]
let infos: string[]

beforeEach(() => {
  calls = []
  replies = []
  infos = []
  // Each exec call takes the next reply (default: exit 0, no output).
  execMock.mockImplementation(async (tool, args = [], options = {}) => {
    // The watchdog's marker is exec's business, not skopeo's.
    const env = { ...options.env }
    delete env.MULTIARCH_PUBLISH_CHILD
    calls.push({ tool: path.basename(tool), args: [...args], env })
    const reply = replies.shift() ?? {}
    if (reply.stdout) options.listeners?.stdout?.(Buffer.from(reply.stdout))
    if (reply.stderr) options.listeners?.stderr?.(Buffer.from(reply.stderr))
    return reply.code ?? 0
  })
  jest.spyOn(core, 'debug').mockImplementation(() => undefined)
  jest.spyOn(core, 'warning').mockImplementation(() => undefined)
  jest.spyOn(core, 'info').mockImplementation(line => void infos.push(line))
})
afterEach(() => jest.restoreAllMocks())

const ENV = { PATH: '/usr/bin' }
const access = (o: Partial<AccessOptions> = {}): AccessOptions => ({ tlsVerify: true, env: ENV, retries: 0, baseDelayMs: 1, ...o })
const FULL: Partial<AccessOptions> = { tlsVerify: false, authFile: '/run/auth.json', certDir: '/certs' }
/** Per-registry settings as input `registry-auth` gives them, longest prefix first. */
const REGISTRIES: Partial<AccessOptions> = {
  registries: [
    { prefix: 'dst.example/team', certDir: '/certs/team' },
    { prefix: 'dst.example', tlsVerify: false },
    { prefix: 'src.example', tlsVerify: false, certDir: '/certs/src' }
  ]
}
const FROM = `src.example/r@sha256:${'a'.repeat(64)}`
const TO = `dst.example/r@sha256:${'a'.repeat(64)}`
// skopeo's own retries inside each attempt: 3 tries each.
const COPY = ['copy', '--preserve-digests', '--retry-times', '2']
const MANIFEST_UNKNOWN =
  'time="2024-01-01T00:00:00Z" level=fatal msg="Error parsing image name \\"docker://x\\": reading manifest 1 in x: manifest unknown"\n'

describe('the argv skopeo is given', () => {
  test.each<[string, Partial<AccessOptions>, string, string, boolean, string[]]>([
    ['plain', {}, FROM, TO, false, []],
    [
      'tls-verify false, auth-file, cert-dir: each TLS flag per side, one --authfile for both',
      FULL,
      FROM,
      TO,
      false,
      [
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        '--authfile',
        '/run/auth.json',
        '--src-cert-dir',
        '/certs',
        '--dest-cert-dir',
        '/certs'
      ]
    ],
    ['a list only (the rollback): --multi-arch index-only', {}, FROM, 'dst.example/r:1', true, ['--multi-arch', 'index-only']],
    [
      'registry-auth: each side from its own registry',
      REGISTRIES,
      FROM,
      'dst.example/r:1',
      false,
      ['--src-tls-verify=false', '--dest-tls-verify=false', '--src-cert-dir', '/certs/src']
    ],
    [
      'registry-auth: the longest prefix wins, the step settings fill in what it does not say',
      { ...REGISTRIES, certDir: '/certs' },
      'other.example/r@sha256:1',
      'dst.example/team/r:1',
      false,
      ['--src-cert-dir', '/certs', '--dest-cert-dir', '/certs/team']
    ],
    [
      'registry-auth: a prefix is a whole path component',
      REGISTRIES,
      'src.example.evil/r@sha256:1',
      'dst.example/r:1',
      false,
      ['--dest-tls-verify=false']
    ]
  ])('copy, %s', async (_name, o, from, to, indexOnly, flags) => {
    await new Skopeo(access(o)).copy(from, to, { indexOnly })
    expect(calls).toEqual([{ tool: 'skopeo', args: [...COPY, ...flags, `docker://${from}`, `docker://${to}`], env: ENV }])
  })

  test.each<[string, Partial<AccessOptions>, string[]]>([
    ['plain', {}, []],
    // The relay's own auth file for the source; the step's, TLS and certificates for the destination only.
    [
      'tls-verify false, auth-file, cert-dir',
      FULL,
      ['--dest-tls-verify=false', '--authfile', '/run/auth.json', '--dest-cert-dir', '/certs']
    ]
  ])('copy through a loopback source (the relay), %s: read over plain HTTP with its own auth file', async (_name, o, flags) => {
    const via = { ref: '127.0.0.1:4000/s0@sha256:1', authFile: '/tmp/layouts/relay-auth.json' }
    await new Skopeo(access(o)).copy(FROM, TO, { via })
    expect(calls).toEqual([
      {
        tool: 'skopeo',
        args: [...COPY, '--src-tls-verify=false', '--src-authfile', via.authFile, ...flags, `docker://${via.ref}`, `docker://${TO}`],
        env: ENV
      }
    ])
  })

  test.each<[string, Partial<AccessOptions>, string, string[]]>([
    ['plain', {}, 'dst.example/r:1', []],
    [
      'tls-verify false, auth-file, cert-dir',
      FULL,
      'dst.example/r:1',
      ['--tls-verify=false', '--authfile', '/run/auth.json', '--cert-dir', '/certs']
    ],
    ['registry-auth: its registry settings', REGISTRIES, 'src.example/r:1', ['--tls-verify=false', '--cert-dir', '/certs/src']],
    ['registry-auth: the longest prefix', REGISTRIES, 'dst.example/team/r:1', ['--cert-dir', '/certs/team']]
  ])('inspect, %s: the manifest raw, the config raw', async (_name, o, ref, flags) => {
    replies.push({ stdout: '{}' }, { stdout: '{}' })
    const skopeo = new Skopeo(access(o))
    await skopeo.manifest(ref)
    await skopeo.config(ref)
    expect(calls.map(c => c.args)).toEqual([
      ['inspect', '--raw', ...flags, `docker://${ref}`],
      ['inspect', '--raw', '--config', ...flags, `docker://${ref}`]
    ])
    expect(calls.map(c => [c.tool, c.env])).toEqual([
      ['skopeo', ENV],
      ['skopeo', ENV]
    ])
  })

  test('checkSkopeo: `skopeo --version`, trimmed', async () => {
    replies.push({ stdout: 'skopeo version 1.13.3\n' })
    await expect(checkSkopeo(ENV)).resolves.toBe('skopeo version 1.13.3')
    expect(calls).toEqual([{ tool: 'skopeo', args: ['--version'], env: ENV }])
  })
})

describe('copy: progress and retries', () => {
  test.each<[string, number]>([
    ['Getting image source signatures', 0],
    [`Copying blob sha256:${'b'.repeat(64)}`, 1],
    [`copying blob sha256:${'b'.repeat(64)}`, 1],
    [`Copying config sha256:${'c'.repeat(64)}`, 2],
    ['Writing manifest to image destination', 3],
    ['Storing signatures', 4],
    ['time="…" level=fatal msg="Copying blob failed"', 0]
  ])('copyStage(%j) = %d', (line, stage) => {
    expect(copyStage(line)).toBe(stage)
  })

  const BLOB = `Copying blob sha256:${'b'.repeat(64)}\n`
  const CONFIG = `Copying config sha256:${'c'.repeat(64)}\n`
  const RESET = 'Error: writing blob: connection reset by peer\n'

  test('an attempt that gets further than every earlier one is retried even with retries 0', async () => {
    replies.push({ code: 1, stdout: BLOB, stderr: RESET }, { code: 1, stdout: BLOB + CONFIG, stderr: RESET }, { stdout: BLOB + CONFIG })
    await new Skopeo(access()).copy(FROM, TO)
    expect(calls).toHaveLength(3)
    // Progress as skopeo reports it, with where the copy goes.
    expect(infos).toContain(`copy ${FROM} → dst.example/r: blob sha256:${'b'.repeat(64)}`)
  })

  test('an attempt that gets no further than an earlier one counts against retries', async () => {
    replies.push({ code: 1, stdout: BLOB + CONFIG, stderr: RESET }, { code: 1, stdout: BLOB, stderr: RESET })
    await expect(new Skopeo(access()).copy(FROM, TO)).rejects.toThrow(/connection reset by peer/)
    expect(calls).toHaveLength(2)
  })

  test('no progress at all: `retries` transient failures are retried, then it fails', async () => {
    replies.push({ code: 1, stderr: RESET }, { code: 1, stderr: RESET }, { code: 1, stderr: RESET })
    await expect(new Skopeo(access({ retries: 2 })).copy(FROM, TO)).rejects.toThrow(/connection reset by peer \(after 3 attempts\)/)
    expect(calls).toHaveLength(3)
  })

  test('a permanent failure is not retried, progress or not', async () => {
    replies.push({ code: 1, stdout: BLOB, stderr: 'Error: writing manifest: denied: requested access to the resource is denied\n' })
    await expect(new Skopeo(access({ retries: 2 })).copy(FROM, TO)).rejects.toThrow(/denied/)
    expect(calls).toHaveLength(1)
  })
})

describe('reads: not found is null, and memoised unless fresh', () => {
  test('a tag or repository that does not exist reads as null, once, without retries', async () => {
    replies.push({ code: 1, stderr: MANIFEST_UNKNOWN })
    const skopeo = new Skopeo(access({ retries: 2 }))
    await expect(skopeo.manifest('dst.example/r:1')).resolves.toBeNull()
    expect(calls).toHaveLength(1)
  })

  test('digest: sha256 of the bytes, read afresh every time; null when there is nothing', async () => {
    const raw = list([{ digest: image(amd64).digest, platform: amd64 }])
    replies.push({ stdout: raw.toString('utf8') }, { code: 1, stderr: MANIFEST_UNKNOWN })
    const skopeo = new Skopeo(access())
    await expect(skopeo.digest('dst.example/r:1')).resolves.toBe(sha256(raw))
    await expect(skopeo.digest('dst.example/r:1')).resolves.toBeNull()
    expect(calls).toHaveLength(2)
  })

  test('a config that is gone says so; other errors are errors', async () => {
    replies.push({ code: 1, stderr: MANIFEST_UNKNOWN }, { code: 1, stderr: 'Error: unauthorized: authentication required\n' })
    const skopeo = new Skopeo(access())
    await expect(skopeo.config('dst.example/r@sha256:1')).rejects.toThrow('dst.example/r@sha256:1 disappeared while it was being read')
    await expect(skopeo.manifest('dst.example/r:1')).rejects.toThrow(/unauthorized: authentication required/)
  })

  test('a manifest read is memoised per reference; fresh reads again; the config is its own read', async () => {
    const first = image(amd64)
    replies.push({ stdout: first.manifest.toString('utf8') }, { stdout: '{"changed":true}' }, { stdout: '{}' })
    const skopeo = new Skopeo(access())
    expect(await skopeo.manifest('dst.example/r:1')).toEqual(first.manifest)
    expect(await skopeo.manifest('dst.example/r:1')).toEqual(first.manifest)
    expect(calls).toHaveLength(1)
    expect((await skopeo.manifest('dst.example/r:1', { fresh: true }))?.toString()).toBe('{"changed":true}')
    // What the fresh read found is what later reads get.
    expect((await skopeo.manifest('dst.example/r:1'))?.toString()).toBe('{"changed":true}')
    await skopeo.config('dst.example/r:1')
    expect(calls.map(c => c.args.slice(0, 3))).toEqual([
      ['inspect', '--raw', 'docker://dst.example/r:1'],
      ['inspect', '--raw', 'docker://dst.example/r:1'],
      ['inspect', '--raw', '--config']
    ])
  })
})

describe('Skopeo.digest', () => {
  test('the digest of the bytes served, read afresh; null when there is nothing', async () => {
    const raw = list([{ digest: `sha256:${'a'.repeat(64)}`, platform: amd64 }])
    const skopeo = new Skopeo({ tlsVerify: true, env: {}, retries: 0 })
    const manifest = jest.spyOn(skopeo, 'manifest').mockResolvedValueOnce(raw).mockResolvedValueOnce(null)
    expect(await skopeo.digest('r.example/x:1')).toBe(sha256(raw))
    expect(await skopeo.digest('r.example/x:1')).toBeNull()
    expect(manifest).toHaveBeenCalledWith('r.example/x:1', { fresh: true })
  })
})
