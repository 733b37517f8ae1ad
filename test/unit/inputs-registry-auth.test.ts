/**
 * Two refusals of `registry-auth` that no other test kills when removed (issue 19): logins together
 * with `auth-file` (the login would be ignored and its password never masked), and a username the
 * auth file cannot hold (`user:password` splits at the first ':').
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { parse as parseYaml } from 'yaml'
import { getInputs, Inputs } from '../../src/inputs'
import { InputError } from '../../src/inputs/values'

const action = parseYaml(fs.readFileSync(path.join(__dirname, '../../action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>
}
const DEFAULTS: Record<string, string> = Object.fromEntries(Object.entries(action.inputs).map(([name, spec]) => [name, spec.default ?? '']))
const REQUIRED = { repo: 'fedora-minimal', tag: '40', arches: 'x86_64 aarch64', registries: 'quay.io/fedora' }

/** getInputs with action.yml's defaults; as core.getInput does, '' for an input not given, trimmed unless told not to. */
const inputs = (overrides: Record<string, string>): Inputs => {
  const values: Record<string, string> = { ...DEFAULTS, ...REQUIRED, ...overrides }
  return getInputs((name, options) => (options?.trimWhitespace === false ? (values[name] ?? '') : (values[name] ?? '').trim()))
}

/** The message of the InputError getInputs throws, or a failure naming what it accepted. */
function refusal(overrides: Record<string, string>): string {
  try {
    inputs(overrides)
  } catch (e) {
    if (!(e instanceof InputError)) throw e
    return e.message
  }
  throw new Error(`getInputs accepted ${JSON.stringify(overrides)}`)
}

let authFile: string
beforeAll(() => {
  // A valid auth file, so that nothing but the combination is refused.
  authFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'registry-auth-test-')), 'auth.json')
  fs.writeFileSync(authFile, JSON.stringify({ auths: { 'quay.io': { auth: Buffer.from('bot:pw').toString('base64') } } }))
})
afterAll(() => fs.rmSync(path.dirname(authFile), { recursive: true, force: true }))

describe('registry-auth with auth-file', () => {
  test('the auth file alone is accepted', () => {
    expect(inputs({ 'auth-file': authFile }).authFile).toBe(authFile)
  })

  test('TLS settings only: accepted alongside the auth file', () => {
    expect(inputs({ 'auth-file': authFile, 'registry-auth': 'quay.io: {tls-verify: "false"}' }).registryAuth).toEqual([
      { prefix: 'quay.io', tlsVerify: false }
    ])
  })

  test('a login: refused, naming both inputs', () => {
    expect(refusal({ 'auth-file': authFile, 'registry-auth': 'quay.io/fedora: {username: bot, password: s3cr3t}' })).toMatch(
      /^Input "registry-auth": cannot give usernames and passwords together with "auth-file"/
    )
  })
})

describe('registry-auth usernames', () => {
  const login = (username: string): Record<string, string> => ({
    'registry-auth': `quay.io: {username: ${JSON.stringify(username)}, password: pw}`
  })

  test.each([
    ['256 characters', 'u'.repeat(256)],
    ['a robot account', 'fedora+releng'],
    ['an e-mail address', 'bot@example.org']
  ])('accepted: %s', (_what, username) => {
    expect(inputs(login(username)).registryAuth[0].username).toBe(username)
  })

  test.each([
    ["a ':' (org:bot would log in as org)", 'org:bot'],
    ['257 characters', 'u'.repeat(257)],
    ['a control character', 'bot\u0007'],
    ['a line break inside', 'bot\nroot'],
    ['a format character', 'bot\u200b']
  ])('refused: %s', (_what, username) => {
    expect(refusal(login(username))).toMatch(
      /^Input "registry-auth": the username of "quay\.io" must not hold ':' or control characters, and at most 256/
    )
  })
})
