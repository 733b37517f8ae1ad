import * as fs from 'fs'
// The module object itself, for jest.spyOn: the namespace import's bindings cannot be redefined.
import fsModule from 'fs'
import * as os from 'os'
import * as path from 'path'
import { RegistryConfig, parseReference, type Endpoint, type Handoff, type RegistryConfigOptions } from '../../src/registry/config'

// Self-signed P-256 certificates made for these tests only (CN ca.test, client.test, other.test).
const CA = `-----BEGIN CERTIFICATE-----
MIIBezCCASGgAwIBAgIUJXT1/DT+EofxIusJVUvOpDJB0pswCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHY2EudGVzdDAgFw0yNjEyMDMxMzM4MTNaGA8yMTI2MTEwOTEz
MzgxM1owEjEQMA4GA1UEAwwHY2EudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABEpBeuKXf/SmT5z/Cg5hqNf6zS4WaMLjmtGHNnTkweiGqVwO3HwuchyRz9FC
po35IeBu47yHUrDtbmHPKasvFAGjUzBRMB0GA1UdDgQWBBRY0GO2eCCtyMcQhyOq
tboZ0ndWUTAfBgNVHSMEGDAWgBRY0GO2eCCtyMcQhyOqtboZ0ndWUTAPBgNVHRMB
Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIFuv9tWPdb+M/SMo63RexskLZwCZ
UTgtOp4VVQbL+aO3AiEAmG0xISoH+Za3f9KgNFj2uFwjHDqZq/HmHXZPMYGaaFI=
-----END CERTIFICATE-----
`
const CLIENT_CERT = `-----BEGIN CERTIFICATE-----
MIIBhDCCASmgAwIBAgIUTOXo3wCczOhE6gUuO3ms1vN8/9wwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLY2xpZW50LnRlc3QwIBcNMjYxMjAzMTMzODEzWhgPMjEyNjEx
MDkxMzM4MTNaMBYxFDASBgNVBAMMC2NsaWVudC50ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEEm8kJqvURh/bKu9bV9/emBay3D9oFZYN4J3TtETjNbRSfgMW
zYqwAlCcjps8v950K+3iwCYO7NjrPyruaoasUKNTMFEwHQYDVR0OBBYEFNejEvoh
qocUG4zCvDBTytl0EHYeMB8GA1UdIwQYMBaAFNejEvohqocUG4zCvDBTytl0EHYe
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAJc4BlnpBkUwnLsg
phVRnIWqdOaaglzhl1r5iiS2vFKjAiEA3FTnEmj8MfW3N3y/wlA/zEjniawJ/jLn
9C+YHEuu1F4=
-----END CERTIFICATE-----
`
const CLIENT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRnXC3IdINWKHdN/Z
Pm0Co93DaFO4bB5Gngt1STb/cnyhRANCAAQSbyQmq9RGH9sq71tX396YFrLcP2gV
lg3gndO0ROM1tFJ+AxbNirACUJyOmzy/3nQr7eLAJg7s2Os/Ku5qhqxQ
-----END PRIVATE KEY-----
`
const OTHER_CERT = `-----BEGIN CERTIFICATE-----
MIIBgDCCASegAwIBAgIUB+gayOUX80QCox/cX/4SgJ7QmJQwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKb3RoZXIudGVzdDAgFw0yNjEyMDMxMzM4MTNaGA8yMTI2MTEw
OTEzMzgxM1owFTETMBEGA1UEAwwKb3RoZXIudGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABABmhUFTluVaDR7S9Bxp/bOTlQVmBv2XQ2AzlMCzv52pu/u3dCt9
ljGDRFO19PVpdP0dMqO1Gj4jyrq4QoFDgT2jUzBRMB0GA1UdDgQWBBTJcsvuViyn
9DM5UlyCAJdTDf8cDDAfBgNVHSMEGDAWgBTJcsvuViyn9DM5UlyCAJdTDf8cDDAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIEecfuVK0mwNHNypyasG
SK7xu7Bt90PWAnnoEr/gl3c+AiB8SGTaJib3dK2hI9NE3y67C+/WG06RPMqwcgHh
GJ0Zew==
-----END CERTIFICATE-----
`
const OTHER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXSQmIr1hzBCnT/rH
nWQWwM3WrmEZuWx/617z0OnM2Z2hRANCAAQAZoVBU5blWg0e0vQcaf2zk5UFZgb9
l0NgM5TAs7+dqbv7t3QrfZYxg0RTtfT1aXT9HTKjtRo+I8q6uEKBQ4E9
-----END PRIVATE KEY-----
`

const DIGEST = `sha256:${'a'.repeat(64)}`
const VERIFY = { tlsVerify: true }

let root: string
let home: string
let etc: string
let run: string

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-config-'))
  home = path.join(root, 'home')
  etc = path.join(root, 'etc')
  run = path.join(root, 'run')
  fs.mkdirSync(home)
})
afterEach(() => fs.rmSync(root, { recursive: true, force: true }))

/** Writes `text` at `file` (relative to the temp root), creating its directories. */
function write(file: string, text: string): string {
  const full = path.join(root, file)
  fs.mkdirSync(path.dirname(full), { recursive: true })
  fs.writeFileSync(full, text)
  return full
}

function auth(user: string, password: string): { auth: string } {
  return { auth: Buffer.from(`${user}:${password}`).toString('base64') }
}

function json(value: unknown): string {
  return JSON.stringify(value)
}

function config(env: NodeJS.ProcessEnv = {}, o: Partial<RegistryConfigOptions> = {}): RegistryConfig {
  return new RegistryConfig({ env: { HOME: home, ...env }, etc, run, uid: 1000, ...o })
}

function native(result: Endpoint | Handoff): Endpoint {
  if (result.via !== 'native') throw new Error(`expected a native endpoint, got a handoff: ${result.reason}`)
  return result
}

function handoff(result: Endpoint | Handoff): string {
  if (result.via !== 'skopeo') throw new Error(`expected a handoff, got ${JSON.stringify(result)}`)
  return result.reason
}

function endpoint(ref: string, env: NodeJS.ProcessEnv = {}, o: Partial<RegistryConfigOptions> = {}): Endpoint | Handoff {
  return config(env, o).endpointFor(ref, 'source', VERIFY)
}

/** The user name of the credential endpointFor finds, or undefined for none (a handoff fails the test). */
function user(ref: string, env: NodeJS.ProcessEnv = {}, o: Partial<RegistryConfigOptions> = {}): string | undefined {
  return native(endpoint(ref, env, o)).credential?.username
}

describe('references, as containers/image parses them', () => {
  test.each<[string, string, string, string]>([
    ['quay.io/fedora/fedora:40', 'quay.io', 'quay.io', 'fedora/fedora'],
    ['docker.io/alpine:3', 'docker.io', 'registry-1.docker.io', 'library/alpine'],
    ['index.docker.io/library/alpine:3', 'docker.io', 'registry-1.docker.io', 'library/alpine'],
    ['alpine:3', 'docker.io', 'registry-1.docker.io', 'library/alpine'],
    ['owner/app:1', 'docker.io', 'registry-1.docker.io', 'owner/app'],
    // Not an alias in docker/reference: the host as written, no library/.
    ['registry-1.docker.io/alpine:3', 'registry-1.docker.io', 'registry-1.docker.io', 'alpine'],
    [`localhost:5000/a/b@${DIGEST}`, 'localhost:5000', 'localhost:5000', 'a/b'],
    ['localhost/app', 'localhost', 'localhost', 'app'],
    // Host names keep their case: auth keys, certs.d and registries.conf are matched as written.
    ['Quay.IO/x:1', 'Quay.IO', 'Quay.IO', 'x']
  ])('%s → %s, %s, %s', (ref, registry, host, repoPath) => {
    const e = native(endpoint(ref))
    expect([e.registry, e.host, e.path]).toEqual([registry, host, repoPath])
  })

  test.each<[string, string]>([
    ['an IPv6 host', '[::1]:5000/app:1'],
    ['upper case in the path', 'quay.io/App:1'],
    ['a tag and a digest', `quay.io/app:1@${DIGEST}`],
    ['a short digest', 'quay.io/app@sha256:abcd'],
    ['an unsupported digest algorithm', `quay.io/app@md5:${'a'.repeat(32)}`],
    ['upper-case digest hex', `quay.io/app@sha256:${'A'.repeat(64)}`],
    ['a host that is no domain', 'foo_bar.com/app:1'],
    ['a 64-hex identifier', 'a'.repeat(64)],
    ['a name over 255 characters', `quay.io/${'a'.repeat(250)}:1`]
  ])('%s is left to skopeo', (_, ref) => {
    expect(handoff(endpoint(ref))).toBe('the reference is not one containers/image parses')
  })

  test('digested or not', () => {
    expect(parseReference(`quay.io/a@${DIGEST}`)?.digested).toBe(true)
    expect(parseReference('quay.io/a:1')?.digested).toBe(false)
    expect(parseReference('quay.io/a')).toEqual({ domain: 'quay.io', path: 'a', name: 'quay.io/a', digested: false })
  })
})

describe('auth files, in containers/image order', () => {
  const both = (key: string, name: string): string => json({ auths: { [key]: auth(name, 'pw') } })

  test.each<[string, Record<string, string>, NodeJS.ProcessEnv, Partial<RegistryConfigOptions>, string | undefined]>([
    [
      'the given auth file is the only one',
      { 'given.json': both('quay.io', 'given'), 'env.json': both('quay.io', 'env'), 'xdg/containers/auth.json': both('quay.io', 'xdg') },
      { REGISTRY_AUTH_FILE: 'env.json', XDG_RUNTIME_DIR: 'xdg' },
      { authFile: 'given.json' },
      'given'
    ],
    [
      'the given auth file is the only one, even without an entry',
      { 'given.json': '{}', 'xdg/containers/auth.json': both('quay.io', 'xdg') },
      { XDG_RUNTIME_DIR: 'xdg' },
      { authFile: 'given.json' },
      undefined
    ],
    [
      'REGISTRY_AUTH_FILE (skopeo --authfile) is the only one',
      { 'env.json': '{}', 'xdg/containers/auth.json': both('quay.io', 'xdg') },
      { REGISTRY_AUTH_FILE: 'env.json', XDG_RUNTIME_DIR: 'xdg' },
      {},
      undefined
    ],
    [
      'XDG_RUNTIME_DIR first',
      { 'xdg/containers/auth.json': both('quay.io', 'xdg'), 'home/.config/containers/auth.json': both('quay.io', 'config') },
      { XDG_RUNTIME_DIR: 'xdg' },
      {},
      'xdg'
    ],
    [
      '/run/containers/<uid> without XDG_RUNTIME_DIR',
      { 'run/containers/1000/auth.json': both('quay.io', 'run'), 'home/.config/containers/auth.json': both('quay.io', 'config') },
      {},
      {},
      'run'
    ],
    [
      'not /run/containers/<uid> with XDG_RUNTIME_DIR',
      { 'run/containers/1000/auth.json': both('quay.io', 'run'), 'xdg/other': '' },
      { XDG_RUNTIME_DIR: 'xdg' },
      {},
      undefined
    ],
    [
      'a missing XDG_RUNTIME_DIR is no file',
      { 'home/.config/containers/auth.json': both('quay.io', 'config') },
      { XDG_RUNTIME_DIR: 'missing' },
      {},
      'config'
    ],
    [
      'XDG_CONFIG_HOME instead of ~/.config',
      { 'cfg/containers/auth.json': both('quay.io', 'xdg-config'), 'home/.config/containers/auth.json': both('quay.io', 'config') },
      { XDG_CONFIG_HOME: 'cfg' },
      {},
      'xdg-config'
    ],
    [
      'DOCKER_CONFIG instead of ~/.docker',
      { 'dc/config.json': both('quay.io', 'docker-config'), 'home/.docker/config.json': both('quay.io', 'docker') },
      { DOCKER_CONFIG: 'dc' },
      {},
      'docker-config'
    ],
    ['~/.docker/config.json', { 'home/.docker/config.json': both('quay.io', 'docker') }, {}, {}, 'docker'],
    [
      'not ~/.docker/config.json with DOCKER_CONFIG',
      { 'home/.docker/config.json': both('quay.io', 'docker') },
      { DOCKER_CONFIG: 'dc' },
      {},
      undefined
    ],
    ['~/.dockercfg (host keys at the top)', { 'home/.dockercfg': json({ 'quay.io': auth('legacy', 'pw') }) }, {}, {}, 'legacy'],
    [
      'the first file with an entry, not the most specific key',
      { 'xdg/containers/auth.json': both('quay.io', 'host'), 'home/.config/containers/auth.json': both('quay.io/fedora/app', 'repo') },
      { XDG_RUNTIME_DIR: 'xdg' },
      {},
      'host'
    ],
    [
      'an empty entry counts as none: the next file',
      { 'xdg/containers/auth.json': json({ auths: { 'quay.io': {} } }), 'home/.config/containers/auth.json': both('quay.io', 'config') },
      { XDG_RUNTIME_DIR: 'xdg' },
      {},
      'config'
    ],
    [
      'an empty namespaced entry hides the host entry of its own file',
      {
        'xdg/containers/auth.json': json({ auths: { 'quay.io/fedora': {}, 'quay.io': auth('host', 'pw') } }),
        'home/.config/containers/auth.json': both('quay.io', 'config')
      },
      { XDG_RUNTIME_DIR: 'xdg' },
      {},
      'config'
    ]
  ])('%s', (_, files, env, o, want) => {
    for (const [file, text] of Object.entries(files)) write(file, text)
    const rooted = (p: string | undefined): string | undefined => (p === undefined ? undefined : path.join(root, p))
    const rootedEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, rooted(v)]))
    expect(user('quay.io/fedora/app:1', rootedEnv, { ...o, authFile: rooted(o.authFile) })).toBe(want)
  })

  test('credentialFrom names the file and the key, never the secret', () => {
    const file = write('a.json', json({ auths: { 'quay.io/fedora': auth('bot', 's3cret') } }))
    const e = native(endpoint('quay.io/fedora/app:1', {}, { authFile: file }))
    expect(e.credential).toEqual({ username: 'bot', password: 's3cret' })
    expect(e.credentialFrom).toBe(`${file}, key quay.io/fedora`)
  })
})

describe('auth keys within a file', () => {
  test.each<[string, string, string[], string | undefined]>([
    ['the most specific whole path', 'quay.io/fedora/app:1', ['quay.io', 'quay.io/fedora', 'quay.io/fedora/app'], 'quay.io/fedora/app'],
    ['a namespace before the host', 'quay.io/fedora/app:1', ['quay.io', 'quay.io/fedora'], 'quay.io/fedora'],
    ['the host', 'quay.io/fedora/app:1', ['quay.io', 'quay.io/other'], 'quay.io'],
    ['whole components, not string prefixes', 'quay.io/fedora/app:1', ['quay.io/fed', 'quay.io/fedora/ap'], undefined],
    ['not a longer path', 'quay.io/fedora:1', ['quay.io/fedora/app'], undefined],
    ['a URL key for the host', 'quay.io/fedora/app:1', ['https://quay.io/v1/'], 'https://quay.io/v1/'],
    ['an http URL key', 'quay.io/app:1', ['http://quay.io'], 'http://quay.io'],
    ['not a URL with a namespace as a namespace', 'quay.io/fedora/app:1', ['https://quay.io/other/'], 'https://quay.io/other/'],
    ['not another port', 'quay.io/app:1', ['quay.io:443'], undefined],
    ['exact keys before URL keys', 'quay.io/app:1', ['https://quay.io/v1/', 'quay.io'], 'quay.io'],
    ["Docker Hub's v1 URL", 'docker.io/alpine:3', ['https://index.docker.io/v1/'], 'https://index.docker.io/v1/'],
    ['docker.io itself', 'alpine:3', ['docker.io'], 'docker.io'],
    ['docker.io/library', 'alpine:3', ['docker.io/library'], 'docker.io/library'],
    ['registry-1.docker.io as Docker Hub', 'docker.io/alpine:3', ['registry-1.docker.io'], 'registry-1.docker.io'],
    ['index.docker.io as Docker Hub', 'docker.io/alpine:3', ['index.docker.io'], 'index.docker.io'],
    [
      'Docker Hub keys for a registry-1.docker.io reference',
      'registry-1.docker.io/alpine:3',
      ['https://index.docker.io/v1/'],
      'https://index.docker.io/v1/'
    ],
    ['host case as written', 'Quay.io/app:1', ['quay.io'], undefined]
  ])('%s', (_, ref, keys, want) => {
    // The user names the key it was written under (a colon would end the user name).
    const auths = Object.fromEntries(keys.map(k => [k, auth(k.replace(/:/g, '|'), 'pw')]))
    const file = write('a.json', json({ auths }))
    expect(user(ref, {}, { authFile: file })).toBe(want?.replace(/:/g, '|'))
  })

  test('a legacy file matches hosts only, after cutting every key to its host', () => {
    write('home/.dockercfg', json({ 'quay.io/fedora': auth('cut', 'pw') }))
    expect(user('quay.io/other/app:1')).toBe('cut')
  })

  test('URL keys that differ for one host are left to skopeo (Go picks one at random)', () => {
    const file = write('a.json', json({ auths: { 'https://quay.io/v1/': auth('a', 'pw'), 'http://quay.io': auth('b', 'pw') } }))
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: file }))).toBe(`${file} has several different entries for quay.io`)
    write('a.json', json({ auths: { 'https://quay.io/v1/': auth('a', 'pw'), 'http://quay.io': auth('a', 'pw') } }))
    expect(user('quay.io/app:1', {}, { authFile: file })).toBe('a')
  })
})

describe('auth entries', () => {
  const b64 = (text: string): string => Buffer.from(text).toString('base64')

  test.each<[string, unknown, Endpoint['credential']]>([
    ['user:password', { auth: b64('u:p:w') }, { username: 'u', password: 'p:w' }],
    ['NUL bytes around the password trimmed', { auth: b64('u:\0pw\0\0') }, { username: 'u', password: 'pw' }],
    ['an identity token with its user', { auth: b64('u:'), identitytoken: 'tok' }, { username: 'u', password: '', identityToken: 'tok' }],
    ['no identity token without an auth', { identitytoken: 'tok' }, undefined],
    ['an empty user and password are none', { auth: b64(':') }, undefined],
    ['an auth without a colon is none', { auth: b64('nocolon') }, undefined],
    ['registrytoken is not a field', { registrytoken: 'tok' }, undefined],
    ['field names in any case', { Auth: b64('u:p'), IdentityToken: 'tok' }, { username: 'u', password: 'p', identityToken: 'tok' }],
    ['null fields are absent', { auth: null }, undefined],
    ['base64 with line breaks', { auth: `${b64('user:password')}`.replace(/(.{4})/, '$1\n') }, { username: 'user', password: 'password' }],
    [
      'base64 with CRLF line breaks',
      { auth: `${b64('user:password')}`.replace(/(.{4})/, '$1\r\n') },
      { username: 'user', password: 'password' }
    ],
    ['base64 ending in ==', { auth: b64('u:pw') }, { username: 'u', password: 'pw' }],
    ['base64 ending in =', { auth: b64('u:pwx') }, { username: 'u', password: 'pwx' }],
    ['an empty user with a password', { auth: b64(':pw') }, { username: '', password: 'pw' }],
    ['a user with an empty password', { auth: b64('u:') }, { username: 'u', password: '' }],
    [
      'an identity token alone, after an empty user and password',
      { auth: b64(':'), identitytoken: 'tok' },
      { username: '', password: '', identityToken: 'tok' }
    ],
    ['several leading NUL bytes trimmed, inner ones kept', { auth: b64('u:\0\0p\0w\0') }, { username: 'u', password: 'p\0w' }]
  ])('%s', (_, entry, want) => {
    const file = write('a.json', json({ auths: { 'quay.io': entry } }))
    expect(native(endpoint('quay.io/app:1', {}, { authFile: file })).credential).toEqual(want)
  })

  test.each<[string, string, string]>([
    ['credsStore is not implemented by containers/image', json({ credsStore: 'desktop', auths: { 'quay.io': {} } }), 'native'],
    ['credHelpers for another host', json({ credHelpers: { 'ghcr.io': 'gh' } }), 'native'],
    ['Auths in another case', json({ Auths: { 'quay.io': auth('u', 'p') } }), 'native'],
    ['null auths', json({ auths: null }), 'native']
  ])('%s', (_, text, want) => {
    const file = write('a.json', text)
    expect(endpoint('quay.io/app:1', {}, { authFile: file }).via).toBe(want)
  })

  test('Auths in another case is read', () => {
    const file = write('a.json', json({ Auths: { 'quay.io': auth('u', 'p') } }))
    expect(user('quay.io/app:1', {}, { authFile: file })).toBe('u')
  })

  test('credHelpers for the host hand the read to skopeo, before any auths entry', () => {
    const file = write('a.json', json({ credHelpers: { 'quay.io': 'secretservice' }, auths: { 'quay.io/app': auth('u', 'p') } }))
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: file }))).toBe(`${file} names the credential helper secretservice for quay.io`)
  })

  test('credHelpers are keyed by the reference host (docker.io for Docker Hub)', () => {
    const file = write('a.json', json({ credHelpers: { 'docker.io': 'desktop', 'https://index.docker.io/v1/': 'other' } }))
    expect(handoff(endpoint('alpine:3', {}, { authFile: file }))).toBe(`${file} names the credential helper desktop for docker.io`)
  })

  test.each<[string, string]>([
    ['invalid JSON', '{'],
    ['an empty file', ''],
    ['a top level that is no object', '[]'],
    ['auths that are no object', json({ auths: [] })],
    ['an entry that is no object', json({ auths: { 'quay.io': 'x' } })],
    ['an auth that is no string', json({ auths: { 'quay.io': { auth: 5 } } })],
    ['a credHelpers value that is no string', json({ credHelpers: { 'ghcr.io': 1 } })],
    ['credHelpers that are no object', json({ credHelpers: ['gh'] })],
    ['an identity token that is no string', json({ auths: { 'quay.io': { identitytoken: 1 } } })],
    ['an identity token in another case that is no string', json({ auths: { 'quay.io': { IdentityToken: false } } })]
  ])('%s is left to skopeo (containers/image fails on it)', (_, text) => {
    const file = write('a.json', text)
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: file }))).toBe(
      `${file} is not an auth file containers/image reads (invalid JSON or an unexpected type)`
    )
  })

  // Go's StdEncoding: padding required, nothing before or after the encoded text.
  test.each<[string, string]>([
    ['without its padding', 'dTpwdw'],
    ['with too little padding', 'dTpwdw='],
    ['with a character before it', '=dTpwdw=='],
    ['with a character after it', 'dTpwdw==x'],
    ['with a character out of the alphabet', 'dTp-dw==']
  ])('an auth %s is not base64: left to skopeo', (_, encoded) => {
    const file = write('a.json', json({ auths: { 'quay.io': { auth: encoded } } }))
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: file }))).toBe(`the auth of quay.io in ${file} is not base64 (or not UTF-8)`)
  })

  test('a legacy ~/.dockercfg of another shape is left to skopeo', () => {
    const file = write('home/.dockercfg', json({ 'quay.io': 'x' }))
    expect(handoff(endpoint('quay.io/app:1'))).toBe(
      `${file} is not an auth file containers/image reads (invalid JSON or an unexpected type)`
    )
    write('home/.dockercfg', '[]')
    expect(handoff(endpoint('quay.io/app:1'))).toBe(
      `${file} is not an auth file containers/image reads (invalid JSON or an unexpected type)`
    )
  })

  test('a key that only holds a URL further on is no URL key', () => {
    const file = write('a.json', json({ auths: { 'quay.io/http://x': auth('mid', 'pw'), 'quay.io/https://y': auth('mid2', 'pw') } }))
    expect(user('quay.io/app:1', {}, { authFile: file })).toBeUndefined()
  })

  test('an auth that is not strict base64 is left to skopeo', () => {
    const file = write('a.json', json({ auths: { 'quay.io': { auth: 'dTpw' + 'x' } } }))
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: file }))).toBe(`the auth of quay.io in ${file} is not base64 (or not UTF-8)`)
  })

  test('an auth that is not UTF-8 is left to skopeo', () => {
    const file = write('a.json', json({ auths: { 'quay.io': { auth: Buffer.from([0x75, 0x3a, 0xff]).toString('base64') } } }))
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: file })).startsWith('the auth of quay.io')).toBe(true)
  })

  test('an unreadable auth file is left to skopeo; a missing one is empty', () => {
    fs.mkdirSync(path.join(root, 'dir.json'))
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: path.join(root, 'dir.json') }))).toBe(
      `${path.join(root, 'dir.json')} cannot be read (EISDIR)`
    )
    expect(native(endpoint('quay.io/app:1', {}, { authFile: path.join(root, 'missing.json') })).credential).toBeUndefined()
  })

  test('an XDG_RUNTIME_DIR that is a file fails as in containers/image (ENOTDIR is no missing file)', () => {
    const file = write('xdg', '')
    expect(handoff(endpoint('quay.io/app:1', { XDG_RUNTIME_DIR: file }))).toBe(`${file}/containers/auth.json cannot be read (ENOTDIR)`)
  })

  test('a broken file later in the chain is not read once an earlier one has the entry', () => {
    write('xdg/containers/auth.json', json({ auths: { 'quay.io': auth('first', 'p') } }))
    write('home/.docker/config.json', '{')
    expect(user('quay.io/app:1', { XDG_RUNTIME_DIR: path.join(root, 'xdg') })).toBe('first')
    expect(endpoint('ghcr.io/app:1', { XDG_RUNTIME_DIR: path.join(root, 'xdg') }).via).toBe('skopeo')
  })
})

describe('registries.conf', () => {
  const sysConf = 'etc/containers/registries.conf'
  const userConf = 'home/.config/containers/registries.conf'
  const insecure = (prefix: string): string => `[[registry]]\nlocation = "${prefix}"\ninsecure = true\n`

  function insecureFor(ref: string, env: NodeJS.ProcessEnv = {}): boolean {
    return native(config(env).endpointFor(ref, 'destination', VERIFY)).insecure
  }

  test.each<[string, Record<string, string>, Record<string, boolean>]>([
    ['the system file', { [sysConf]: insecure('a.test') }, { 'a.test/x:1': true, 'b.test/x:1': false }],
    [
      'the system drop-ins, then the user drop-ins, in name order',
      {
        [sysConf]: insecure('a.test'),
        'etc/containers/registries.conf.d/10.conf': insecure('b.test'),
        'etc/containers/registries.conf.d/20.conf': '[[registry]]\nlocation = "b.test"\ninsecure = false\n',
        'etc/containers/registries.conf.d/30.conf': insecure('c.test'),
        'home/.config/containers/registries.conf.d/10.conf': '[[registry]]\nlocation = "c.test"\n',
        'home/.config/containers/registries.conf.d/20.conf': insecure('d.test'),
        'etc/containers/registries.conf.d/40.conf.bak': insecure('e.test'),
        'etc/containers/registries.conf.d/sub/50.conf': insecure('f.test'),
        'etc/containers/registries.conf.d/dir.conf/60.conf': insecure('g.test')
      },
      { 'a.test/x:1': true, 'b.test/x:1': false, 'c.test/x:1': false, 'd.test/x:1': true, 'e.test/x:1': false, 'f.test/x:1': false }
    ],
    [
      'the user file instead of the system file and its drop-ins',
      {
        [userConf]: insecure('u.test'),
        [sysConf]: insecure('a.test'),
        'etc/containers/registries.conf.d/10.conf': insecure('b.test'),
        'home/.config/containers/registries.conf.d/10.conf': insecure('c.test')
      },
      { 'u.test/x:1': true, 'a.test/x:1': false, 'b.test/x:1': false, 'c.test/x:1': true }
    ],
    ['drop-ins without a main file', { 'etc/containers/registries.conf.d/10.conf': insecure('b.test') }, { 'b.test/x:1': true }],
    [
      'V1 [registries.insecure]',
      { [sysConf]: '[registries.search]\nregistries = ["docker.io"]\n[registries.insecure]\nregistries = ["a.test/ns/"]\n' },
      { 'a.test/ns/x:1': true, 'a.test/x:1': false }
    ],
    [
      'the longest matching prefix',
      { [sysConf]: `${insecure('a.test/ns')}[[registry]]\nlocation = "a.test"\n` },
      { 'a.test/ns/x:1': true, 'a.test/nsx/y:1': false, 'a.test/x:1': false }
    ],
    ['a prefix of another port (as containers/image has it)', { [sysConf]: insecure('a.test') }, { 'a.test:5000/x:1': true }],
    ['a prefix on whole components', { [sysConf]: insecure('a.test/n') }, { 'a.test/ns/x:1': false }],
    [
      'the first of equally long prefixes, in prefix order',
      { [sysConf]: '[[registry]]\nprefix = "*.a.test"\ninsecure = true\n[[registry]]\nlocation = "b.a.test"\n' },
      { 'b.a.test/x:1': true }
    ],
    [
      'a wildcard prefix',
      { [sysConf]: '[[registry]]\nprefix = "*.a.test"\ninsecure = true\n' },
      { 'x.a.test/y:1': true, 'z.x.a.test:5000/y:1': true, 'a.test/y:1': false }
    ],
    [
      'prefix over location for matching',
      { [sysConf]: '[[registry]]\nprefix = "a.test/ns"\nlocation = "a.test/ns"\ninsecure = true\n' },
      { 'a.test/ns/x:1': true }
    ],
    [
      'the first of one prefix in a file',
      { [sysConf]: `${insecure('a.test')}[[registry]]\nprefix = "a.test"\nlocation = "b.test"\n` },
      { 'a.test/x:1': true }
    ],
    ['field names in any case', { [sysConf]: '[[Registry]]\nLocation = "a.test"\nINSECURE = true\n' }, { 'a.test/x:1': true }],
    ['unknown keys ignored', { [sysConf]: `unknown = 1.5e3\n[other]\nx = 1979-05-27\n${insecure('a.test')}` }, {}]
  ])('%s', (_, files, want) => {
    for (const [file, text] of Object.entries(files)) write(file, text)
    for (const [ref, insecureWanted] of Object.entries(want)) expect([ref, insecureFor(ref)]).toEqual([ref, insecureWanted])
  })

  test('unknown keys with values this reader refuses are still refused (the file is not read half)', () => {
    write(sysConf, `unknown = 1.5\n${insecure('a.test')}`)
    expect(handoff(endpoint('a.test/x:1'))).toMatch(/registries\.conf is TOML this reader does not handle \(line 1: /)
  })

  test('CONTAINERS_REGISTRIES_CONF and REGISTRIES_CONFIG_PATH: which file applies depends on the skopeo version', () => {
    expect(handoff(endpoint('a.test/x:1', { CONTAINERS_REGISTRIES_CONF: '/x' }))).toBe(
      'CONTAINERS_REGISTRIES_CONF is set, and whether skopeo reads it depends on its version'
    )
    expect(handoff(endpoint('a.test/x:1', { REGISTRIES_CONFIG_PATH: '' }))).toMatch(/^REGISTRIES_CONFIG_PATH is set/)
  })

  test('tls-verify false makes any registry insecure', () => {
    expect(native(config().endpointFor('a.test/x:1', 'source', { tlsVerify: false })).insecure).toBe(true)
    expect(native(config().endpointFor('a.test/x:1', 'source', VERIFY)).insecure).toBe(false)
  })

  test.each<[string, string, 'source' | 'destination', string | undefined]>([
    ['blocked, for a source', '[[registry]]\nlocation = "a.test"\nblocked = true\n', 'source', `a.test is blocked in ${sysConf}`],
    ['blocked, for a destination', '[[registry]]\nlocation = "a.test"\nblocked = true\n', 'destination', `a.test is blocked in ${sysConf}`],
    ['V1 [registries.block]', '[registries.block]\nregistries = ["a.test"]\n', 'destination', `a.test is blocked in ${sysConf}`],
    [
      'another location, for a source',
      '[[registry]]\nprefix = "a.test/ns"\nlocation = "m.test/other"\n',
      'source',
      `${sysConf} gives a.test/ns the location m.test/other`
    ],
    ['another location, for a destination', '[[registry]]\nprefix = "a.test/ns"\nlocation = "m.test/other"\n', 'destination', undefined],
    ['the same location, for a source', '[[registry]]\nprefix = "a.test/ns"\nlocation = "a.test/ns"\n', 'source', undefined],
    ['a wildcard without a location', '[[registry]]\nprefix = "*.test"\n', 'source', undefined],
    [
      'a wildcard with a location',
      '[[registry]]\nprefix = "*.test"\nlocation = "m.test"\n',
      'source',
      `${sysConf} gives *.test the location m.test`
    ],
    [
      'a mirror, for a source',
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\n',
      'source',
      `${sysConf} gives a.test a mirror`
    ],
    [
      'a mirror, for a destination',
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\n',
      'destination',
      undefined
    ],
    [
      'mirror-by-digest-only, for a tag',
      '[[registry]]\nlocation = "a.test"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.test"\n',
      'source',
      undefined
    ],
    [
      'pull-from-mirror digest-only, for a tag',
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\npull-from-mirror = "digest-only"\n',
      'source',
      undefined
    ],
    [
      'pull-from-mirror tag-only, for a tag',
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\npull-from-mirror = "tag-only"\n',
      'source',
      `${sysConf} gives a.test a mirror`
    ]
  ])('%s', (_, text, role, want) => {
    write(sysConf, text)
    const result = config().endpointFor('a.test/ns/x:1', role, VERIFY)
    expect(result.via === 'skopeo' ? result.reason.replace(`${root}/`, '') : undefined).toBe(want)
  })

  test.each<[string, string, boolean]>([
    [
      'mirror-by-digest-only',
      '[[registry]]\nlocation = "a.test"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.test"\n',
      true
    ],
    [
      'pull-from-mirror digest-only',
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\npull-from-mirror = "digest-only"\n',
      true
    ],
    [
      'pull-from-mirror tag-only',
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\npull-from-mirror = "tag-only"\n',
      false
    ]
  ])('%s, for a digest: handoff %s', (_, text, want) => {
    write(sysConf, text)
    expect(endpoint(`a.test/x@${DIGEST}`).via === 'skopeo').toBe(want)
  })

  // The reason names the file and what containers/image refuses in it: each refusal is told apart.
  const v1 = '[registries.insecure]\nregistries = ["a.test"]\n'
  test.each<[string, string, string, string]>([
    ['V1 in a drop-in', 'etc/containers/registries.conf.d/1.conf', v1, 'registry must be in v2 format but is in v1'],
    ['V1 and V2 in one file', sysConf, `unqualified-search-registries = []\n${v1}`, 'mixing sysregistry v1/v2 is not supported'],
    ['V1 and [[registry]]', sysConf, `registry = []\n${v1}`, 'mixing sysregistry v1/v2 is not supported'],
    ['V1 and credential-helpers', sysConf, `credential-helpers = []\n${v1}`, 'mixing sysregistry v1/v2 is not supported'],
    ['V1 and short-name-mode', sysConf, `short-name-mode = "enforcing"\n${v1}`, 'mixing sysregistry v1/v2 is not supported'],
    [
      'V1 and additional-layer-store-auth-helper',
      sysConf,
      `additional-layer-store-auth-helper = "h"\n${v1}`,
      'mixing sysregistry v1/v2 is not supported'
    ],
    ['V1 and [aliases]', sysConf, `${v1}[aliases]\n`, 'mixing sysregistry v1/v2 is not supported'],
    ['a type that does not fit', sysConf, '[[registry]]\nlocation = "a.test"\ninsecure = "yes"\n', 'registry[0].insecure is not a boolean'],
    ['blocked that is no boolean', sysConf, '[[registry]]\nlocation = "a.test"\nblocked = 1\n', 'registry[0].blocked is not a boolean'],
    ['a location that is no string', sysConf, '[[registry]]\nlocation = 1\n', 'registry[0].location is not a string'],
    [
      'pull-from-mirror on a registry that is no string',
      sysConf,
      '[[registry]]\nlocation = "a.test"\npull-from-mirror = 1\n',
      'registry[0].pull-from-mirror is not a string'
    ],
    ['a prefix that is no string', sysConf, '[[registry]]\nprefix = true\nlocation = "a.test"\n', 'registry[0].prefix is not a string'],
    [
      'mirror-by-digest-only that is no boolean',
      sysConf,
      '[[registry]]\nlocation = "a.test"\nmirror-by-digest-only = "yes"\n',
      'registry[0].mirror-by-digest-only is not a boolean'
    ],
    [
      'a mirror insecure that is no boolean (read only for its type)',
      sysConf,
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\ninsecure = "yes"\n',
      'registry[0].mirror[0].insecure is not a boolean'
    ],
    [
      'a mirror location that is no string',
      sysConf,
      '[[registry]]\nlocation = "a.test"\n[[registry]]\nlocation = "b.test"\n[[registry.mirror]]\nlocation = 1\n',
      'registry[1].mirror[0].location is not a string'
    ],
    [
      'a mirror pull-from-mirror that is no string',
      sysConf,
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\npull-from-mirror = 1\n',
      'registry[0].mirror[0].pull-from-mirror is not a string'
    ],
    [
      'mirrors that are no tables',
      sysConf,
      '[[registry]]\nlocation = "a.test"\nmirror = ["m.test"]\n',
      'registry[0].mirror is not an array of tables'
    ],
    ['registry as a table', sysConf, '[registry]\nlocation = "a.test"\n', 'registry is not an array of tables'],
    ['registries that is no table', sysConf, 'registries = 1\n', 'registries is not a table'],
    ['registries.search that is no table', sysConf, '[registries]\nsearch = 1\n', 'registries.search is not a table'],
    [
      'a V1 list that is no array of strings',
      sysConf,
      '[registries.block]\nregistries = "a.test"\n',
      'registries.block.registries is not an array of strings'
    ],
    [
      'credential-helpers with an item that is no string',
      sysConf,
      'credential-helpers = ["pass", 1]\n',
      'credential-helpers is not an array of strings'
    ],
    [
      'unqualified-search-registries that is no array',
      sysConf,
      'unqualified-search-registries = "a.test"\n',
      'unqualified-search-registries is not an array of strings'
    ],
    ['short-name-mode that is no string', sysConf, 'short-name-mode = 1\n', 'short-name-mode is not a string'],
    [
      'additional-layer-store-auth-helper that is no string',
      sysConf,
      'additional-layer-store-auth-helper = true\n',
      'additional-layer-store-auth-helper is not a string'
    ],
    ['aliases that is no table', sysConf, 'aliases = 1\n', 'aliases is not a table'],
    ['an alias that is no string', sysConf, '[aliases]\n"x" = 1\n', 'aliases.x is not a string'],
    [
      'one field in two cases',
      sysConf,
      '[[registry]]\nlocation = "a.test"\ninsecure = true\nInsecure = false\n',
      'insecure is given more than once in different cases'
    ],
    ['a location with a scheme', sysConf, '[[registry]]\nlocation = "https://a.test"\n', 'a location with a URI scheme'],
    ['a location with the http scheme', sysConf, '[[registry]]\nlocation = "http://a.test"\n', 'a location with a URI scheme'],
    ['a prefix with a scheme', sysConf, '[[registry]]\nprefix = "http://a.test"\nlocation = "a.test"\n', 'a location with a URI scheme'],
    [
      'a mirror location with a scheme',
      sysConf,
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "https://m.test"\n',
      'a location with a URI scheme'
    ],
    ['a V1 entry with a scheme', sysConf, '[registries.block]\nregistries = ["http://a.test"]\n', 'a location with a URI scheme'],
    ['neither prefix nor location', sysConf, '[[registry]]\ninsecure = true\n', 'both location and prefix are unset'],
    [
      'a prefix without a location that is no wildcard',
      sysConf,
      '[[registry]]\nprefix = "a.test"\n',
      'location is unset and prefix is not *.example.com'
    ],
    ['a wildcard with a path', sysConf, '[[registry]]\nprefix = "*.a.test/ns"\n', 'a wildcard prefix that is not *.example.com'],
    ['a wildcard with a port', sysConf, '[[registry]]\nprefix = "*.a.test:5000"\n', 'a wildcard prefix that is not *.example.com'],
    ['a wildcard with an @', sysConf, '[[registry]]\nprefix = "*.a.test@x"\n', 'a wildcard prefix that is not *.example.com'],
    [
      'conflicting insecure for one location',
      sysConf,
      `${insecure('a.test')}[[registry]]\nprefix = "a.test/ns"\nlocation = "a.test"\n`,
      'a registry is defined several times with conflicting insecure'
    ],
    [
      'conflicting blocked for one location',
      sysConf,
      '[[registry]]\nlocation = "a.test"\nblocked = true\n[[registry]]\nprefix = "a.test/ns"\nlocation = "a.test"\n',
      'a registry is defined several times with conflicting blocked'
    ],
    [
      'conflicting insecure for one wildcard (no location: the prefix is the key)',
      sysConf,
      '[[registry]]\nprefix = "*.a.test"\ninsecure = true\n[[registry]]\nprefix = "*.a.test"\n',
      'a registry is defined several times with conflicting insecure'
    ],
    [
      'pull-from-mirror on a registry',
      sysConf,
      '[[registry]]\nlocation = "a.test"\npull-from-mirror = "all"\n',
      'pull-from-mirror must not be set for a non-mirror registry'
    ],
    [
      'a mirror without a location',
      sysConf,
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\ninsecure = true\n',
      'a mirror location is unset'
    ],
    [
      'an unknown pull-from-mirror',
      sysConf,
      '[[registry]]\nlocation = "a.test"\n[[registry.mirror]]\nlocation = "m.test"\npull-from-mirror = "some"\n',
      'an unsupported pull-from-mirror value'
    ],
    [
      'mirror-by-digest-only with pull-from-mirror',
      sysConf,
      '[[registry]]\nlocation = "a.test"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.test"\npull-from-mirror = "all"\n',
      'mirror-by-digest-only and pull-from-mirror are both set'
    ],
    [
      'an invalid unqualified-search-registries entry',
      sysConf,
      'unqualified-search-registries = ["a.test/ns"]\n',
      'an invalid unqualified-search-registries entry'
    ],
    [
      'an invalid V1 search entry',
      sysConf,
      '[registries.search]\nregistries = ["a.test/ns"]\n',
      'an invalid unqualified-search-registries entry'
    ],
    ['an invalid short-name-mode', sysConf, 'short-name-mode = "loud"\n', 'an invalid short-name-mode'],
    ['an alias key with a registry', sysConf, '[aliases]\n"a.test/x" = "a.test/x"\n', 'an invalid short-name alias'],
    ['an alias key with localhost', sysConf, '[aliases]\n"localhost/x" = "a.test/x"\n', 'an invalid short-name alias'],
    ['an alias key with a port', sysConf, '[aliases]\n"h:5000/x" = "a.test/x"\n', 'an invalid short-name alias'],
    ['an alias key with a tag', sysConf, '[aliases]\n"x:1" = "a.test/x"\n', 'an invalid short-name alias'],
    ['an alias key with a digest', sysConf, `[aliases]\n"x@${DIGEST}" = "a.test/x"\n`, 'an invalid short-name alias'],
    ['an alias key over 255 characters', sysConf, `[aliases]\n"${'x'.repeat(256)}" = "a.test/x"\n`, 'an invalid short-name alias'],
    ['an alias value without a registry', sysConf, '[aliases]\n"x" = "x/y"\n', 'an invalid short-name alias'],
    ['an alias value with a tag', sysConf, '[aliases]\n"x" = "a.test/x:1"\n', 'an invalid short-name alias'],
    ['an alias value with a digest', sysConf, `[aliases]\n"x" = "a.test/x@${DIGEST}"\n`, 'an invalid short-name alias'],
    ['an alias value that is no reference', sysConf, '[aliases]\n"x" = "a.test/X"\n', 'an invalid short-name alias'],
    [
      'TOML this reader does not read',
      sysConf,
      'a = """x"""\n',
      'is TOML this reader does not handle (line 1: multi-line strings are not supported)'
    ],
    ['a file that is not UTF-8', sysConf, '\u00ff', 'is TOML this reader does not handle (not UTF-8)'],
    ['an unreadable file', sysConf, '', 'reading <file>: EISDIR']
  ])('%s is left to skopeo', (_, file, text, what) => {
    write(file, text)
    if (text === '') {
      fs.rmSync(path.join(root, file))
      fs.mkdirSync(path.join(root, file))
    }
    if (text === '\u00ff') fs.writeFileSync(path.join(root, file), Buffer.from([0x61, 0x20, 0x3d, 0x20, 0x22, 0xff, 0x22]))
    const full = path.join(root, file)
    const reason = what.includes('<file>')
      ? what.replace('<file>', full)
      : what.startsWith('is TOML')
        ? `${full} ${what}`
        : `${full}: ${what}`
    expect(handoff(endpoint('a.test/x:1'))).toBe(reason)
  })

  test.each<[string, string, Record<string, boolean>]>([
    ['an empty registry array', 'registry = []\n', { 'a.test/x:1': false }],
    ['short-name-mode disabled', `short-name-mode = "disabled"\n${insecure('a.test')}`, { 'a.test/x:1': true }],
    ['short-name-mode permissive', `short-name-mode = "permissive"\n${insecure('a.test')}`, { 'a.test/x:1': true }],
    ['V1 with an empty short-name-mode (unset, so no V2)', `short-name-mode = ""\n${v1}`, { 'a.test/x:1': true }],
    [
      'V1 beside a [registries.search] without a list',
      '[registries.search]\n[registries.insecure]\nregistries = ["a.test"]\n',
      { 'a.test/x:1': true }
    ],
    ['V2 beside a [registries.search] without a list', `[registries.search]\n${insecure('a.test')}`, { 'a.test/x:1': true }],
    ['a location with several trailing slashes', insecure('a.test//'), { 'a.test/x:1': true }],
    ['a V1 entry with several trailing slashes', '[registries.insecure]\nregistries = ["a.test//"]\n', { 'a.test/x:1': true }],
    [
      'a mirror with pull-from-mirror all (a destination)',
      `${insecure('a.test')}[[registry.mirror]]\nlocation = "m.test"\npull-from-mirror = "all"\n`,
      { 'a.test/x:1': true }
    ],
    [
      'wildcards with different settings (each its own key)',
      '[[registry]]\nprefix = "*.a.test"\ninsecure = true\n[[registry]]\nprefix = "*.b.test"\n',
      { 'x.a.test/y:1': true, 'x.b.test/y:1': false }
    ],
    [
      'aliases to localhost, to a host with a port, of 255 characters',
      [
        '[aliases]',
        '"x" = "localhost/x"',
        '"y" = "h:5000/y"',
        `"${'k'.repeat(255)}" = "a.test/${'v'.repeat(248)}"`,
        insecure('a.test')
      ].join('\n'),
      { 'a.test/x:1': true }
    ]
  ])('%s is read', (_, text, want) => {
    write(sysConf, text)
    for (const [ref, insecureWanted] of Object.entries(want)) expect([ref, insecureFor(ref)]).toEqual([ref, insecureWanted])
  })

  test('an alias whose Docker Hub name grows over 255 characters with library/ is refused', () => {
    const alias = `docker.io/${'a'.repeat(245)}`
    write(sysConf, `[aliases]\n"x" = "${alias}"\n`)
    expect(handoff(endpoint('a.test/x:1'))).toBe(`${path.join(root, sysConf)}: an invalid short-name alias`)
  })

  test('valid aliases and settings are read', () => {
    write(
      sysConf,
      [
        'unqualified-search-registries = ["registry.fedoraproject.org", "docker.io/"]',
        'short-name-mode = "enforcing"',
        'credential-helpers = ["containers-auth.json"]',
        '[aliases]',
        '"fedora" = "registry.fedoraproject.org/fedora"',
        '"library/alpine" = "docker.io/library/alpine"',
        '"reset" = ""',
        insecure('a.test')
      ].join('\n')
    )
    expect(insecureFor('a.test/x:1')).toBe(true)
  })

  test.each<[string, string, boolean, string | undefined]>([
    ['the default', '', false, undefined],
    ['containers-auth.json only', 'credential-helpers = ["containers-auth.json"]\n', false, undefined],
    ['an empty list means the default', 'credential-helpers = []\n', false, undefined],
    ['another helper', 'credential-helpers = ["pass"]\n', false, 'names the credential helper pass'],
    ['a helper after the files, with an entry in them', 'credential-helpers = ["containers-auth.json", "pass"]\n', true, undefined],
    [
      'a helper after the files, without an entry in them',
      'credential-helpers = ["containers-auth.json", "pass"]\n',
      false,
      'names the credential helper pass'
    ],
    ['a helper before the files', 'credential-helpers = ["pass", "containers-auth.json"]\n', true, 'names the credential helper pass']
  ])('credential-helpers: %s', (_, text, withEntry, reason) => {
    write(sysConf, text)
    const authFile = write('a.json', json({ auths: withEntry ? { 'a.test': auth('u', 'p') } : {} }))
    const result = endpoint('a.test/x:1', {}, { authFile })
    expect(result.via === 'skopeo' ? result.reason : undefined).toBe(reason && `${path.join(root, sysConf)} ${reason}`)
  })

  test('credential-helpers in a drop-in replace the main file’s, even when empty', () => {
    write(sysConf, 'credential-helpers = ["pass"]\n')
    write('etc/containers/registries.conf.d/1.conf', 'credential-helpers = []\n')
    expect(endpoint('a.test/x:1').via).toBe('native')
    write('etc/containers/registries.conf.d/2.conf', 'credential-helpers = ["gcloud"]\n')
    expect(handoff(endpoint('a.test/x:1'))).toBe(
      `${path.join(root, 'etc/containers/registries.conf.d/2.conf')} names the credential helper gcloud`
    )
  })
})

describe('proxies, as Go’s ProxyFromEnvironment applies them', () => {
  test.each<[string, NodeJS.ProcessEnv, string, boolean, string | undefined]>([
    ['HTTPS_PROXY', { HTTPS_PROXY: 'http://p:3128' }, 'a.test/x:1', true, 'HTTPS_PROXY'],
    ['https_proxy', { https_proxy: 'p:3128' }, 'a.test/x:1', true, 'https_proxy'],
    ['HTTP_PROXY is not for https', { HTTP_PROXY: 'http://p:3128' }, 'a.test/x:1', true, undefined],
    ['HTTP_PROXY for an insecure registry (http after https fails)', { HTTP_PROXY: 'http://p:3128' }, 'a.test/x:1', false, 'HTTP_PROXY'],
    ['http_proxy for an insecure registry', { http_proxy: 'http://p:3128' }, 'a.test/x:1', false, 'http_proxy'],
    ['an empty HTTPS_PROXY', { HTTPS_PROXY: '' }, 'a.test/x:1', true, undefined],
    ['localhost', { HTTPS_PROXY: 'p' }, 'localhost:5000/x:1', true, undefined],
    ['127.0.0.1', { HTTPS_PROXY: 'p' }, '127.0.0.1:5000/x:1', true, undefined],
    ['127.1.2.3', { HTTPS_PROXY: 'p' }, '127.1.2.3/x:1', true, undefined],
    ['NO_PROXY with the host', { HTTPS_PROXY: 'p', NO_PROXY: 'other.test, a.test' }, 'a.test/x:1', true, undefined],
    ['no_proxy', { HTTPS_PROXY: 'p', no_proxy: 'a.test' }, 'a.test/x:1', true, undefined],
    ['NO_PROXY before no_proxy', { HTTPS_PROXY: 'p', NO_PROXY: 'b.test', no_proxy: 'a.test' }, 'a.test/x:1', true, 'HTTPS_PROXY'],
    ['NO_PROXY with a parent domain', { HTTPS_PROXY: 'p', NO_PROXY: 'test' }, 'reg.a.test/x:1', true, undefined],
    ['NO_PROXY with a leading dot: subdomains only', { HTTPS_PROXY: 'p', NO_PROXY: '.a.test' }, 'a.test/x:1', true, 'HTTPS_PROXY'],
    ['NO_PROXY *.domain', { HTTPS_PROXY: 'p', NO_PROXY: '*.a.test' }, 'r.a.test/x:1', true, undefined],
    ['NO_PROXY not a suffix of a label', { HTTPS_PROXY: 'p', NO_PROXY: 'a.test' }, 'xa.test/x:1', true, 'HTTPS_PROXY'],
    ['NO_PROXY with the port', { HTTPS_PROXY: 'p', NO_PROXY: 'a.test:5000' }, 'a.test:5000/x:1', true, undefined],
    ['NO_PROXY with another port', { HTTPS_PROXY: 'p', NO_PROXY: 'a.test:5000' }, 'a.test/x:1', true, 'HTTPS_PROXY'],
    ['NO_PROXY with the https port', { HTTPS_PROXY: 'p', NO_PROXY: 'a.test:443' }, 'a.test/x:1', true, undefined],
    ['NO_PROXY in another case', { HTTPS_PROXY: 'p', NO_PROXY: 'A.Test' }, 'a.test/x:1', true, undefined],
    ['NO_PROXY *', { HTTPS_PROXY: 'p', NO_PROXY: '*' }, 'a.test/x:1', true, undefined],
    ['NO_PROXY with a CIDR', { HTTPS_PROXY: 'p', NO_PROXY: '10.0.0.0/8' }, '10.1.2.3:5000/x:1', true, undefined],
    [
      'NO_PROXY with a CIDR that does not hold the address',
      { HTTPS_PROXY: 'p', NO_PROXY: '10.0.0.0/16' },
      '10.1.2.3:5000/x:1',
      true,
      'HTTPS_PROXY'
    ],
    ['NO_PROXY with an IPv6 CIDR and an IPv4 address', { HTTPS_PROXY: 'p', NO_PROXY: '::/0' }, '10.1.2.3/x:1', true, 'HTTPS_PROXY'],
    ['NO_PROXY with the IP and port', { HTTPS_PROXY: 'p', NO_PROXY: '10.1.2.3:5000' }, '10.1.2.3:5000/x:1', true, undefined],
    ['NO_PROXY with an IP-mapped form', { HTTPS_PROXY: 'p', NO_PROXY: '::ffff:10.1.2.3' }, '10.1.2.3/x:1', true, undefined],
    ['NO_PROXY ignores a port without a host', { HTTPS_PROXY: 'p', NO_PROXY: ':443' }, 'a.test/x:1', true, 'HTTPS_PROXY'],
    ['Docker Hub is checked as registry-1.docker.io', { HTTPS_PROXY: 'p', NO_PROXY: 'registry-1.docker.io' }, 'alpine:3', true, undefined],
    ['docker.io covers registry-1.docker.io', { HTTPS_PROXY: 'p', NO_PROXY: 'docker.io' }, 'alpine:3', true, undefined],
    ['index.docker.io does not', { HTTPS_PROXY: 'p', NO_PROXY: 'index.docker.io' }, 'alpine:3', true, 'HTTPS_PROXY']
  ])('%s', (_, env, ref, tlsVerify, variable) => {
    const result = config(env).endpointFor(ref, 'destination', { tlsVerify })
    const host = ref.startsWith('alpine') ? 'registry-1.docker.io' : ref.split('/')[0]
    expect(result.via === 'skopeo' ? result.reason : undefined).toBe(variable && `${variable} is set and applies to ${host}`)
  })

  test('proxyFor answers for the token realm too', () => {
    const c = config({ HTTPS_PROXY: 'p', NO_PROXY: 'registry-1.docker.io' })
    expect(c.proxyFor('https://auth.docker.io/token')).toBe('HTTPS_PROXY')
    expect(c.proxyFor('https://registry-1.docker.io/v2/')).toBeUndefined()
    expect(c.proxyFor('https://[::1]:5000/v2/')).toBeUndefined()
    expect(c.proxyFor('http://auth.docker.io/token')).toBeUndefined()
  })
})

describe('certificates', () => {
  const pem = (text: string): string => text.replace(/\r?\n/g, '')

  test.each<[string, Record<string, string>, NodeJS.ProcessEnv, string[]]>([
    ['none found', {}, {}, []],
    ["Go's first bundle only", { 'etc/ssl/ca-bundle.pem': CA, 'etc/ssl/cert.pem': OTHER_CERT }, {}, [CA]],
    ['the next bundle when the first is missing', { 'etc/pki/tls/certs/ca-bundle.crt': OTHER_CERT }, {}, [OTHER_CERT]],
    ['the Alpine bundle last', { 'etc/ssl/cert.pem': OTHER_CERT }, {}, [OTHER_CERT]],
    [
      'every file of the directories too',
      { 'etc/ssl/certs/ca-certificates.crt': CA, 'etc/ssl/certs/other.pem': OTHER_CERT },
      {},
      [CA, OTHER_CERT]
    ],
    [
      'SSL_CERT_FILE instead of the bundles',
      { 'etc/ssl/cert.pem': CA, 'mine.pem': OTHER_CERT },
      { SSL_CERT_FILE: 'mine.pem' },
      [OTHER_CERT]
    ],
    [
      'SSL_CERT_DIR instead of the directories',
      { 'etc/pki/tls/certs/x.pem': CA, 'd1/a.pem': OTHER_CERT, 'd2/b.pem': CLIENT_CERT },
      { SSL_CERT_DIR: 'd1:d2' },
      [OTHER_CERT, CLIENT_CERT]
    ],
    [
      'blocks of other types skipped; a certificate that does not parse passed on (Node skips it, as Go does)',
      { 'etc/ssl/cert.pem': `${CLIENT_KEY}\n${CA.replace('MIIB', 'XXXX')}\n${OTHER_CERT}` },
      {},
      [CA.replace('MIIB', 'XXXX'), OTHER_CERT]
    ],
    ['a certificate block with headers skipped', { 'etc/ssl/cert.pem': CA.replace('\n', '\nComment: 1\n\n') }, {}, []],
    ['duplicates once', { 'etc/ssl/certs/ca-certificates.crt': CA, 'etc/ssl/certs/again.pem': `${CA}\r\n` }, {}, [CA]]
  ])('system roots: %s', (_, files, env, want) => {
    for (const [file, text] of Object.entries(files)) write(file, text)
    const rootedEnv = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        (v as string)
          .split(':')
          .map(p => path.join(root, p))
          .join(':')
      ])
    )
    const ca = native(endpoint('a.test/x:1', rootedEnv)).ca
    expect(ca?.map(pem)).toEqual(want.length ? want.map(pem) : undefined)
  })

  test("links to a file of the same directory are OpenSSL's hash names, not read twice", () => {
    write('etc/ssl/certs/real.pem', CA)
    fs.symlinkSync('real.pem', path.join(root, 'etc/ssl/certs/abcd1234.0'))
    fs.symlinkSync(path.join(root, 'elsewhere.pem'), path.join(root, 'etc/ssl/certs/outside.pem'))
    write('elsewhere.pem', OTHER_CERT)
    expect(native(endpoint('a.test/x:1')).ca?.map(pem)).toEqual([OTHER_CERT, CA].map(pem))
  })

  test.each<[string, string[], string, string | undefined]>([
    [
      '~/.config/containers/certs.d first',
      ['home/.config/containers/certs.d', 'etc/containers/certs.d', 'etc/docker/certs.d'],
      'a.test:5000/x:1',
      'home/.config/containers/certs.d'
    ],
    ['/etc/containers/certs.d next', ['etc/containers/certs.d', 'etc/docker/certs.d'], 'a.test:5000/x:1', 'etc/containers/certs.d'],
    ['/etc/docker/certs.d last', ['etc/docker/certs.d'], 'a.test:5000/x:1', 'etc/docker/certs.d'],
    ['docker.io for Docker Hub', ['etc/containers/certs.d'], 'alpine:3', 'etc/containers/certs.d'],
    ['an empty first dir hides the next', ['home/.config/containers/certs.d', 'etc/containers/certs.d'], 'a.test:5000/x:1', undefined]
  ])('cert dir: %s', (_, dirs, ref, used) => {
    const host = ref.startsWith('alpine') ? 'docker.io' : 'a.test:5000'
    for (const dir of dirs) fs.mkdirSync(path.join(root, dir, host), { recursive: true })
    for (const dir of dirs.slice(dirs[0] === 'home/.config/containers/certs.d' && used === undefined ? 1 : 0))
      write(path.join(dir, host, 'ca.crt'), dir === used ? CA : OTHER_CERT)
    const ca = native(endpoint(ref)).ca
    expect(ca?.map(pem)).toEqual(used ? [pem(CA)] : undefined)
  })

  test('the cert-dir input replaces the lookup', () => {
    write('etc/containers/certs.d/a.test/ca.crt', OTHER_CERT)
    write('given/ca.crt', CA)
    const e = native(config().endpointFor('a.test/x:1', 'source', { tlsVerify: true, certDir: path.join(root, 'given') }))
    expect(e.ca?.map(pem)).toEqual([pem(CA)])
    expect(
      native(config().endpointFor('a.test/x:1', 'source', { tlsVerify: true, certDir: path.join(root, 'missing') })).ca
    ).toBeUndefined()
  })

  test('*.crt are added to the system roots, not instead of them', () => {
    write('etc/ssl/cert.pem', OTHER_CERT)
    write('etc/containers/certs.d/a.test/b.crt', CA)
    write('etc/containers/certs.d/a.test/ignored.pem', CLIENT_CERT)
    expect(native(endpoint('a.test/x:1')).ca?.map(pem)).toEqual([OTHER_CERT, CA].map(pem))
  })

  test('a *.cert and *.key pair is the client certificate', () => {
    write('etc/containers/certs.d/a.test/client.cert', CLIENT_CERT)
    write('etc/containers/certs.d/a.test/client.key', CLIENT_KEY)
    const e = native(endpoint('a.test/x:1'))
    expect(pem(e.cert as string)).toBe(pem(CLIENT_CERT))
    expect(pem(e.key as string)).toBe(pem(CLIENT_KEY))
    expect(e.ca).toBeUndefined()
  })

  test.each<[string, Record<string, string>, string]>([
    [
      'a certificate without its key',
      { 'c.cert': CLIENT_CERT, 'c.pem': CLIENT_KEY },
      'missing key c.key for client certificate <dir>/c.cert'
    ],
    [
      'a key without its certificate',
      { 'c.key': CLIENT_KEY, 'c.crt': CLIENT_CERT },
      'missing client certificate c.cert for key <dir>/c.key'
    ],
    [
      'a key that does not match',
      { 'c.cert': CLIENT_CERT, 'c.key': OTHER_KEY },
      'loading the client certificate <dir>/c.cert with <dir>/c.key: the key does not match'
    ],
    [
      'a certificate file without a certificate',
      { 'c.cert': CLIENT_KEY, 'c.key': CLIENT_KEY },
      'loading the client certificate <dir>/c.cert with <dir>/c.key: no certificate'
    ],
    [
      'a key file without a key',
      { 'c.cert': CLIENT_CERT, 'c.key': 'nothing' },
      'loading the client certificate <dir>/c.cert with <dir>/c.key: '
    ]
  ])('%s fails the read, naming the file', (_, files, message) => {
    const dir = path.join(root, 'etc/containers/certs.d/a.test')
    for (const [file, text] of Object.entries(files)) write(path.join('etc/containers/certs.d/a.test', file), text)
    expect(() => endpoint('a.test/x:1')).toThrow(message.replace(/<dir>/g, dir))
  })

  test('a .crt that cannot be read fails the read', () => {
    fs.mkdirSync(path.join(root, 'etc/containers/certs.d/a.test/dir.crt'), { recursive: true })
    expect(() => endpoint('a.test/x:1')).toThrow(`reading ${path.join(root, 'etc/containers/certs.d/a.test/dir.crt')}: EISDIR`)
  })

  test('a cert dir that is a file fails the read', () => {
    write('certs', '')
    expect(() => config().endpointFor('a.test/x:1', 'source', { tlsVerify: true, certDir: path.join(root, 'certs') })).toThrow(/ENOTDIR/)
  })

  test('two client certificates are left to skopeo (Go chooses per server)', () => {
    for (const [name, text] of [
      ['a.cert', CLIENT_CERT],
      ['a.key', CLIENT_KEY],
      ['b.cert', OTHER_CERT],
      ['b.key', OTHER_KEY]
    ])
      write(path.join('etc/containers/certs.d/a.test', name), text)
    expect(handoff(endpoint('a.test/x:1'))).toMatch(/a\.cert and .*b\.cert are several client certificates/)
  })

  test('handoffs win over a broken cert dir: skopeo reports what it finds', () => {
    write('etc/containers/certs.d/a.test/c.cert', CLIENT_CERT)
    expect(endpoint('a.test/x:1', { HTTPS_PROXY: 'p' }).via).toBe('skopeo')
  })
})

describe('each file is read once per instance', () => {
  test('registries.conf, auth files, cert dirs and system roots', () => {
    write('etc/containers/registries.conf', '[[registry]]\nlocation = "a.test"\ninsecure = true\n')
    const authFile = write('a.json', json({ auths: { 'a.test': auth('first', 'p') } }))
    write('etc/containers/certs.d/a.test/ca.crt', CA)
    write('etc/ssl/cert.pem', OTHER_CERT)
    const c = config({}, { authFile })
    const first = native(c.endpointFor('a.test/x:1', 'source', VERIFY))

    write('etc/containers/registries.conf', '[[registry]]\nlocation = "a.test"\nblocked = true\n')
    write('a.json', json({ auths: { 'a.test': auth('second', 'p') } }))
    fs.rmSync(path.join(root, 'etc/containers/certs.d/a.test/ca.crt'))
    fs.rmSync(path.join(root, 'etc/ssl/cert.pem'))
    expect(native(c.endpointFor('a.test/y:2', 'destination', VERIFY))).toEqual({ ...first, path: 'y' })
    expect(handoff(config({}, { authFile }).endpointFor('a.test/x:1', 'source', VERIFY))).toMatch(/blocked/)
  })

  test('a failure is kept too', () => {
    write('etc/containers/registries.conf', 'a = """x"""\n')
    const c = config()
    expect(c.endpointFor('a.test/x:1', 'source', VERIFY).via).toBe('skopeo')
    write('etc/containers/registries.conf', '')
    expect(c.endpointFor('a.test/x:1', 'source', VERIFY).via).toBe('skopeo')
  })
})

// Found by the mutation run of this module (CONTRIBUTING, "Mutation run"): each fails with its mutant applied.
describe('mutation run: decisions the tests above left open', () => {
  test('a given auth file with nothing for the registry, where a default file has it, is left to skopeo (skopeo 1.9 reads on)', () => {
    const given = write('given.json', json({ auths: { 'other.test': auth('other', 'pw') } }))
    const fallback = write('home/.config/containers/auth.json', json({ auths: { 'quay.io': auth('config', 'pw') } }))
    const reason = `${given} has nothing for quay.io but ${fallback} has, and whether skopeo reads that depends on its version`
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: given }))).toBe(reason)
    expect(handoff(endpoint('quay.io/app:1', { REGISTRY_AUTH_FILE: given }))).toBe(reason)
    // Without a given file the default files are simply read.
    expect(user('quay.io/app:1')).toBe('config')
  })

  test('an insecure endpoint gets no CA roots, neither the system’s nor the cert dir’s', () => {
    write('etc/ssl/cert.pem', OTHER_CERT)
    write('etc/containers/certs.d/a.test/ca.crt', CA)
    write('etc/containers/registries.conf', '[[registry]]\nlocation = "a.test"\ninsecure = true\n')
    expect(native(config().endpointFor('a.test/x:1', 'source', { tlsVerify: false })).ca).toBeUndefined()
    expect(native(config().endpointFor('a.test/x:1', 'source', VERIFY)).ca).toBeUndefined()
    expect(native(config().endpointFor('b.test/x:1', 'source', VERIFY)).ca?.map(p => p.replace(/\n/g, ''))).toEqual([
      OTHER_CERT.replace(/\n/g, '')
    ])
  })

  test('an empty credential-helpers list reads the auth files (the default), not nothing', () => {
    write('etc/containers/registries.conf', 'credential-helpers = []\n')
    const authFile = write('a.json', json({ auths: { 'a.test': auth('u', 'p') } }))
    expect(user('a.test/x:1', {}, { authFile })).toBe('u')
  })

  test('a legacy file looks up the host key itself before keys cut to a host', () => {
    write('home/.dockercfg', json({ 'quay.io/other': auth('cut', 'pw'), 'quay.io': auth('host', 'pw') }))
    expect(user('quay.io/other/app:1')).toBe('host')
  })

  test('URL keys for one host that differ in the identity token only are left to skopeo too', () => {
    const entry = (identitytoken: string): unknown => ({ ...auth('u', 'pw'), identitytoken })
    const file = write('a.json', json({ auths: { 'https://quay.io/v1/': entry('one'), 'http://quay.io': entry('two') } }))
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: file }))).toBe(`${file} has several different entries for quay.io`)
  })

  test('an empty auth or identity token and an absent one are the same entry (Go decodes both to "")', () => {
    const file = write('a.json', json({ auths: { 'https://quay.io/v1/': { auth: '' }, 'http://quay.io': {} } }))
    expect(native(endpoint('quay.io/app:1', {}, { authFile: file })).credential).toBeUndefined()
    write(
      'a.json',
      json({ auths: { 'https://quay.io/v1/': { ...auth('u', 'pw'), identitytoken: '' }, 'http://quay.io': auth('u', 'pw') } })
    )
    expect(user('quay.io/app:1', {}, { authFile: file })).toBe('u')
  })

  test('plain http is checked against NO_PROXY with port 80', () => {
    const env = { HTTP_PROXY: 'http://p:3128', NO_PROXY: 'a.test:80' }
    expect(config(env).endpointFor('a.test/x:1', 'destination', { tlsVerify: false }).via).toBe('native')
    expect(config(env).proxyFor('http://a.test:8080/v2/')).toBe('HTTP_PROXY')
  })
})

// The mutation run of the rest of config.ts (CONTRIBUTING, "Mutation run"): each fails with its mutant applied.
describe('mutation run: the rest of config.ts', () => {
  afterEach(() => jest.restoreAllMocks())
  const insecureConf = (location: string): string => `[[registry]]\nlocation = "${location}"\ninsecure = true\n`

  test('roots are passed on as Go re-encodes them: 64 columns, one PEM each', () => {
    write('etc/ssl/cert.pem', `${CA.replace(/\n/g, '\r\n')}junk\n${OTHER_CERT.replace(/(.{64})\n/g, '$1')}`)
    expect(native(endpoint('a.test/x:1')).ca).toEqual([CA, OTHER_CERT])
  })

  test('a certificate directory may hold subdirectories and dangling links: skipped', () => {
    write('etc/ssl/certs/java/cacerts', 'binary')
    fs.symlinkSync(path.join(root, 'nowhere.pem'), path.join(root, 'etc/ssl/certs/gone.pem'))
    write('etc/ssl/certs/z.pem', CA)
    expect(native(endpoint('a.test/x:1')).ca).toEqual([CA])
  })

  // Go sorts by name; so does Node's readdirSync (libuv sorts scandir's names by strcmp), which the sort
  // in config.ts repeats: this holds the order should the listing ever come another way (fs.opendir: the disk's order).
  // The blocks are distinct but no certificates: those are passed on as they are.
  const blocks = Array.from(
    { length: 10 },
    (_, i) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(`n${i}`).toString('base64')}\n-----END CERTIFICATE-----\n`
  )

  test.each([
    ['the files of a certificate directory', 'etc/ssl/certs', 'pem'],
    ['the *.crt of a cert dir', 'etc/containers/certs.d/a.test', 'crt']
  ])('%s are read in name order', (_, dir, extension) => {
    for (const i of [7, 3, 9, 0, 5, 1, 8, 2, 6, 4]) write(`${dir}/${i}.${extension}`, blocks[i])
    expect(native(endpoint('a.test/x:1')).ca).toEqual(blocks)
  })

  test('a client certificate file with a chain passes the whole chain on', () => {
    write('etc/containers/certs.d/a.test/client.cert', `${CLIENT_CERT}${CA}`)
    write('etc/containers/certs.d/a.test/client.key', CLIENT_KEY)
    expect(native(endpoint('a.test/x:1')).cert).toBe(`${CLIENT_CERT}${CA}`)
  })

  test('the system roots and a cert dir are read once per instance, for verified endpoints too', () => {
    write('etc/ssl/cert.pem', OTHER_CERT)
    write('etc/containers/certs.d/a.test/ca.crt', CA)
    const c = config()
    const first = native(c.endpointFor('a.test/x:1', 'source', VERIFY))
    expect(first.ca).toEqual([OTHER_CERT, CA])
    fs.rmSync(path.join(root, 'etc/ssl/cert.pem'))
    fs.rmSync(path.join(root, 'etc/containers/certs.d/a.test/ca.crt'))
    expect(native(c.endpointFor('a.test/y:1', 'source', VERIFY)).ca).toEqual([OTHER_CERT, CA])
  })

  // proxyFor, as the token realm asks it: IPv6 hosts reach it too (a reference with one is handed off before).
  test.each<[string, string, string | undefined]>([
    [',a.test', 'https://a.test/', undefined],
    ['10.1.2.3:5000', 'https://10.1.2.3:6000/', 'HTTPS_PROXY'],
    ['10.1.2.3:443', 'https://10.1.2.3/', undefined],
    ['10.1.2.3/32', 'https://10.1.2.3/', undefined],
    ['10.1.2.3/33', 'https://10.1.2.3/', 'HTTPS_PROXY'],
    ['10.1.2.3/x', 'https://10.1.2.3/', 'HTTPS_PROXY'],
    ['10.1.2.3/', 'https://10.1.2.3/', 'HTTPS_PROXY'],
    ['a.test/8', 'https://a.test/', 'HTTPS_PROXY'],
    ['10.1.2.2/31', 'https://10.1.2.3/', undefined],
    ['10.1.2.2/32', 'https://10.1.2.3/', 'HTTPS_PROXY'],
    ['10.1.2.128/25', 'https://10.1.2.3/', 'HTTPS_PROXY'],
    ['0.0.0.0/0', 'https://10.1.2.3/', undefined],
    ['fd00::/8', 'https://[fd00::1]/', undefined],
    ['fe00::/8', 'https://[fd00::1]/', 'HTTPS_PROXY'],
    ['fd00::1/128', 'https://[fd00::1]/', undefined],
    ['fd00::1/128', 'https://[fd00::2]/', 'HTTPS_PROXY'],
    ['fd00::1/129', 'https://[fd00::1]/', 'HTTPS_PROXY'],
    ['fd00:0:0:0:0:0:1:0/112', 'https://[fd00::1:ff]/', undefined],
    ['fd00:0:0:0:0:0:1:0/112', 'https://[fd00::2:ff]/', 'HTTPS_PROXY'],
    ['10.0.0.0/8', 'https://[fd00::1]/', 'HTTPS_PROXY'],
    ['::ffff:10.0.0.0/104', 'https://10.1.2.3/', undefined],
    ['::ffff:11.0.0.0/104', 'https://10.1.2.3/', 'HTTPS_PROXY'],
    ['::ffff:0:0/96', 'https://10.1.2.3/', undefined],
    ['::ffff:0:0/90', 'https://10.1.2.3/', undefined],
    ['fd00:0:0:0:0:0:0:1', 'https://[fd00::1]/', undefined],
    ['fd00::1', 'https://[fd00::2]/', 'HTTPS_PROXY'],
    ['[fd00::1]:443', 'https://[fd00::1]/', undefined],
    ['[fd00::1]:80', 'https://[fd00::1]/', 'HTTPS_PROXY'],
    ['fd00:12:34::5678', 'https://[fd00:12:34:0:0:0:0:5678]/', undefined],
    ['fd00:12:34::5678', 'https://[fd00:12:34:0:0:0:0:5679]/', 'HTTPS_PROXY'],
    ['fd00:1234::', 'https://[fd00:1235::]/', 'HTTPS_PROXY'],
    ['::10.1.2.3', 'https://[::a01:203]/', undefined],
    ['', 'https://[::1]/', undefined],
    ['', 'https://[::2]/', 'HTTPS_PROXY'],
    ['', 'https://[::1:1]/', 'HTTPS_PROXY'],
    ['', 'https://[::ffff:127.0.0.1]/', undefined],
    ['', 'https://[::ffff:128.0.0.1]/', 'HTTPS_PROXY'],
    ['', 'https://126.0.0.1/', 'HTTPS_PROXY'],
    ['', 'https://localhost/', undefined],
    ['*.a.test:443', 'https://r.a.test/', undefined],
    ['*.a.test:5000', 'https://r.a.test/', 'HTTPS_PROXY'],
    ['.a.test', 'https://r.a.test/', undefined],
    ['a.test', 'https://a.test/', undefined],
    ['b.test', 'https://a.test/', 'HTTPS_PROXY'],
    // Empty entries and entries without a host match nothing, not even a host name ending in a dot.
    ['b.test,', 'https://a.test./', 'HTTPS_PROXY'],
    [':443', 'https://a.test./', 'HTTPS_PROXY'],
    ['*.a.test', 'https://a.test/', 'HTTPS_PROXY'],
    ['a[b]:443', 'https://ab/', 'HTTPS_PROXY'],
    ['[a]b:443', 'https://ab/', 'HTTPS_PROXY'],
    ['10.1.2.3/x8', 'https://10.1.2.3/', 'HTTPS_PROXY'],
    ['10.1.2.3/8x', 'https://10.1.2.3/', 'HTTPS_PROXY']
  ])('NO_PROXY %p for %s: %s', (noProxy, url, want) => {
    expect(config({ HTTPS_PROXY: 'p', NO_PROXY: noProxy }).proxyFor(url)).toBe(want)
  })

  test('a registries.conf.d that is no directory is left to skopeo', () => {
    const dir = write('etc/containers/registries.conf.d', '')
    expect(handoff(endpoint('a.test/x:1'))).toBe(`reading ${dir}: ENOTDIR`)
  })

  test('drop-ins are merged in prefix order: the first of equally long prefixes wins across files too', () => {
    write('etc/containers/registries.conf', '[[registry]]\nlocation = "b.a.test"\n')
    write('etc/containers/registries.conf.d/1.conf', '[[registry]]\nprefix = "*.a.test"\ninsecure = true\n')
    expect(native(config().endpointFor('b.a.test/x:1', 'destination', VERIFY)).insecure).toBe(true)
  })

  test.each<[string, string, string, boolean]>([
    ['a prefix equal to the whole name', 'a.test/ns/x', 'a.test/ns/x:1', true],
    ['a prefix one character longer than the name', 'a.test/ns/xy', 'a.test/ns/x:1', false],
    ['a wildcard suffix only in the path', '*.ns', 'a.test/b.ns/x:1', false],
    ['a wildcard suffix that ends inside a label', '*.a.tes', 'r.a.test/x:1', false],
    ['a wildcard suffix before a port', '*.a.test', 'r.a.test:5000/x:1', true]
  ])('registries.conf prefixes: %s', (_, prefix, ref, want) => {
    const location = prefix.startsWith('*.') ? '' : `location = "${prefix}"\n`
    write('etc/containers/registries.conf', `[[registry]]\nprefix = "${prefix}"\n${location}insecure = true\n`)
    expect(native(config().endpointFor(ref, 'destination', VERIFY)).insecure).toBe(want)
  })

  test('a name of 255 characters is read, one of 256 is left to skopeo', () => {
    expect(native(endpoint(`quay.io/${'a'.repeat(247)}:1`)).path).toBe('a'.repeat(247))
    expect(handoff(endpoint(`quay.io/${'a'.repeat(248)}:1`))).toBe('the reference is not one containers/image parses')
  })

  test('without a uid, the runtime auth file is the process user’s', () => {
    const uid = process.getuid?.() ?? 0
    write(`run/containers/${uid}/auth.json`, json({ auths: { 'quay.io': auth('process', 'pw') } }))
    expect(native(config({}, { uid: undefined }).endpointFor('quay.io/x:1', 'source', VERIFY)).credential?.username).toBe('process')
  })

  // Root reads any directory, so a listing error is made by hand.
  function refuseListing(dir: string, code: string | undefined): void {
    const readdirSync = fs.readdirSync
    jest.spyOn(fsModule, 'readdirSync').mockImplementation(((p: fs.PathLike, o?: fs.ObjectEncodingOptions) => {
      if (p === dir) throw Object.assign(new Error('listing refused'), code ? { code } : {})
      return readdirSync(p, o)
    }) as typeof fs.readdirSync)
  }

  test.each(['EACCES', 'EPERM'])('a cert dir that cannot be listed (%s) is none, as in containers/image', code => {
    fs.mkdirSync(path.join(root, 'etc/containers/certs.d/a.test'), { recursive: true })
    write('etc/containers/certs.d/a.test/client.cert', CLIENT_CERT)
    refuseListing(path.join(root, 'etc/containers/certs.d/a.test'), code)
    expect(native(endpoint('a.test/x:1')).cert).toBeUndefined()
  })

  test.each<[string, string | undefined, string]>([
    ['EIO', 'EIO', 'EIO'],
    ['an error without a code', undefined, 'error']
  ])('a cert dir that cannot be listed otherwise (%s) fails the read', (_, code, named) => {
    const dir = path.join(root, 'etc/containers/certs.d/a.test')
    fs.mkdirSync(dir, { recursive: true })
    refuseListing(dir, code)
    expect(() => endpoint('a.test/x:1')).toThrow(`reading the cert dir ${dir}: ${named}`)
  })

  // The machine's own /etc: its roots (a runner has ca-certificates) and its registries.conf.d (shortnames.conf, often).
  test('without etc, the system’s /etc is read', () => {
    const read = (o: Partial<RegistryConfigOptions>): Endpoint => native(config({}, o).endpointFor('a.test/x:1', 'source', VERIFY))
    const system = read({ etc: '/etc' })
    expect(system.ca?.length).toBeGreaterThan(0)
    expect(read({ etc: undefined })).toEqual(system)
  })

  test('a V1 location both blocked and insecure is one registry, blocked (no conflict)', () => {
    write(
      'etc/containers/registries.conf',
      '[registries.block]\nregistries = ["a.test"]\n[registries.insecure]\nregistries = ["a.test/"]\n'
    )
    expect(handoff(endpoint('a.test/x:1'))).toBe(`a.test is blocked in ${path.join(root, 'etc/containers/registries.conf')}`)
  })

  test('a *.crt that is gone by the time it is read (a dangling link) is skipped', () => {
    write('etc/containers/certs.d/a.test/b.crt', CA)
    fs.symlinkSync(path.join(root, 'nowhere.crt'), path.join(root, 'etc/containers/certs.d/a.test/a.crt'))
    expect(native(endpoint('a.test/x:1')).ca).toEqual([CA])
  })

  // Blocks that are no certificates are passed on (Node skips them); only their base64 shape is checked.
  test.each<[string, string, boolean]>([
    ['without padding', 'QUJD', true],
    ['with one =', 'QUI=', true],
    ['with two =', 'QQ==', true],
    ['with three =', 'Q===', false],
    ['with = inside', 'QU=JD', false],
    ['with a character out of the alphabet', 'QU-JD', false]
  ])('a PEM block %s', (_, body, passed) => {
    const block = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`
    write('etc/ssl/cert.pem', `${block}${CA}`)
    expect(native(endpoint('a.test/x:1')).ca).toEqual(passed ? [block, CA] : [CA])
  })

  test('a drop-in without credential-helpers keeps the main file’s', () => {
    write('etc/containers/registries.conf', 'credential-helpers = ["pass"]\n')
    write('etc/containers/registries.conf.d/1.conf', insecureConf('b.test'))
    expect(handoff(endpoint('a.test/x:1'))).toBe(`${path.join(root, 'etc/containers/registries.conf')} names the credential helper pass`)
  })

  test('an auth file that cannot be read for a reason without a code is left to skopeo', () => {
    const file = write('a.json', '{}')
    const readFileSync = fs.readFileSync
    jest.spyOn(fsModule, 'readFileSync').mockImplementation(((
      p: fs.PathOrFileDescriptor,
      o?: { encoding?: null; flag?: string } | null
    ) => {
      if (p === file) throw new Error('read refused')
      return readFileSync(p, o)
    }) as typeof fs.readFileSync)
    expect(handoff(endpoint('quay.io/app:1', {}, { authFile: file }))).toBe(`${file} cannot be read (error)`)
  })

  test('a *.crt that cannot be read for a reason without a code fails the read', () => {
    const file = write('etc/containers/certs.d/a.test/ca.crt', CA)
    const readFileSync = fs.readFileSync
    jest.spyOn(fsModule, 'readFileSync').mockImplementation(((
      p: fs.PathOrFileDescriptor,
      o?: { encoding?: null; flag?: string } | null
    ) => {
      if (p === file) throw new Error('read refused')
      return readFileSync(p, o)
    }) as typeof fs.readFileSync)
    expect(() => endpoint('a.test/x:1')).toThrow(`reading ${file}: error`)
  })

  test('a PEM block without its end line ends the bundle', () => {
    write('etc/ssl/cert.pem', `${CA}-----BEGIN CERTIFICATE-----\nQUJD\n`)
    expect(native(endpoint('a.test/x:1')).ca).toEqual([CA])
  })

  // A relative /run would be read under the working directory.
  test('without run, the runtime auth file is under the absolute /run', () => {
    write(`cwd/containers/1000/auth.json`, json({ auths: { 'quay.io': auth('relative', 'pw') } }))
    const cwd = process.cwd()
    process.chdir(path.join(root, 'cwd'))
    try {
      expect(native(config({}, { run: undefined }).endpointFor('quay.io/x:1', 'source', VERIFY)).credential).toBeUndefined()
    } finally {
      process.chdir(cwd)
    }
  })

  test('V1 is read in the user’s registries.conf (a main file, not a drop-in)', () => {
    write('home/.config/containers/registries.conf', '[registries.insecure]\nregistries = ["a.test"]\n')
    expect(native(config().endpointFor('a.test/x:1', 'destination', VERIFY)).insecure).toBe(true)
  })

  test('a registries.conf.d that cannot be listed for a reason without a code is left to skopeo', () => {
    const dir = path.join(root, 'etc/containers/registries.conf.d')
    fs.mkdirSync(dir, { recursive: true })
    refuseListing(dir, undefined)
    expect(handoff(endpoint('a.test/x:1'))).toBe(`reading ${dir}: error`)
  })

  test('a registries.conf that cannot be read for a reason without a code is left to skopeo', () => {
    const file = write('etc/containers/registries.conf', '')
    const readFileSync = fs.readFileSync
    jest.spyOn(fsModule, 'readFileSync').mockImplementation(((
      p: fs.PathOrFileDescriptor,
      o?: { encoding?: null; flag?: string } | null
    ) => {
      if (p === file) throw new Error('read refused')
      return readFileSync(p, o)
    }) as typeof fs.readFileSync)
    expect(handoff(endpoint('a.test/x:1'))).toBe(`reading ${file}: error`)
  })
})
