import * as core from '../../src/runner'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { prepareCredentials, registryHost, removeCredentials, secretsIn } from '../../src/auth'
import { childEnv } from '../../src/env'
import type { Inputs } from '../../src/inputs'
import { inputs as allInputs } from './builders'

/** Every input, with the registries prepareCredentials logs in to. */
function inputs(overrides: Partial<Inputs>): Inputs {
  return allInputs({
    archTagRegistry: 'staging.example.org:5000/builds',
    registries: ['registry.fedoraproject.org', 'quay.io/fedora', 'quay.io/fedora-mirror', '[::1]:5000/ns'],
    ...overrides
  })
}

let runnerTemp: string
let setSecret: jest.SpyInstance
const envBefore = { ...process.env }

beforeEach(() => {
  runnerTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-test-'))
  setSecret = jest.spyOn(core, 'setSecret').mockImplementation(() => undefined)
})
afterEach(() => {
  fs.rmSync(runnerTemp, { recursive: true, force: true })
  jest.restoreAllMocks()
})

describe('registryHost', () => {
  test.each<[string, string]>([
    ['quay.io', 'quay.io'],
    ['quay.io/fedora', 'quay.io'],
    ['registry.example.org:5000/a/b', 'registry.example.org:5000'],
    ['[::1]:5000/ns', '[::1]:5000'],
    ['localhost:5000', 'localhost:5000']
  ])('%s → %s', (prefix, host) => {
    expect(registryHost(prefix)).toBe(host)
  })
})

describe('username and password', () => {
  const password = 'p@ss:w0rd "quoted" \\ ü'

  test('go into a private auth file in RUNNER_TEMP, one entry per registry host', () => {
    const env = { PATH: '/usr/bin', RUNNER_TEMP: runnerTemp }
    const c = prepareCredentials(inputs({ username: 'bot', password }), env)

    expect(c.tempDir).toBeDefined()
    expect(path.dirname(c.tempDir as string)).toBe(runnerTemp)
    expect(path.basename(c.tempDir as string)).toMatch(/^multiarch-publish-auth-/)
    expect(c.authFile).toBe(path.join(c.tempDir as string, 'auth.json'))
    expect(fs.statSync(c.authFile as string).mode & 0o777).toBe(0o600)
    expect(fs.statSync(c.tempDir as string).mode & 0o777).toBe(0o700)

    const auth = Buffer.from(`bot:${password}`).toString('base64')
    const doc = JSON.parse(fs.readFileSync(c.authFile as string, 'utf8'))
    expect(doc).toEqual({
      auths: {
        'staging.example.org:5000': { auth },
        'registry.fedoraproject.org': { auth },
        'quay.io': { auth },
        '[::1]:5000': { auth }
      }
    })
    expect(Buffer.from(doc.auths['quay.io'].auth, 'base64').toString()).toBe(`bot:${password}`)

    // The same content as DOCKER_CONFIG/config.json, for tools that ignore REGISTRY_AUTH_FILE.
    const config = path.join(c.tempDir as string, 'config.json')
    expect(fs.statSync(config).mode & 0o777).toBe(0o600)
    expect(JSON.parse(fs.readFileSync(config, 'utf8'))).toEqual(doc)

    expect(c.env).toEqual({ PATH: '/usr/bin', RUNNER_TEMP: runnerTemp, REGISTRY_AUTH_FILE: c.authFile, DOCKER_CONFIG: c.tempDir })
    expect(env).toEqual({ PATH: '/usr/bin', RUNNER_TEMP: runnerTemp }) // the caller's env is not changed
    removeCredentials(c)
  })

  test('mask the password, its base64 `user:password` and URL-encoded forms', () => {
    const c = prepareCredentials(inputs({ username: 'bot', password }), { RUNNER_TEMP: runnerTemp })
    expect(setSecret).toHaveBeenCalledWith(password)
    expect(setSecret).toHaveBeenCalledWith(Buffer.from(`bot:${password}`).toString('base64'))
    expect(setSecret).toHaveBeenCalledWith(encodeURIComponent(password))
    removeCredentials(c)
  })

  test('a multi-line password: masked whole, line by line, and escaped', () => {
    const multi = 'first line\nsecond line\r\n third '
    const c = prepareCredentials(inputs({ username: 'bot', password: multi }), { RUNNER_TEMP: runnerTemp })
    for (const form of [multi, 'first line', 'second line', ' third ', 'third', 'first line\\nsecond line\\r\\n third ']) {
      expect(setSecret).toHaveBeenCalledWith(form)
    }
    removeCredentials(c)
  })

  test('children get no inputs, tokens or file-command paths, and no variable holding the password', () => {
    const env = {
      PATH: '/usr/bin',
      RUNNER_TEMP: runnerTemp,
      INPUT_PASSWORD: password,
      INPUT_USERNAME: 'bot',
      ACTIONS_RUNTIME_TOKEN: 'rt',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
      GITHUB_TOKEN: 'ghs',
      GITHUB_OUTPUT: '/out',
      GITHUB_STATE: '/state',
      MY_COPY: password,
      CONTAINERS_REGISTRIES_CONF: '/etc/containers/registries.conf',
      HTTPS_PROXY: 'http://proxy:3128'
    }
    const c = prepareCredentials(inputs({ username: 'bot', password }), env)
    expect(c.env).toEqual({
      PATH: '/usr/bin',
      RUNNER_TEMP: runnerTemp,
      CONTAINERS_REGISTRIES_CONF: '/etc/containers/registries.conf',
      HTTPS_PROXY: 'http://proxy:3128',
      REGISTRY_AUTH_FILE: c.authFile,
      DOCKER_CONFIG: c.tempDir
    })
    removeCredentials(c)
  })

  test('a password with spaces at either end is written as given', () => {
    const c = prepareCredentials(inputs({ username: 'bot', password: '  padded pw  ' }), { RUNNER_TEMP: runnerTemp })
    const doc = JSON.parse(fs.readFileSync(c.authFile as string, 'utf8'))
    expect(Buffer.from(doc.auths['quay.io'].auth, 'base64').toString()).toBe('bot:  padded pw  ')
    removeCredentials(c)
  })

  test('do not touch process.env', () => {
    const c = prepareCredentials(inputs({ username: 'bot', password }), { ...process.env, RUNNER_TEMP: runnerTemp })
    expect(c.env.REGISTRY_AUTH_FILE).toBe(c.authFile)
    expect(c.env.DOCKER_CONFIG).toBe(c.tempDir)
    expect(process.env).toEqual(envBefore)
    expect(process.env.REGISTRY_AUTH_FILE).toBe(envBefore.REGISTRY_AUTH_FILE)
    expect(process.env.DOCKER_CONFIG).toBe(envBefore.DOCKER_CONFIG)
    removeCredentials(c)
  })

  test('the arch-tag registry alone counts when it is also a registry', () => {
    const c = prepareCredentials(
      inputs({ username: 'u', password: 'p', archTagRegistry: 'quay.io/fedora', registries: ['quay.io/fedora'] }),
      {
        RUNNER_TEMP: runnerTemp
      }
    )
    expect(Object.keys(JSON.parse(fs.readFileSync(c.authFile as string, 'utf8')).auths)).toEqual(['quay.io'])
    removeCredentials(c)
  })

  test('without RUNNER_TEMP the file goes to the system temp dir', () => {
    const c = prepareCredentials(inputs({ username: 'u', password: 'p' }), {})
    expect(path.dirname(c.tempDir as string)).toBe(os.tmpdir())
    removeCredentials(c)
    expect(fs.existsSync(c.tempDir as string)).toBe(false)
  })

  test('two runs get different files', () => {
    const a = prepareCredentials(inputs({ username: 'u', password: 'p' }), { RUNNER_TEMP: runnerTemp })
    const b = prepareCredentials(inputs({ username: 'u', password: 'p' }), { RUNNER_TEMP: runnerTemp })
    expect(a.authFile).not.toBe(b.authFile)
    removeCredentials(a)
    expect(fs.existsSync(b.authFile as string)).toBe(true)
    removeCredentials(b)
  })

  test('removeCredentials deletes the directory and both files', () => {
    const c = prepareCredentials(inputs({ username: 'bot', password }), { RUNNER_TEMP: runnerTemp })
    expect(fs.readdirSync(c.tempDir as string).sort()).toEqual(['auth.json', 'config.json'])
    removeCredentials(c)
    expect(fs.existsSync(c.tempDir as string)).toBe(false)
    expect(fs.readdirSync(runnerTemp)).toEqual([])
    expect(() => removeCredentials(c)).not.toThrow() // twice is fine (main step, then post step)
  })
})

describe('auth-file', () => {
  test('is used as given, for every tool', () => {
    const file = path.join(runnerTemp, 'my-auth.json')
    fs.writeFileSync(file, '{"auths":{}}')
    const env = { PATH: '/usr/bin', RUNNER_TEMP: runnerTemp, REGISTRY_AUTH_FILE: '/elsewhere.json' }
    const c = prepareCredentials(inputs({ authFile: file }), env)
    expect(c).toEqual({ authFile: file, env: { PATH: '/usr/bin', RUNNER_TEMP: runnerTemp, REGISTRY_AUTH_FILE: file } })
    expect(env.REGISTRY_AUTH_FILE).toBe('/elsewhere.json')
    expect(fs.readdirSync(runnerTemp)).toEqual(['my-auth.json']) // nothing written
    expect(fs.readFileSync(file, 'utf8')).toBe('{"auths":{}}')
    removeCredentials(c)
    expect(fs.existsSync(file)).toBe(true) // never deleted: it is the user's
  })

  test("the file's credentials are masked, the password inside `auth` too", () => {
    const file = path.join(runnerTemp, 'my-auth.json')
    const auth = Buffer.from('bot:file-pw').toString('base64')
    fs.writeFileSync(
      file,
      JSON.stringify({
        auths: { 'quay.io': { auth }, 'ghcr.io': { identitytoken: 'idt' }, 'x.io': { registrytoken: 'rt', password: 'pw' }, 'y.io': {} },
        credHelpers: { 'z.io': 'pass' }
      })
    )
    expect(secretsIn(file).sort()).toEqual([auth, 'file-pw', 'idt', 'pw', 'rt'].sort())
    prepareCredentials(inputs({ authFile: file }), { RUNNER_TEMP: runnerTemp })
    for (const secret of [auth, 'file-pw', 'idt', 'pw', 'rt']) expect(setSecret).toHaveBeenCalledWith(secret)
  })

  test.each(['not json', '[]', 'null', '{"auths": 5}', '{"auths": {"a": null, "b": "x"}}'])('secretsIn of %j finds none', text => {
    const file = path.join(runnerTemp, 'odd.json')
    fs.writeFileSync(file, text)
    expect(secretsIn(file)).toEqual([])
  })

  test('children do not get the inputs either', () => {
    const file = path.join(runnerTemp, 'my-auth.json')
    fs.writeFileSync(file, '{"auths":{}}')
    const c = prepareCredentials(inputs({ authFile: file }), { PATH: '/bin', 'INPUT_AUTH-FILE': file, ACTIONS_RUNTIME_TOKEN: 'rt' })
    expect(c.env).toEqual({ PATH: '/bin', REGISTRY_AUTH_FILE: file })
  })
})

describe('neither', () => {
  test('no auth file; the environment (a prior login) is passed on untouched', () => {
    const env = {
      PATH: '/usr/bin',
      RUNNER_TEMP: runnerTemp,
      REGISTRY_AUTH_FILE: '/run/containers/0/auth.json',
      DOCKER_CONFIG: '/home/u/.docker'
    }
    const c = prepareCredentials(inputs({}), env)
    expect(c).toEqual({ env })
    expect(c.authFile).toBeUndefined()
    expect(c.tempDir).toBeUndefined()
    expect(c.env).not.toBe(env) // a copy
    expect(fs.readdirSync(runnerTemp)).toEqual([])
    expect(setSecret).not.toHaveBeenCalled()
  })

  test('children do not get the inputs or the runner tokens', () => {
    const env = {
      PATH: '/usr/bin',
      REGISTRY_AUTH_FILE: '/run/containers/0/auth.json',
      INPUT_TAG: '40',
      ACTIONS_RUNTIME_TOKEN: 'rt',
      GITHUB_STATE: '/s'
    }
    expect(prepareCredentials(inputs({}), env).env).toEqual({ PATH: '/usr/bin', REGISTRY_AUTH_FILE: '/run/containers/0/auth.json' })
  })

  test('defaults to process.env', () => {
    const c = prepareCredentials(inputs({}))
    expect(c.env).toEqual(childEnv(process.env))
    expect(c.env).not.toBe(process.env)
  })
})

describe('registry-auth: each registry its own login', () => {
  test('keys as written (host/namespace), the step-wide login for the hosts they do not name, every password masked', () => {
    const c = prepareCredentials(
      inputs({
        username: 'everyone',
        password: 'common-pw',
        registryAuth: [
          { prefix: 'quay.io/fedora', username: 'fedora+releng', password: 'robot-token' },
          { prefix: 'registry.fedoraproject.org', certDir: '/etc/pki/x' }
        ]
      }),
      { RUNNER_TEMP: runnerTemp }
    )
    const doc = JSON.parse(fs.readFileSync(c.authFile as string, 'utf8')) as { auths: Record<string, { auth: string }> }
    const decoded = Object.fromEntries(Object.entries(doc.auths).map(([k, v]) => [k, Buffer.from(v.auth, 'base64').toString()]))
    expect(decoded).toEqual({
      'quay.io/fedora': 'fedora+releng:robot-token',
      'staging.example.org:5000': 'everyone:common-pw',
      'registry.fedoraproject.org': 'everyone:common-pw',
      'quay.io': 'everyone:common-pw',
      '[::1]:5000': 'everyone:common-pw'
    })
    const masked = setSecret.mock.calls.map(call => call[0] as string)
    expect(masked).toEqual(
      expect.arrayContaining(['robot-token', 'common-pw', Buffer.from('fedora+releng:robot-token').toString('base64')])
    )
    removeCredentials(c)
  })

  test('registry-auth logins alone, without a step-wide one', () => {
    const c = prepareCredentials(inputs({ registryAuth: [{ prefix: 'quay.io/fedora', username: 'robot', password: 'tok' }] }), {
      RUNNER_TEMP: runnerTemp
    })
    expect(Object.keys((JSON.parse(fs.readFileSync(c.authFile as string, 'utf8')) as { auths: object }).auths)).toEqual(['quay.io/fedora'])
    removeCredentials(c)
  })
})
