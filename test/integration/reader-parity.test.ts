/**
 * Parity: for each place credentials come from and each TLS setting, the in-process reader (`Reads`)
 * and `skopeo inspect --raw` (same environment, same flags as the action gives it) read the same
 * registry and agree: the same digest, or both fail. And where the configuration needs what the
 * reader does not do (a credential helper, a mirror), the read goes to skopeo, says so once, and works.
 */
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { pushImage, sha256 } from '../harness/images'
import { startRegistry } from '../harness/registry'
import { prepareCredentials, type LoginInputs } from '../../src/auth'
import * as log from '../../src/log'
import { Reads, type Reader } from '../../src/registry/reader'
import { Skopeo } from '../../src/skopeo'
import type { Registry } from './fixtures'

const ci = { user: 'ci', password: 'Par-7e1d-ity' }
const refreshToken = 'rt-parity-4b1e'

let basic: Registry
let bearer: Registry
let tls: Registry
let plain: Registry
let mirror: Registry
let digest: string
let root: string

beforeAll(async () => {
  ;[basic, bearer, tls, plain, mirror] = await Promise.all([
    startRegistry({ htpasswd: ci }),
    startRegistry({ token: { users: [{ ...ci, refreshToken }] } }),
    startRegistry({ tls: { clientCerts: true } }),
    startRegistry(),
    startRegistry()
  ])
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-parity-'))
  // prepareCredentials masks the password on stdout; nothing to mask in a test.
  jest.spyOn(log, 'setSecret').mockImplementation(() => undefined)
  // One image everywhere, so every successful read has the same digest.
  const image = { architecture: 'amd64', salt: 'parity' }
  digest = (await pushImage({ ...image, host: basic.host, repo: 'r/img', tag: 't', auth: ci })).digest
  for (const repo of ['ns/img', 'other/img']) await pushImage({ ...image, host: basic.host, repo, tag: 't', auth: ci })
  await pushImage({ ...image, host: tls.host, repo: 'r/img', tag: 't', certDir: tls.certDir })
  await pushImage({ ...image, host: plain.host, repo: 'r/img', tag: 't' })
  await pushImage({ ...image, host: mirror.host, repo: 'mirrored/img', tag: 't' })
  await new Promise<void>((resolve, reject) =>
    execFile(
      'skopeo',
      [
        'copy',
        '--preserve-digests',
        ...['--src-tls-verify=false', '--src-creds', `${ci.user}:${ci.password}`],
        ...['--dest-tls-verify=false', '--dest-creds', `${ci.user}:${ci.password}`],
        `docker://${basic.host}/r/img:t`,
        `docker://${bearer.host}/r/img:t`
      ],
      err => (err ? reject(err) : resolve())
    )
  )
}, 60_000)
afterAll(async () => {
  await Promise.all([basic, bearer, tls, plain, mirror].map(r => r?.stop()))
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

/** What one read is given: the action's access options and the reference. */
interface Setup {
  env: NodeJS.ProcessEnv
  authFile?: string
  tlsVerify: boolean
  certDir?: string
  ref: string
}

/** A case's own directory: `home` is its HOME; `write` puts a file under the directory. */
interface Dir {
  dir: string
  home: string
  write: (file: string, content: string) => string
  env: (more?: NodeJS.ProcessEnv) => NodeJS.ProcessEnv
}

function caseDir(): Dir {
  const dir = fs.mkdtempSync(path.join(root, 'case-'))
  const home = path.join(dir, 'home')
  fs.mkdirSync(home)
  fs.mkdirSync(path.join(dir, 'no-roots'))
  fs.writeFileSync(path.join(dir, 'no-roots.pem'), '')
  return {
    dir,
    home,
    write: (file, content) => {
      const full = path.join(dir, file)
      fs.mkdirSync(path.dirname(full), { recursive: true })
      fs.writeFileSync(full, content)
      return full
    },
    // No system roots for either (Go and the reader both take SSL_CERT_FILE/DIR): the registries'
    // CA is private, and loading some 150 roots per case costs more than the read.
    env: (more = {}) => ({
      PATH: process.env.PATH,
      HOME: home,
      SSL_CERT_FILE: path.join(dir, 'no-roots.pem'),
      SSL_CERT_DIR: path.join(dir, 'no-roots'),
      ...more
    })
  }
}

const auth = (user: string, password: string): { auth: string } => ({ auth: Buffer.from(`${user}:${password}`).toString('base64') })
const auths = (entries: Record<string, object>): string => JSON.stringify({ auths: entries })
const right = (): { auth: string } => auth(ci.user, ci.password)
const wrong = (): { auth: string } => auth(ci.user, 'wrong')

/** The digest read, or `fails` (with why, for the failure message). */
type Outcome = { digest: string } | { fails: string }
const summary = (o: Outcome): string => ('digest' in o ? o.digest : 'fails')

/** A skopeo the parity reads must not reach: they are in process. */
const noSkopeo: Reader = {
  manifest: () => Promise.reject(new Error('read handed to skopeo')),
  config: () => Promise.reject(new Error('read handed to skopeo')),
  digest: () => Promise.reject(new Error('read handed to skopeo'))
}

function readsFor(s: Setup, skopeo: Reader = noSkopeo, isSource = false): Reads {
  return new Reads(skopeo, {
    mode: 'auto',
    access: { tlsVerify: s.tlsVerify, authFile: s.authFile, certDir: s.certDir, env: s.env, retries: 1, baseDelayMs: 10, maxDelayMs: 50 },
    isSource: () => isSource,
    client: { idleMs: 10_000 }
  })
}

async function inProcess(s: Setup): Promise<Outcome> {
  const reads = readsFor(s)
  try {
    const raw = await reads.manifest(s.ref)
    return raw ? { digest: sha256(raw) } : { fails: 'absent' }
  } catch (e) {
    return { fails: (e as Error).message }
  } finally {
    reads.close()
  }
}

/** `skopeo inspect --raw` with the flags the action passes (see accessFlags) and the same environment. */
function bySkopeo(s: Setup): Promise<Outcome> {
  const args = [
    'inspect',
    '--raw',
    ...(s.tlsVerify ? [] : ['--tls-verify=false']),
    ...(s.authFile ? ['--authfile', s.authFile] : []),
    ...(s.certDir ? ['--cert-dir', s.certDir] : []),
    `docker://${s.ref}`
  ]
  return new Promise(resolve =>
    execFile('skopeo', args, { env: s.env, encoding: 'buffer', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve(err ? { fails: stderr.toString().trim() || err.message } : { digest: sha256(stdout) })
    )
  )
}

/** Both read `s`; they agree with each other and with `expected` (the image's digest, or a failure). */
async function expectParity(s: Setup, expected: 'served' | 'fails'): Promise<void> {
  const [reader, skopeo] = await Promise.all([inProcess(s), bySkopeo(s)])
  const want = expected === 'served' ? digest : 'fails'
  // The reasons are in the comparison only to be shown when it fails.
  expect({ reader: summary(reader), skopeo: summary(skopeo), why: { reader, skopeo } }).toEqual({
    reader: want,
    skopeo: want,
    why: expect.anything()
  })
}

const ref = (r: Registry, repo = 'r/img'): string => `${r.host}/${repo}:t`

describe('credentials: the reader finds the ones skopeo finds', () => {
  const cases: Array<[string, 'served' | 'fails', (d: Dir) => Setup]> = [
    [
      'auth-file input',
      'served',
      d => ({ env: d.env(), tlsVerify: false, authFile: d.write('given.json', auths({ [basic.host]: right() })), ref: ref(basic) })
    ],
    [
      'auth-file input with a wrong password',
      'fails',
      d => ({ env: d.env(), tlsVerify: false, authFile: d.write('given.json', auths({ [basic.host]: wrong() })), ref: ref(basic) })
    ],
    [
      'auth-file input without the registry, nor any default file with it',
      'fails',
      d => ({ env: d.env(), tlsVerify: false, authFile: d.write('given.json', auths({ 'elsewhere.example': right() })), ref: ref(basic) })
    ],
    [
      'REGISTRY_AUTH_FILE',
      'served',
      d => ({
        env: d.env({ REGISTRY_AUTH_FILE: d.write('env.json', auths({ [basic.host]: right() })) }),
        tlsVerify: false,
        ref: ref(basic)
      })
    ],
    [
      '${XDG_RUNTIME_DIR}/containers/auth.json',
      'served',
      d => {
        d.write('run/containers/auth.json', auths({ [basic.host]: right() }))
        return { env: d.env({ XDG_RUNTIME_DIR: path.join(d.dir, 'run') }), tlsVerify: false, ref: ref(basic) }
      }
    ],
    [
      '$XDG_CONFIG_HOME/containers/auth.json',
      'served',
      d => {
        d.write('config/containers/auth.json', auths({ [basic.host]: right() }))
        return { env: d.env({ XDG_CONFIG_HOME: path.join(d.dir, 'config') }), tlsVerify: false, ref: ref(basic) }
      }
    ],
    [
      '~/.config/containers/auth.json (no XDG_CONFIG_HOME)',
      'served',
      d => {
        d.write('home/.config/containers/auth.json', auths({ [basic.host]: right() }))
        return { env: d.env(), tlsVerify: false, ref: ref(basic) }
      }
    ],
    [
      '$DOCKER_CONFIG/config.json',
      'served',
      d => {
        d.write('docker/config.json', auths({ [basic.host]: right() }))
        return { env: d.env({ DOCKER_CONFIG: path.join(d.dir, 'docker') }), tlsVerify: false, ref: ref(basic) }
      }
    ],
    [
      '~/.docker/config.json',
      'served',
      d => {
        d.write('home/.docker/config.json', auths({ [basic.host]: right() }))
        return { env: d.env(), tlsVerify: false, ref: ref(basic) }
      }
    ],
    [
      '~/.docker/config.json is not read when DOCKER_CONFIG is set',
      'fails',
      d => {
        d.write('home/.docker/config.json', auths({ [basic.host]: right() }))
        return { env: d.env({ DOCKER_CONFIG: path.join(d.dir, 'empty') }), tlsVerify: false, ref: ref(basic) }
      }
    ],
    [
      '~/.dockercfg (the legacy format: hosts at the top level)',
      'served',
      d => {
        d.write('home/.dockercfg', JSON.stringify({ [basic.host]: right() }))
        return { env: d.env(), tlsVerify: false, ref: ref(basic) }
      }
    ],
    [
      'the first file with an entry wins: a wrong one in XDG_RUNTIME_DIR before a right one in ~/.docker',
      'fails',
      d => {
        d.write('run/containers/auth.json', auths({ [basic.host]: wrong() }))
        d.write('home/.docker/config.json', auths({ [basic.host]: right() }))
        return { env: d.env({ XDG_RUNTIME_DIR: path.join(d.dir, 'run') }), tlsVerify: false, ref: ref(basic) }
      }
    ],
    [
      'an entry without credentials ({}) is passed over for the next file',
      'served',
      d => {
        d.write('config/containers/auth.json', auths({ [basic.host]: {} }))
        d.write('home/.docker/config.json', auths({ [basic.host]: right() }))
        return { env: d.env({ XDG_CONFIG_HOME: path.join(d.dir, 'config') }), tlsVerify: false, ref: ref(basic) }
      }
    ],
    [
      'namespace key host/ns before host, for host/ns/img',
      'served',
      d => ({
        env: d.env(),
        tlsVerify: false,
        authFile: d.write('a.json', auths({ [basic.host]: wrong(), [`${basic.host}/ns`]: right() })),
        ref: ref(basic, 'ns/img')
      })
    ],
    [
      'namespace key host/ns is not for host/other/img',
      'fails',
      d => ({
        env: d.env(),
        tlsVerify: false,
        authFile: d.write('a.json', auths({ [basic.host]: wrong(), [`${basic.host}/ns`]: right() })),
        ref: ref(basic, 'other/img')
      })
    ],
    [
      'namespace keys match whole path components: host/n is not for host/ns/img',
      'fails',
      d => ({
        env: d.env(),
        tlsVerify: false,
        authFile: d.write('a.json', auths({ [basic.host]: wrong(), [`${basic.host}/n`]: right() })),
        ref: ref(basic, 'ns/img')
      })
    ],
    [
      'a key written as a URL (https://host/v1/)',
      'served',
      d => ({
        env: d.env(),
        tlsVerify: false,
        authFile: d.write('a.json', auths({ [`https://${basic.host}/v1/`]: right() })),
        ref: ref(basic)
      })
    ],
    ['no credentials anywhere', 'fails', d => ({ env: d.env(), tlsVerify: false, ref: ref(basic) })],
    [
      'identitytoken (a refresh token) for a Bearer registry',
      'served',
      d => ({
        env: d.env(),
        tlsVerify: false,
        authFile: d.write('a.json', auths({ [bearer.host]: { ...auth(ci.user, ''), identitytoken: refreshToken } })),
        ref: ref(bearer)
      })
    ],
    [
      'an identitytoken the token server does not know',
      'fails',
      d => ({
        env: d.env(),
        tlsVerify: false,
        authFile: d.write('a.json', auths({ [bearer.host]: { ...auth(ci.user, ''), identitytoken: 'not-a-refresh-token' } })),
        ref: ref(bearer)
      })
    ],
    [
      'username and password for a Bearer registry',
      'served',
      d => ({ env: d.env(), tlsVerify: false, authFile: d.write('a.json', auths({ [bearer.host]: right() })), ref: ref(bearer) })
    ]
  ]
  test.concurrent.each(cases)('%s: %s', async (_name, expected, setup) => {
    await expectParity(setup(caseDir()), expected)
  })

  test.concurrent.each([
    ['right', ci.password, 'served'],
    ['wrong', 'wrong', 'fails']
  ] as const)('the action’s own auth file from username/password (%s password)', async (_name, password, expected) => {
    const d = caseDir()
    const inputs: LoginInputs = {
      authFile: '',
      registryAuth: [],
      username: ci.user,
      password,
      registries: [basic.host],
      archTagRegistry: basic.host
    }
    const credentials = prepareCredentials(inputs, d.env({ RUNNER_TEMP: d.dir }))
    expect(credentials.authFile).toBeDefined()
    await expectParity({ env: credentials.env, authFile: credentials.authFile, tlsVerify: false, ref: ref(basic) }, expected)
  })
})

describe('TLS: the reader connects where skopeo connects', () => {
  const insecureConf = (host: string): string => `[[registry]]\nlocation = "${host}"\ninsecure = true\n`
  const certsD = (d: Dir): void => {
    for (const file of ['ca.crt', 'client.cert', 'client.key'])
      d.write(`home/.config/containers/certs.d/${tls.host}/${file}`, fs.readFileSync(path.join(tls.certDir as string, file), 'utf8'))
  }
  const cases: Array<[string, 'served' | 'fails', (d: Dir) => Setup]> = [
    ['tls-verify false against plain http', 'served', d => ({ env: d.env(), tlsVerify: false, ref: ref(plain) })],
    ['tls-verify true against plain http', 'fails', d => ({ env: d.env(), tlsVerify: true, ref: ref(plain) })],
    [
      'registries.conf insecure = true (~/.config/containers/registries.conf) against plain http',
      'served',
      d => {
        d.write('home/.config/containers/registries.conf', insecureConf(plain.host))
        return { env: d.env(), tlsVerify: true, ref: ref(plain) }
      }
    ],
    [
      'registries.conf insecure = true for another registry',
      'fails',
      d => {
        d.write('home/.config/containers/registries.conf', insecureConf(basic.host))
        return { env: d.env(), tlsVerify: true, ref: ref(plain) }
      }
    ],
    [
      'cert-dir with the CA and a client certificate',
      'served',
      d => ({ env: d.env(), tlsVerify: true, certDir: tls.certDir, ref: ref(tls) })
    ],
    [
      'cert-dir with the CA but no client certificate',
      'fails',
      d => {
        d.write('ca-only/ca.crt', fs.readFileSync(path.join(tls.certDir as string, 'ca.crt'), 'utf8'))
        return { env: d.env(), tlsVerify: true, certDir: path.join(d.dir, 'ca-only'), ref: ref(tls) }
      }
    ],
    ['no cert-dir: the server’s CA is unknown', 'fails', d => ({ env: d.env(), tlsVerify: true, ref: ref(tls) })],
    [
      'certs.d under HOME (~/.config/containers/certs.d/<host>)',
      'served',
      d => {
        certsD(d)
        return { env: d.env(), tlsVerify: true, ref: ref(tls) }
      }
    ],
    [
      'certs.d under HOME with tls-verify false: the client certificate still goes',
      'served',
      d => {
        certsD(d)
        return { env: d.env(), tlsVerify: false, ref: ref(tls) }
      }
    ]
  ]
  test.concurrent.each(cases)('%s: %s', async (_name, expected, setup) => {
    await expectParity(setup(caseDir()), expected)
  })
})

describe('what the reader does not do goes to skopeo, said once with the reason', () => {
  let info: jest.SpyInstance
  beforeEach(() => {
    info = jest.spyOn(log, 'info').mockImplementation(() => undefined)
  })
  afterEach(() => info.mockRestore())

  /** Reads `refs` through a Reads whose skopeo is the action's (`fails` where it failed); the lines it logged. */
  async function readThroughSkopeo(
    s: Setup,
    refs: string[],
    isSource: boolean
  ): Promise<{ digests: Array<string | null>; lines: string[] }> {
    const access = { tlsVerify: s.tlsVerify, authFile: s.authFile, env: s.env, retries: 1, baseDelayMs: 10, maxDelayMs: 50 }
    const reads = readsFor(s, new Skopeo(access), isSource)
    try {
      const digests = []
      for (const r of refs) digests.push(await reads.digest(r).catch(() => 'fails'))
      return { digests, lines: info.mock.calls.map(c => String(c[0])) }
    } finally {
      reads.close()
    }
  }

  test('a credential helper for the registry (credHelpers): skopeo runs it', async () => {
    const d = caseDir()
    const helper = d.write(
      'bin/docker-credential-mptest',
      `#!/bin/sh\nread server\nprintf '{"ServerURL":"%s","Username":"${ci.user}","Secret":"${ci.password}"}' "$server"\n`
    )
    fs.chmodSync(helper, 0o755)
    const authFile = d.write('auth.json', JSON.stringify({ auths: {}, credHelpers: { [basic.host]: 'mptest' } }))
    const env = { ...d.env(), PATH: `${path.dirname(helper)}:${process.env.PATH}` }
    const s = { env, authFile, tlsVerify: false, ref: ref(basic) }
    expect(await readThroughSkopeo(s, [ref(basic), ref(basic, 'ns/img')], false)).toEqual({
      digests: [digest, digest],
      lines: [`Reads of ${basic.host} go through skopeo: ${authFile} names the credential helper mptest for ${basic.host}`]
    })
    expect(await bySkopeo(s)).toEqual({ digest })
  })

  test('an auth-file without the registry while ~/.docker/config.json has it: skopeo reads (older ones read that file, newer do not)', async () => {
    const d = caseDir()
    const fallback = d.write('home/.docker/config.json', auths({ [basic.host]: right() }))
    const authFile = d.write('given.json', auths({ 'elsewhere.example': right() }))
    const s = { env: d.env(), authFile, tlsVerify: false, ref: ref(basic) }
    const skopeo = await bySkopeo(s)
    expect(await readThroughSkopeo(s, [s.ref], false)).toEqual({
      digests: [summary(skopeo)],
      lines: [
        `Reads of ${basic.host} go through skopeo: ${authFile} has nothing for ${basic.host} but ${fallback} has, and whether skopeo reads that depends on its version`
      ]
    })
  })

  test('a registries.conf mirror for a source: skopeo reads the mirror', async () => {
    const d = caseDir()
    const conf = d.write(
      'home/.config/containers/registries.conf',
      [
        '[[registry]]',
        `prefix = "${plain.host}/mirrored"`,
        `location = "${plain.host}/mirrored"`,
        'insecure = true',
        '[[registry.mirror]]',
        `location = "${mirror.host}/mirrored"`,
        'insecure = true',
        ''
      ].join('\n')
    )
    // Only the mirror has the image: the reader would find nothing at the registry itself.
    const s = { env: d.env(), tlsVerify: false, ref: `${plain.host}/mirrored/img:t` }
    expect(await readThroughSkopeo(s, [s.ref, s.ref], true)).toEqual({
      digests: [digest, digest],
      lines: [`Reads of ${plain.host} go through skopeo: ${conf} gives ${plain.host}/mirrored a mirror`]
    })
    // A destination is read where it is (mirrors are for pulls): in process, and the image is not there.
    expect(await inProcess(s)).toEqual({ fails: 'absent' })
  })

  test('reads: skopeo sends every read to skopeo, without a line per registry', async () => {
    const asked: string[] = []
    const recording: Reader = {
      manifest: async ref => (asked.push(`manifest ${ref}`), null),
      config: async ref => (asked.push(`config ${ref}`), Buffer.from('{}')),
      digest: async ref => (asked.push(`digest ${ref}`), null)
    }
    const reads = new Reads(recording, {
      mode: 'skopeo',
      access: { tlsVerify: false, env: caseDir().env(), retries: 1 },
      isSource: () => false,
      client: { idleMs: 10_000 }
    })
    await reads.manifest(ref(plain))
    await reads.digest(ref(plain))
    await reads.config(`${plain.host}/r/img@${digest}`)
    expect(asked).toEqual([`manifest ${ref(plain)}`, `digest ${ref(plain)}`, `config ${plain.host}/r/img@${digest}`])
    expect(info).not.toHaveBeenCalled()
  })
})
