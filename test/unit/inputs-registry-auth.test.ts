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

/** The mutation run of src/inputs/*.ts (issue 19): each test fails with the mutant it names applied. */
describe('mutation run: registry-auth.ts', () => {
  // Each refusal names the input (a mutant emptied the name in each), and says exactly what is wrong.
  test.each<[string, string, string]>([
    [
      'a list, not a mapping',
      '[a]',
      'must be a mapping from a registry prefix to its settings, e.g. {quay.io/fedora: {username: …, password: …}}'
    ],
    ['invalid YAML', 'quay.io: {', 'is not valid YAML (aliases are not allowed); its text is not shown, it may hold passwords'],
    [
      'a prefix with a scheme',
      'https://quay.io: {tls-verify: "true"}',
      '"https://quay.io" must be a registry prefix without a scheme, e.g. quay.io/fedora'
    ],
    ['the same prefix twice', 'quay.io: {tls-verify: "true"}\nQUAY.io: {tls-verify: "false"}', '"QUAY.io" is given twice'],
    ['settings that are a list', 'quay.io: [a]', 'the settings of "quay.io" must be a mapping of username, password, cert-dir, tls-verify'],
    [
      'two unknown settings',
      'quay.io: {user: a, pass: b}',
      '"quay.io" has unknown settings "user", "pass"; known: username, password, cert-dir, tls-verify'
    ],
    ['a username that is a list', 'quay.io: {username: [a], password: b}', 'username of "quay.io" must be a plain value'],
    ['a username without a password', 'quay.io: {username: a}', '"quay.io" needs both username and password'],
    // Not ignored: a password without a username would otherwise drop the login silently.
    ['a password without a username', 'quay.io: {password: s3cr3t}', '"quay.io" needs both username and password'],
    ['a cert-dir that does not exist', 'quay.io: {cert-dir: /nonexistent}', 'cert-dir of "quay.io", "/nonexistent", is not a directory'],
    ['a tls-verify that is not a boolean', 'quay.io: {tls-verify: maybe}', '"maybe" must be true or false']
  ])('refused: %s', (_what, text, message) => {
    expect(refusal({ 'registry-auth': text })).toBe(`Input "registry-auth": ${message}`)
  })

  // The input is read untrimmed (it holds passwords), so blank text must be recognised as blank.
  test('blank text is no settings', () => {
    expect(inputs({ 'registry-auth': '  \n  ' }).registryAuth).toEqual([])
  })

  // YAML's failsafe schema: unquoted true and 123456 stay the strings written, as a password must.
  test('unquoted values are read as strings', () => {
    expect(inputs({ 'registry-auth': 'quay.io: {username: bot, password: 123456, tls-verify: false}' }).registryAuth).toEqual([
      { prefix: 'quay.io', username: 'bot', password: '123456', tlsVerify: false }
    ])
  })

  test('a quoted username and cert-dir are trimmed (the password is not)', () => {
    const dir = path.dirname(authFile)
    expect(inputs({ 'registry-auth': `quay.io: {username: " bot ", password: " pw ", cert-dir: " ${dir} "}` }).registryAuth).toEqual([
      { prefix: 'quay.io', username: 'bot', password: ' pw ', certDir: dir }
    ])
  })
})
