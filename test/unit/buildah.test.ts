import * as actionsExec from '@actions/exec'
import * as core from '../../src/runner'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { atLeast, Buildah, checkSupported, detectVersion, features, localListName, parseVersion, Version } from '../../src/buildah'
import { CommandError } from '../../src/exec'
import { AccessOptions } from '../../src/skopeo'

jest.mock('@actions/exec')

const v = (text: string): Version => parseVersion(text) as Version

describe('parseVersion', () => {
  test.each<[string, (Omit<Version, 'text'> & { text: string }) | undefined]>([
    ['1.28.2', { major: 1, minor: 28, patch: 2, text: '1.28.2' }],
    ['buildah version 1.23.1 (image-spec 1.0.1-dev, runtime-spec 1.0.2-dev)', { major: 1, minor: 23, patch: 1, text: '1.23.1' }],
    ['1.45.0-dev', { major: 1, minor: 45, patch: 0, text: '1.45.0' }],
    ['buildah version 1.39.3 (image-spec 1.1.0, runtime-spec 1.2.0)\n', { major: 1, minor: 39, patch: 3, text: '1.39.3' }],
    ['2.0.10', { major: 2, minor: 0, patch: 10, text: '2.0.10' }],
    ['buildah version 10.2.3', { major: 10, minor: 2, patch: 3, text: '10.2.3' }],
    ['1.28', undefined],
    ['buildah version unknown', undefined],
    ['', undefined]
  ])('%j → %j', (text, expected) => {
    expect(parseVersion(text)).toEqual(expected)
  })
})

describe('atLeast', () => {
  test.each<[string, string, boolean]>([
    ['1.35.0', '1.35.0', true],
    ['1.34.9', '1.35.0', false],
    ['1.35.1', '1.35.0', true],
    ['1.36.0', '1.35.9', true],
    ['1.35.0', '1.35.1', false],
    ['1.9.9', '1.23.0', false],
    ['1.23.0', '1.9.0', true],
    ['2.0.0', '1.99.99', true],
    ['0.99.99', '1.0.0', false],
    ['1.22.99', '1.23.0', false]
  ])('%s ≥ %s: %s', (have, want, expected) => {
    expect(atLeast(v(have), want)).toBe(expected)
  })
})

describe('features and checkSupported', () => {
  test.each<[string, boolean, boolean]>([
    ['1.23.0', false, false],
    ['1.27.9', false, false],
    ['1.28.2', false, true],
    ['1.34.9', false, true],
    ['1.35.0', true, true],
    ['1.35.1', true, true],
    ['1.45.0-dev', true, true]
  ])('buildah %s: --retry and index annotations %s, create --tls-verify %s', (text, on, create) => {
    expect(features(v(text))).toEqual({ retryFlag: on, indexAnnotations: on, createTlsVerify: create })
  })

  test.each(['1.22.9', '1.19.6', '0.9.0'])('buildah %s is refused clearly', text => {
    expect(() => checkSupported(v(text), false)).toThrow(
      `buildah ${text} is too old: multiarch-publish needs 1.23.0 or newer (its manifest rm can delete the images in a list)`
    )
  })

  test.each(['1.23.0', '1.28.2', '1.34.9'])('buildah %s is supported without annotations', text => {
    expect(() => checkSupported(v(text), false)).not.toThrow()
  })

  test.each(['1.23.0', '1.34.9'])('annotations on buildah %s are refused, naming the input and the version', text => {
    expect(() => checkSupported(v(text), true)).toThrow(
      new RegExp(
        `^input "annotations" needs buildah 1\\.35 or newer for index annotations; this runner has ${text.replace(/\./g, '\\.')}\\.`
      )
    )
  })

  test.each(['1.35.0', '1.40.1'])('annotations on buildah %s are fine', text => {
    expect(() => checkSupported(v(text), true)).not.toThrow()
  })

  test('too old wins over annotations', () => {
    expect(() => checkSupported(v('1.22.0'), true)).toThrow(/too old/)
  })
})

describe('localListName', () => {
  test.each<[string, string, string]>([
    ['fedora-minimal', '40', 'localhost/multiarch-publish-temp-fedora-minimal-40-u1'],
    ['Fedora/Minimal', 'Rawhide_1', 'localhost/multiarch-publish-temp-fedora-minimal-rawhide-1-u1'],
    ['a.b__c/d', '-x-', 'localhost/multiarch-publish-temp-a-b-c-d-x-u1'],
    ['fedora//toolbox', '.v1.', 'localhost/multiarch-publish-temp-fedora-toolbox-v1-u1']
  ])('(%j, %j)', (repo, tag, expected) => {
    expect(localListName(repo, tag, 'u1')).toBe(expected)
  })

  test('the default unique part holds the pid and differs between calls', () => {
    const a = localListName('Fedora/Minimal', 'Rawhide_1')
    const b = localListName('Fedora/Minimal', 'Rawhide_1')
    expect(a.startsWith('localhost/multiarch-publish-temp-fedora-minimal-rawhide-1-')).toBe(true)
    expect(a).toMatch(new RegExp(`^localhost/multiarch-publish-temp-fedora-minimal-rawhide-1-${process.pid}-[0-9a-f]{8}$`))
    expect(a).not.toBe(b)
    // A valid lowercase reference: buildah would refuse anything else.
    expect(a).toMatch(/^[a-z0-9./-]+$/)
  })
})

// ---- The commands, with @actions/exec faked ----

interface Call {
  tool: string
  args: string[]
  env?: NodeJS.ProcessEnv
}

interface Reply {
  code?: number
  stdout?: string
  stderr?: string
  /** Written to the --digestfile path, if the command has one. */
  digest?: string
  /** Thrown by exec itself (the program cannot be started). */
  throws?: Error
}

const execMock = actionsExec.exec as jest.MockedFunction<typeof actionsExec.exec>
let calls: Call[]
let replies: Array<Reply | ((args: string[]) => Reply)>

/** Each exec call takes the next reply (default: exit 0, no output). */
function fakeExec(): void {
  calls = []
  replies = []
  execMock.mockImplementation(async (tool, args = [], options = {}) => {
    // The watchdog's marker is exec's business, not buildah's.
    const { MULTIARCH_PUBLISH_CHILD: marker, ...env } = options.env ?? {}
    expect(marker).toMatch(/^[0-9a-f]{8}-\d+$/)
    // exec gets the path found in PATH; which directory is the machine's business.
    calls.push({ tool: path.basename(tool), args: [...args], env })
    const next = replies.shift() ?? {}
    const reply = typeof next === 'function' ? next(args) : next
    if (reply.throws) throw reply.throws
    const i = args.indexOf('--digestfile')
    if (i >= 0 && reply.digest !== undefined) fs.writeFileSync(args[i + 1], reply.digest)
    if (reply.stdout) options.listeners?.stdout?.(Buffer.from(reply.stdout))
    if (reply.stderr) options.listeners?.stderr?.(Buffer.from(reply.stderr))
    return reply.code ?? 0
  })
}

let runnerTemp: string
const DIGEST = `sha256:${'ab'.repeat(32)}`
const NAME = 'localhost/multiarch-publish-temp-fedora-40-1-abcd'

beforeEach(() => {
  fakeExec()
  runnerTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'buildah-test-'))
  jest.spyOn(core, 'debug').mockImplementation(() => undefined)
  jest.spyOn(core, 'warning').mockImplementation(() => undefined)
})
afterEach(() => {
  fs.rmSync(runnerTemp, { recursive: true, force: true })
  jest.restoreAllMocks()
})

const plainAccess = (): AccessOptions => ({ tlsVerify: true, env: { PATH: '/usr/bin', RUNNER_TEMP: runnerTemp }, retries: 0 })
const fullAccess = (): AccessOptions => ({
  tlsVerify: false,
  authFile: '/run/user/auth.json',
  certDir: '/etc/certs.d/reg',
  env: { PATH: '/usr/bin', RUNNER_TEMP: runnerTemp, REGISTRY_AUTH_FILE: '/run/user/auth.json' },
  retries: 0
})
const ACCESS_FLAGS = ['--tls-verify=false', '--authfile', '/run/user/auth.json', '--cert-dir', '/etc/certs.d/reg']

describe('detectVersion', () => {
  test('reads `buildah version --json`', async () => {
    replies.push({ stdout: JSON.stringify({ version: '1.35.0', goVersion: 'go1.22', imageSpec: '1.1.0' }) })
    const env = { PATH: '/x', REGISTRY_AUTH_FILE: '/a.json' }
    await expect(detectVersion(env)).resolves.toEqual({ major: 1, minor: 35, patch: 0, text: '1.35.0' })
    expect(calls).toEqual([{ tool: 'buildah', args: ['version', '--json'], env }])
  })

  test('falls back to `buildah --version` when --json fails', async () => {
    replies.push({ code: 125, stderr: 'Error: unknown flag: --json\n' })
    replies.push({ stdout: 'buildah version 1.21.4 (image-spec 1.0.1-dev, runtime-spec 1.0.2-dev)\n' })
    await expect(detectVersion({})).resolves.toEqual({ major: 1, minor: 21, patch: 4, text: '1.21.4' })
    expect(calls.map(c => [c.tool, ...c.args])).toEqual([
      ['buildah', 'version', '--json'],
      ['buildah', '--version']
    ])
  })

  test('falls back to `buildah --version` when --json prints no JSON', async () => {
    replies.push({ stdout: 'Version: 1.23.1\nGo Version: go1.17\n' })
    replies.push({ stdout: 'buildah version 1.23.1 (image-spec 1.0.1, runtime-spec 1.0.2-dev)\n' })
    await expect(detectVersion({})).resolves.toMatchObject({ text: '1.23.1' })
    expect(calls.map(c => c.args)).toEqual([['version', '--json'], ['--version']])
  })

  test('a missing buildah says so', async () => {
    replies.push({
      throws: new Error(
        'Unable to locate executable file: buildah. Please verify either the file path exists or the file can be found within a directory specified by the PATH environment variable.'
      )
    })
    await expect(detectVersion({})).rejects.toThrow(
      /^buildah is not installed or not on PATH \(Unable to locate executable file: buildah\); install it, e\.g\. apt-get install buildah$/
    )
    expect(calls).toHaveLength(1)
  })

  test('an unreadable version says what it read, without its line break', async () => {
    replies.push({ stdout: '{"version": ""}' })
    await expect(detectVersion({})).rejects.toThrow('cannot tell the buildah version from ""')
    replies.push({ stdout: '{"goVersion": "go1.22"}' })
    await expect(detectVersion({})).rejects.toThrow(/^cannot tell the buildah version from ""$/)
    replies.push({ code: 125, stderr: 'Error: unknown flag: --json\n' }, { stdout: 'buildah version unknown\n' })
    await expect(detectVersion({})).rejects.toThrow(/^cannot tell the buildah version from "buildah version unknown"$/)
  })

  test('both commands failing fails with the fallback error', async () => {
    replies.push({ code: 125, stderr: 'Error: unknown flag: --json' })
    replies.push({ code: 125, stderr: 'Error: cannot open storage' })
    await expect(detectVersion({})).rejects.toBeInstanceOf(CommandError)
  })
})

describe.each(['1.28.2', '1.35.0'])('Buildah %s', versionText => {
  const version = v(versionText)
  const retry = versionText === '1.35.0' ? ['--retry', '0'] : []

  test('create without annotations', async () => {
    await new Buildah(version, plainAccess()).create(NAME, {})
    expect(calls.map(c => [c.tool, ...c.args])).toEqual([['buildah', 'manifest', 'create', NAME]])
  })

  test('create with annotations', async () => {
    await new Buildah(version, fullAccess()).create(NAME, { 'org.opencontainers.image.source': 'https://example.org/x', a: 'b=c d' })
    expect(calls.map(c => c.args)).toEqual([
      ['manifest', 'create', '--annotation', 'org.opencontainers.image.source=https://example.org/x', '--annotation', 'a=b=c d', NAME]
    ])
  })

  test.each<[string, () => AccessOptions, string[]]>([
    ['plain', plainAccess, []],
    ['tls-verify false, auth-file and cert-dir', fullAccess, ACCESS_FLAGS]
  ])('add (%s) pins the platform and passes access flags', async (_, access, flags) => {
    const b = new Buildah(version, access())
    await b.add(NAME, `quay.io/fedora/fedora@${DIGEST}`, { os: 'linux', architecture: 'arm', variant: 'v7' })
    await b.add(NAME, `quay.io/fedora/fedora@${DIGEST}`, { os: 'linux', architecture: 'amd64' })
    expect(calls.map(c => c.args)).toEqual([
      ['manifest', 'add', '--os', 'linux', '--arch', 'arm', '--variant', 'v7', ...flags, NAME, `docker://quay.io/fedora/fedora@${DIGEST}`],
      ['manifest', 'add', '--os', 'linux', '--arch', 'amd64', ...flags, NAME, `docker://quay.io/fedora/fedora@${DIGEST}`]
    ])
    expect(calls.every(c => c.env === access().env || JSON.stringify(c.env) === JSON.stringify(access().env))).toBe(true)
  })

  test.each<[string, () => AccessOptions, string[], 'oci' | 'v2s2']>([
    ['plain, oci', plainAccess, [], 'oci'],
    ['plain, v2s2', plainAccess, [], 'v2s2'],
    ['tls-verify false, auth-file and cert-dir', fullAccess, ACCESS_FLAGS, 'oci']
  ])('push (%s): --all --format, the digest file, no --creds', async (_, access, flags, format) => {
    replies.push({ digest: `${DIGEST}\n` })
    const digest = await new Buildah(version, access()).push(NAME, 'registry.example.org:5000/fedora:40', format, true)
    expect(digest).toBe(DIGEST)
    expect(calls).toHaveLength(1)
    const args = calls[0].args
    expect(args).toEqual([
      'manifest',
      'push',
      '--all',
      '--format',
      format,
      '--quiet',
      ...retry,
      ...flags,
      '--digestfile',
      expect.stringMatching(/\/digest$/),
      NAME,
      'docker://registry.example.org:5000/fedora:40'
    ])
    const digestFile = args[args.indexOf('--digestfile') + 1]
    expect(digestFile.startsWith(`${runnerTemp}/multiarch-publish-push-`)).toBe(true)
    expect(fs.existsSync(path.dirname(digestFile))).toBe(false) // cleaned up
    expect(args.some(a => a.startsWith('--creds'))).toBe(false)
    expect(calls[0].env).toEqual(access().env)
  })

  test.each<[string, boolean, string]>([
    ['with its images', true, '--all'],
    // 1.38 turned --all on by default, so "only the list" must say so.
    ['only the list', false, '--all=false']
  ])('push %s: %s on every version', async (_, withImages, flag) => {
    for (const v of ['1.23.1', '1.28.2', '1.39.3']) {
      fakeExec()
      replies.push({ digest: DIGEST })
      await new Buildah(parseVersion(v) as Version, plainAccess()).push(NAME, 'localhost:5000/fedora:40', 'oci', withImages)
      expect(calls[0].args.slice(0, 3)).toEqual(['manifest', 'push', flag])
      expect(calls[0].args.filter(a => a.startsWith('--all'))).toEqual([flag])
    }
  })

  test('push with an empty digest file pushes again without --digestfile', async () => {
    replies.push({ digest: '' })
    replies.push({})
    const digest = await new Buildah(version, plainAccess()).push(NAME, 'localhost:5000/fedora:40', 'oci', true)
    expect(digest).toBe('')
    expect(calls.map(c => c.args)).toEqual([
      [
        'manifest',
        'push',
        '--all',
        '--format',
        'oci',
        '--quiet',
        ...retry,
        '--digestfile',
        expect.any(String),
        NAME,
        'docker://localhost:5000/fedora:40'
      ],
      ['manifest', 'push', '--all', '--format', 'oci', '--quiet', ...retry, NAME, 'docker://localhost:5000/fedora:40']
    ])
  })

  test('push with no digest file at all also pushes again', async () => {
    replies.push({})
    replies.push({})
    await expect(new Buildah(version, plainAccess()).push(NAME, 'localhost:5000/fedora:40', 'oci', true)).resolves.toBe('')
    expect(calls).toHaveLength(2)
    expect(calls[1].args).not.toContain('--digestfile')
  })

  test('push with an empty digest file whose re-push fails throws that error', async () => {
    replies.push({ digest: '' })
    replies.push({ code: 125, stderr: 'Error: writing manifest: denied: requested access to the resource is denied\n' })
    const push = new Buildah(version, plainAccess()).push(NAME, 'localhost:5000/fedora:40', 'oci', true)
    await expect(push).rejects.toBeInstanceOf(CommandError)
    await expect(push).rejects.toThrow(
      'buildah manifest push exited with 125: writing manifest: denied: requested access to the resource is denied'
    )
    expect(calls).toHaveLength(2)
  })

  test('push retries a transient failure and not a permanent one', async () => {
    const access = { ...plainAccess(), retries: 2, baseDelayMs: 1 }
    replies.push({ code: 125, stderr: 'Error: writing blob: connection reset by peer' })
    replies.push({ digest: DIGEST })
    await expect(new Buildah(version, access).push(NAME, 'localhost:5000/fedora:40', 'oci', true)).resolves.toBe(DIGEST)
    expect(calls).toHaveLength(2)

    fakeExec()
    replies.push({ code: 125, stderr: 'Error: unauthorized: authentication required' })
    await expect(new Buildah(version, access).push(NAME, 'localhost:5000/fedora:40', 'oci', true)).rejects.toThrow(/unauthorized/)
    expect(calls).toHaveLength(1)
  })

  test('entries reads `manifest inspect`', async () => {
    replies.push({
      stdout: JSON.stringify({ schemaVersion: 2, manifests: [{ digest: DIGEST, platform: { os: 'linux', architecture: 'amd64' } }] })
    })
    replies.push({ stdout: JSON.stringify({ schemaVersion: 2, manifests: null }) })
    const b = new Buildah(version, plainAccess())
    await expect(b.entries(NAME)).resolves.toEqual([{ digest: DIGEST, platform: { os: 'linux', architecture: 'amd64' } }])
    await expect(b.entries(NAME)).resolves.toEqual([])
    expect(calls.map(c => c.args)).toEqual([
      ['manifest', 'inspect', NAME],
      ['manifest', 'inspect', NAME]
    ])
  })

  test('create with images: a failed attempt leaves the list behind, so it is removed before the next; TLS as the registry wants', async () => {
    const access = { ...plainAccess(), tlsVerify: false, retries: 1, baseDelayMs: 1 }
    const b = new Buildah(version, access)
    expect(b.createTakes(['r.example/x@sha256:aa'])).toBe(true)
    expect(new Buildah(version, { ...access, certDir: '/certs' }).createTakes(['r.example/x@sha256:aa'])).toBe(false)
    replies.push({ code: 125, stderr: 'Error: reading manifest: read tcp: connection reset by peer\n' }, {}, {})
    await b.create(NAME, {}, ['r.example/x@sha256:aa', 'r.example/x@sha256:bb'])
    const create = ['manifest', 'create', '--tls-verify=false', NAME, 'docker://r.example/x@sha256:aa', 'docker://r.example/x@sha256:bb']
    expect(calls.map(c => c.args)).toEqual([create, ['manifest', 'rm', NAME], create])
  })

  test('create without images is not retried: it reaches no registry', async () => {
    replies.push({ code: 125, stderr: 'Error: reading manifest: read tcp: connection reset by peer\n' })
    const b = new Buildah(version, { ...plainAccess(), retries: 2, baseDelayMs: 1 })
    await expect(b.create(NAME, {})).rejects.toBeInstanceOf(CommandError)
    expect(calls.map(c => c.args)).toEqual([['manifest', 'create', NAME]])
  })

  test('create with images: --tls-verify=false when any of them is on a registry without TLS checks, none when all have them', async () => {
    const access = {
      ...plainAccess(),
      registries: [
        { prefix: 'plain.example', tlsVerify: false },
        { prefix: 'tls.example', tlsVerify: true }
      ]
    }
    const b = new Buildah(version, access)
    await b.create(NAME, {}, [`tls.example/x@${DIGEST}`, `plain.example/x@${DIGEST}`])
    await b.create(NAME, {}, [`tls.example/x@${DIGEST}`, `tls.example/y@${DIGEST}`])
    expect(calls.map(c => c.args)).toEqual([
      ['manifest', 'create', '--tls-verify=false', NAME, `docker://tls.example/x@${DIGEST}`, `docker://plain.example/x@${DIGEST}`],
      ['manifest', 'create', NAME, `docker://tls.example/x@${DIGEST}`, `docker://tls.example/y@${DIGEST}`]
    ])
  })

  test('an OCI layout reference goes as it is, a registry one as docker://', async () => {
    const b = new Buildah(version, plainAccess())
    await b.add(NAME, '/tmp/layout/oci:x86_64', { os: 'linux', architecture: 'amd64' })
    await b.add(NAME, 'oci:/tmp/layout:x86_64', { os: 'linux', architecture: 'amd64' })
    expect(calls.map(c => c.args.slice(-1)[0])).toEqual(['docker:///tmp/layout/oci:x86_64', 'oci:/tmp/layout:x86_64'])
  })

  test('add with annotations on the entry', async () => {
    await new Buildah(version, plainAccess()).add(
      NAME,
      `r.example/x@${DIGEST}`,
      { os: 'linux', architecture: 'amd64' },
      { a: 'b=c d', e: '' }
    )
    expect(calls.map(c => c.args)).toEqual([
      [
        'manifest',
        'add',
        '--os',
        'linux',
        '--arch',
        'amd64',
        '--annotation',
        'a=b=c d',
        '--annotation',
        'e=',
        NAME,
        `docker://r.example/x@${DIGEST}`
      ]
    ])
  })

  test.each<[string, 'create' | 'add' | 'push', string]>([
    ['create', 'create', `create ${NAME}`],
    ['add', 'add', `add r.example/x@${DIGEST}`],
    ['push', 'push', 'push r.example/x:1']
  ])('a retried %s names what it retried', async (_, command, what) => {
    replies.push({ code: 125, stderr: 'Error: reading manifest: read tcp: connection reset by peer\n' }, {}, { digest: DIGEST })
    const b = new Buildah(version, { ...plainAccess(), retries: 1, baseDelayMs: 1 })
    if (command === 'create') await b.create(NAME, {}, [`r.example/x@${DIGEST}`])
    if (command === 'add') await b.add(NAME, `r.example/x@${DIGEST}`, { os: 'linux', architecture: 'amd64' })
    if (command === 'push') await b.push(NAME, 'r.example/x:1', 'oci', true)
    expect(jest.mocked(core.warning).mock.calls.map(([message]) => String(message))).toEqual([
      expect.stringContaining(`${what}: succeeded after 2 attempts`)
    ])
  })

  test('remove uses `manifest rm`, never rmi', async () => {
    await new Buildah(version, fullAccess()).remove(NAME)
    expect(calls.map(c => [c.tool, ...c.args])).toEqual([['buildah', 'manifest', 'rm', NAME]])
    expect(calls[0].env).toEqual(fullAccess().env)
  })

  test.each([`Error: ${NAME}: image not known\n`, `error removing manifest list "${NAME}": ${NAME}: Image Not Known\n`])(
    'remove tolerates %j',
    async stderr => {
      replies.push({ code: 125, stderr })
      await expect(new Buildah(version, plainAccess()).remove(NAME)).resolves.toBeUndefined()
    }
  )

  test('remove throws other errors', async () => {
    replies.push({ code: 125, stderr: 'Error: acquiring lock: permission denied\n' })
    await expect(new Buildah(version, plainAccess()).remove(NAME)).rejects.toThrow(
      'buildah manifest rm exited with 125: acquiring lock: permission denied'
    )
  })
})

describe('createTakes: one `manifest create` with the images, or an add each', () => {
  const IMAGES = [`a.example/x@${DIGEST}`, `c.example/x@${DIGEST}`]
  const access = (o: Partial<AccessOptions>, env: NodeJS.ProcessEnv = {}): AccessOptions => ({
    tlsVerify: true,
    retries: 0,
    ...o,
    env: { PATH: '/usr/bin', ...env }
  })
  test.each<[string, string, AccessOptions, boolean]>([
    ['no auth file at all', '1.28.2', access({}), true],
    ['buildah 1.23: no --tls-verify on create', '1.23.1', access({}), false],
    ['input auth-file, no DOCKER_CONFIG', '1.35.0', access({ authFile: '/home/u/auth.json' }), false],
    ['a login before (REGISTRY_AUTH_FILE), no DOCKER_CONFIG', '1.35.0', access({}, { REGISTRY_AUTH_FILE: '/run/u/auth.json' }), false],
    ['the private copy in DOCKER_CONFIG', '1.35.0', access({ authFile: '/tmp/d/config.json' }, { DOCKER_CONFIG: '/tmp/d' }), true],
    ['an auth file outside DOCKER_CONFIG', '1.35.0', access({ authFile: '/tmp/e/config.json' }, { DOCKER_CONFIG: '/tmp/d' }), false],
    ['a cert-dir for one of the registries', '1.35.0', access({ registries: [{ prefix: 'c.example', certDir: '/certs' }] }), false]
  ])('%s (buildah %s)', (_, version, o, expected) => {
    expect(new Buildah(v(version), o).createTakes(IMAGES)).toBe(expected)
  })
})
