import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { parse as parseYaml } from 'yaml'
import { platformKey } from '../../src/arch'
import { parseCommands } from '../workflow-commands'
import { getInputs, Inputs, RENAMED_INPUTS } from '../../src/inputs'
import { destinations } from '../../src/inputs/destinations'
import { archTagFor, parseReference } from '../../src/inputs/references'
import { tlsFor } from '../../src/skopeo'
import { GetInput, InputError, parseList } from '../../src/inputs/values'

/** The action.yml defaults, as a runner applies them: every declared input, '' when it has no default. */
const action = parseYaml(fs.readFileSync(path.join(__dirname, '../../action.yml'), 'utf8')) as {
  inputs: Record<string, { required?: boolean; default?: string }>
}
const DEFAULTS: Record<string, string> = Object.fromEntries(Object.entries(action.inputs).map(([name, spec]) => [name, spec.default ?? '']))

const REQUIRED = {
  repo: 'fedora-minimal',
  tag: '40',
  arches: 'x86_64 aarch64',
  registries: 'registry.example.org quay.io/fedora'
}

/**
 * A fake `core.getInput`: only declared inputs (and the renamed ones, read to refuse them) can be
 * read, so a typo in src fails the test; and it trims unless told not to, as core does.
 */
function fakeGet(overrides: Record<string, string> = {}): GetInput {
  const values: Record<string, string> = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.keys(RENAMED_INPUTS).map(n => [n, ''])),
    ...REQUIRED,
    ...overrides
  }
  return (name, options) => {
    if (!(name in values)) throw new Error(`getInputs read undeclared input "${name}"`)
    return options?.trimWhitespace === false ? values[name] : values[name].trim()
  }
}

const inputs = (overrides: Record<string, string> = {}): Inputs => getInputs(fakeGet(overrides))

/** The error getInputs throws for these overrides (fails the test if it does not throw). */
function inputError(overrides: Record<string, string>, read: (o: Record<string, string>) => Inputs = inputs): InputError {
  try {
    read(overrides)
  } catch (e) {
    expect(e).toBeInstanceOf(InputError)
    return e as InputError
  }
  throw new Error(`getInputs accepted ${JSON.stringify(overrides)}`)
}

let tmp: string
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-test-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('action.yml', () => {
  test('declares the inputs getInputs reads, with the documented defaults', () => {
    expect(Object.keys(DEFAULTS).sort()).toEqual(
      [
        'repo',
        'tag',
        'arches',
        'registries',
        'aliases',
        'arch-tag-registry',
        'arch-tag',
        'arch-map',
        'missing-arch-policy',
        'format',
        'annotations',
        'atomic',
        'dry-run',
        'tls-verify',
        'auth-file',
        'username',
        'password',
        'cert-dir',
        'retries',
        'reads',
        'summary',
        'arch-images',
        'references',
        'attestations',
        'registry-auth'
      ].sort()
    )
    expect(DEFAULTS['arch-tag']).toBe('{tag}-{arch}')
    expect(DEFAULTS['missing-arch-policy']).toBe('fail')
    expect(DEFAULTS.retries).toBe('3')
    expect(DEFAULTS.reads).toBe('auto')
  })
})

describe('getInputs with only the required inputs', () => {
  test('applies every default', () => {
    const i = inputs()
    expect({ ...i, archTable: undefined }).toEqual({
      repo: 'fedora-minimal',
      tag: '40',
      arches: ['x86_64', 'aarch64'],
      registries: ['registry.example.org', 'quay.io/fedora'],
      aliases: [],
      archTagRegistry: 'registry.example.org',
      archTag: '{tag}-{arch}',
      archTable: undefined,
      policy: 'fail',
      reads: 'auto',
      format: 'oci',
      annotations: {},
      ignoredAnnotations: [],
      dryRun: false,
      atomic: true,
      tlsVerify: true,
      authFile: '',
      username: '',
      password: '',
      certDir: '',
      retries: 3,
      summary: 'true',
      archImages: {},
      references: [],
      attestations: 'drop',
      repos: ['fedora-minimal'],
      registryAuth: []
    })
    expect(i.archTable.platform('x86_64')).toEqual({ os: 'linux', architecture: 'amd64' })
  })

  test.each(['repo', 'tag', 'arches', 'registries'])('a missing "%s" is named', name => {
    expect(inputError({ [name]: '' }).message).toMatch(new RegExp(`^Input "${name}": is required`))
    expect(inputError({ [name]: '  \n ' }).message).toMatch(new RegExp(`^Input "${name}": is required`))
  })
})

describe('list inputs', () => {
  test.each<[string, string, string[]]>([
    ['spaces', 'x86_64 aarch64  s390x', ['x86_64', 'aarch64', 's390x']],
    ['commas', 'x86_64,aarch64,s390x', ['x86_64', 'aarch64', 's390x']],
    ['commas and spaces', 'x86_64, aarch64 ,s390x,', ['x86_64', 'aarch64', 's390x']],
    ['newlines (a YAML block scalar)', 'x86_64\naarch64\ns390x\n', ['x86_64', 'aarch64', 's390x']],
    ['CRLF and tabs', 'x86_64\r\n\taarch64\r\ns390x', ['x86_64', 'aarch64', 's390x']],
    ['a YAML flow list', '[x86_64, aarch64, s390x]', ['x86_64', 'aarch64', 's390x']],
    ['a YAML flow list over lines', '[\n  x86_64,\n  aarch64,\n  s390x\n]', ['x86_64', 'aarch64', 's390x']],
    ['a YAML flow list with quotes', `["x86_64", 'aarch64', s390x]`, ['x86_64', 'aarch64', 's390x']],
    ['one item', 'ppc64le', ['ppc64le']]
  ])('arches as %s', (_, value, expected) => {
    expect(inputs({ arches: value }).arches).toEqual(expected)
  })

  test.each<[string, string, string[]]>([
    ['empty', '', []],
    ['blank', ' \n ', []],
    ['an empty flow list', '[]', []],
    ['a flow list of numbers', '[41, 42]', ['41', '42']],
    ['words', 'latest rawhide', ['latest', 'rawhide']]
  ])('aliases %s', (_, value, expected) => {
    expect(inputs({ aliases: value }).aliases).toEqual(expected)
  })

  test.each<[string, string, string]>([
    ['arches', 'x86_64 aarch64 x86_64', '"x86_64" is listed twice'],
    ['arches', '[x86_64, x86_64]', '"x86_64" is listed twice'],
    ['aliases', 'latest,latest', '"latest" is listed twice'],
    ['registries', 'quay.io quay.io', '"quay.io" is listed twice'],
    ['registries', 'quay.io/fedora quay.io/fedora/', 'lists the same registry twice'],
    ['arches', '[x86_64, aarch64', 'is not a valid YAML flow list'],
    ['arches', '[x86_64, {a: b}]', 'must be a list of plain values'],
    ['arches', '[x86_64, [aarch64]]', 'must be a list of plain values']
  ])('%s = %j is refused', (name, value, fragment) => {
    const e = inputError({ [name]: value })
    expect(e.message.startsWith(`Input "${name}": `)).toBe(true)
    expect(e.message).toContain(fragment)
  })

  test('parseList names the input it was given', () => {
    expect(() => parseList('anything', 'a a')).toThrow(/^Input "anything": "a" is listed twice$/)
  })

  // YAML turns 1.0 into the number 1 and 010 into 10, so the alias "1.0" would be published as "1".
  test('a YAML flow list keeps tags that look like numbers verbatim', () => {
    expect(parseList('aliases', '[1.0, 010, 40.10]')).toEqual(['1.0', '010', '40.10'])
  })
})

describe('repo and tag grammar', () => {
  test.each(['fedora', 'fedora-minimal', 'fedora/fedora-minimal', 'a/b/c/d', 'a.b_c__d---e', 'f40', '0'])('repo %j is accepted', repo => {
    expect(inputs({ repo }).repo).toBe(repo)
  })

  test.each([
    'Fedora',
    'fedora-Minimal',
    'a//b',
    '/a',
    'a/',
    '-fedora',
    'fedora-',
    '.fedora',
    'a___b',
    'a..b',
    'fedora:40',
    'fedora@sha256',
    'fe|dora'
  ])('repo %j is refused', repo => {
    expect(inputError({ repo }).message).toMatch(/^Input "repo": ".*" is not a valid repository name/)
  })

  test('repo longer than 255 characters with the registry is refused', () => {
    const registries = 'quay.io/fedora' // "quay.io/fedora/" is 15 characters
    const fits = `${'a'.repeat(100)}/${'b'.repeat(139)}` // 240
    expect(inputs({ registries, repo: fits }).repo).toBe(fits)
    const repo = `${fits}b` // 241: 256 with the registry
    expect(inputError({ registries, repo }).message).toBe(`Input "repo": "quay.io/fedora/${repo}" is longer than 255 characters`)
  })

  test.each(['40', 'latest', 'Rawhide', '_x', 'v1.2.3-rc_1', 'a'.repeat(128 - '-aarch64'.length)])('tag %j is accepted', tag => {
    expect(inputs({ tag }).tag).toBe(tag)
  })

  test('a 128-character tag is a valid tag (only the per-arch tag gets too long)', () => {
    const tag = 'a'.repeat(128)
    expect(inputError({ tag }).message).toMatch(/^Input "arch-tag": gives "a{128}-x86_64" for x86_64, which is not a valid tag$/)
    expect(inputs({ tag, 'arch-tag': '{arch}' }).tag).toBe(tag)
  })

  test.each(['-40', '.40', 'a'.repeat(129), '40/1', '40:1', 'tag with space', 'ü'])('tag %j is refused', tag => {
    expect(inputError({ tag }).message).toMatch(/^Input "tag": ".*" is not a valid tag/)
  })

  test.each<[string, string]>([
    ['-latest', '"-latest" is not a valid tag'],
    ['40', '"40" is the same as input "tag"'],
    ['a'.repeat(129), 'is not a valid tag']
  ])('alias %j is refused', (aliases, fragment) => {
    const e = inputError({ aliases })
    expect(e.message.startsWith('Input "aliases": ')).toBe(true)
    expect(e.message).toContain(fragment)
  })
})

describe('registry prefixes', () => {
  test.each<[string, string]>([
    ['registry.fedoraproject.org', 'registry.fedoraproject.org'],
    ['quay.io/fedora', 'quay.io/fedora'],
    ['quay.io/fedora/', 'quay.io/fedora'],
    ['localhost:5000', 'localhost:5000'],
    ['127.0.0.1:5000/ns/sub', '127.0.0.1:5000/ns/sub'],
    ['registry.example.org:443/a/b-c', 'registry.example.org:443/a/b-c'],
    ['[::1]:5000', '[::1]:5000'],
    ['[2001:db8::1]/fedora', '[2001:db8::1]/fedora'],
    ['Registry.Example.ORG/fedora', 'Registry.Example.ORG/fedora']
  ])('%j is accepted as %j', (value, expected) => {
    expect(inputs({ registries: `example.org ${value}` }).registries).toEqual(['example.org', expected])
    expect(inputs({ 'arch-tag-registry': value }).archTagRegistry).toBe(expected)
  })

  // A one-item flow list of hex digits and dots is a list, not an IPv6 address (that has two colons or more).
  test.each<[string, string, string[]]>([
    ['aliases', '[1.0]', ['1.0']],
    ['aliases', '[40]', ['40']],
    ['aliases', '[beef]', ['beef']],
    ['arches', '[x86_64]', ['x86_64']]
  ])('%s: %j is a one-item list', (name, value, expected) => {
    expect(parseList(name, value)).toEqual(expected)
  })

  // An IPv6 registry starts with "[" too; it must not be taken for a YAML flow list.
  test.each(['[::1]:5000', '[2001:db8::1]/fedora'])('IPv6 %j alone (or first) in registries is accepted', value => {
    expect(inputs({ registries: value }).registries).toEqual([value])
  })

  test('IPv6 registries in a quoted YAML flow list', () => {
    expect(inputs({ registries: `["[::1]:5000", '[fd00::2]/ns']` }).registries).toEqual(['[::1]:5000', '[fd00::2]/ns'])
  })

  test.each([
    'https://quay.io/fedora',
    'http://localhost:5000',
    'docker://quay.io',
    'quay.io/Fedora',
    'quay.io/FEDORA/x',
    'quay.io//fedora',
    'quay.io:port',
    '-quay.io',
    'quay.io/fedora:40',
    '[::1'
  ])('%j is refused, naming registries or arch-tag-registry', value => {
    expect(inputError({ registries: value }).message.startsWith(`Input "registries": "${value}"`)).toBe(true)
    expect(inputError({ 'arch-tag-registry': value }).message.startsWith(`Input "arch-tag-registry": "${value}"`)).toBe(true)
  })

  test('a scheme gets its own explanation', () => {
    expect(inputError({ registries: 'https://quay.io' }).message).toBe(
      'Input "registries": "https://quay.io" must be a registry prefix without a scheme, e.g. quay.io/fedora'
    )
  })

  test('arch-tag-registry defaults to the first registry and can be elsewhere', () => {
    expect(inputs({ registries: 'b.example c.example' }).archTagRegistry).toBe('b.example')
    expect(inputs({ 'arch-tag-registry': 'staging.example:5000/builds' }).archTagRegistry).toBe('staging.example:5000/builds')
  })
})

describe('arches and arch-map', () => {
  test('an unknown arch is named, with the known ones', () => {
    const e = inputError({ arches: 'x86_64 riscv' })
    expect(e.message).toMatch(
      /^Input "arches": "riscv" is not a known arch; known: x86_64 aarch64 .*, or a platform such as linux\/arm64; name others with input "arch-map"$/
    )
  })

  test.each<[string, string, string]>([
    ['x86_64 amd64', 'x86_64', 'amd64'],
    ['aarch64, arm64', 'aarch64', 'arm64'],
    ['armhfp arm', 'armhfp', 'arm'],
    ['[i686, 386]', 'i686', '386']
  ])('%j are the same platform', (arches, first, second) => {
    expect(inputError({ arches }).message).toMatch(
      new RegExp(`^Input "arches": "${first}" and "${second}" are the same platform \\(linux/`)
    )
  })

  test('arch-map adds names', () => {
    const i = inputs({ arches: 'x86_64 rv64gc loong', 'arch-map': '{rv64gc: linux/riscv64, loong: linux/loong64}' })
    expect(i.arches).toEqual(['x86_64', 'rv64gc', 'loong'])
    expect(i.archTable.platform('rv64gc')).toEqual({ os: 'linux', architecture: 'riscv64' })
    expect(i.archTable.platform('loong')).toEqual({ os: 'linux', architecture: 'loong64' })
  })

  test('arch-map as a YAML block mapping', () => {
    const i = inputs({ arches: 'mips', 'arch-map': 'mips: linux/mips64le\narmv6: linux/arm/v6\n' })
    expect(i.archTable.platform('armv6')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' })
  })

  test('arch-map overrides a builtin name', () => {
    const i = inputs({ arches: 'armhfp', 'arch-map': '{armhfp: linux/arm/v6}' })
    expect(i.archTable.platform('armhfp')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' })
    // armhfp is now arm/v6, so it no longer collides with arm (arm/v7).
    expect(inputs({ arches: 'armhfp arm', 'arch-map': '{armhfp: linux/arm/v6}' }).arches).toEqual(['armhfp', 'arm'])
  })

  test('an arch-map name on the same platform as an asked-for arch collides', () => {
    expect(inputError({ arches: 'x86_64 x64', 'arch-map': '{x64: linux/amd64}' }).message).toBe(
      'Input "arches": "x86_64" and "x64" are the same platform (linux/amd64)'
    )
  })

  test.each<[string, string]>([
    ['{riscv64: linux}', '"riscv64: linux" must map to os/architecture[/variant]'],
    ['{riscv64: [linux, riscv64]}', 'must map to os/architecture[/variant]'],
    ['{RISCV: linux/riscv64}', 'arch name "RISCV" must be lowercase'],
    ['[riscv64]', 'must be a YAML mapping'],
    ['riscv64', 'must be a YAML mapping'],
    ['{riscv64: linux/riscv64', 'not valid YAML']
  ])('arch-map %j is refused', (map, fragment) => {
    const e = inputError({ 'arch-map': map })
    expect(e.message.startsWith('Input "arch-map": ')).toBe(true)
    expect(e.message).toContain(fragment)
  })
})

describe('arch-tag', () => {
  test.each<[string, string, string]>([
    ['{tag}-{arch}', 'aarch64', '40-aarch64'],
    ['{arch}', 'aarch64', 'aarch64'],
    ['{arch}-{tag}', 's390x', 's390x-40'],
    ['build-{tag}.{arch}.{tag}', 'x86_64', 'build-40.x86_64.40']
  ])('archTagFor(%j) for %s is %j', (template, arch, expected) => {
    expect(archTagFor(template, '40', arch)).toBe(expected)
  })

  test('a custom template is kept', () => {
    expect(inputs({ 'arch-tag': '{arch}-{tag}' }).archTag).toBe('{arch}-{tag}')
  })

  test.each<[string, string]>([
    ['{tag}', 'Input "arch-tag": "{tag}" must contain {arch}'],
    ['{tag}-{ARCH}', 'Input "arch-tag": "{tag}-{ARCH}" must contain {arch}'],
    ['{tag}-{arch}-{os}', 'Input "arch-tag": unknown placeholder {os}; use {tag} and {arch}'],
    ['{version}{arch}', 'Input "arch-tag": unknown placeholder {version}; use {tag} and {arch}'],
    ['.{arch}', 'Input "arch-tag": gives ".x86_64" for x86_64, which is not a valid tag'],
    ['{tag}/{arch}', 'Input "arch-tag": gives "40/x86_64" for x86_64, which is not a valid tag'],
    ['{arch}-{', 'Input "arch-tag": gives "x86_64-{" for x86_64, which is not a valid tag']
  ])('%j is refused', (template, message) => {
    expect(inputError({ 'arch-tag': template }).message).toBe(message)
  })

  test('a tag that is valid alone can give a per-arch tag over 128 characters', () => {
    const tag = 'a'.repeat(121) // 121 + "-x86_64" = 128: fine; 121 + "-aarch64" = 129: not
    expect(inputError({ tag, arches: 'x86_64 aarch64' }).message).toBe(
      `Input "arch-tag": gives "${tag}-aarch64" for aarch64, which is not a valid tag`
    )
    expect(inputs({ tag, arches: 'x86_64' }).tag).toBe(tag)
  })
})

describe('enums, booleans and numbers', () => {
  test.each(['fail', 'skip', 'hybrid', 'drop'])('missing-arch-policy %s', policy => {
    expect(inputs({ 'missing-arch-policy': policy }).policy).toBe(policy)
  })

  test.each(['oci', 'v2s2'])('format %s', format => {
    expect(inputs({ format }).format).toBe(format)
  })

  test.each<[string, string, string]>([
    ['missing-arch-policy', 'keep', 'Input "missing-arch-policy": "keep" must be one of fail, skip, hybrid, drop'],
    ['missing-arch-policy', 'FAIL', 'Input "missing-arch-policy": "FAIL" must be one of fail, skip, hybrid, drop'],
    ['format', 'docker', 'Input "format": "docker" must be one of oci, v2s2'],
    ['format', 'v2s1', 'Input "format": "v2s1" must be one of oci, v2s2'],
    ['dry-run', 'yes', 'Input "dry-run": "yes" must be true or false'],
    ['tls-verify', '0', 'Input "tls-verify": "0" must be true or false'],
    ['summary', 'on', 'Input "summary": "on" must be one of true, log, false'],
    ['retries', '-1', 'Input "retries": "-1" must be a whole number from 0 to 10'],
    ['retries', '11', 'Input "retries": "11" must be a whole number from 0 to 10'],
    ['retries', '2.5', 'Input "retries": "2.5" must be a whole number from 0 to 10'],
    ['retries', 'three', 'Input "retries": "three" must be a whole number from 0 to 10']
  ])('%s = %j is refused', (name, value, message) => {
    expect(inputError({ [name]: value }).message).toBe(message)
  })

  test.each<[string, string, keyof Inputs, boolean]>([
    ['dry-run', 'true', 'dryRun', true],
    ['dry-run', 'TRUE', 'dryRun', true],
    ['dry-run', ' false ', 'dryRun', false],
    ['tls-verify', 'false', 'tlsVerify', false],
    ['tls-verify', 'True', 'tlsVerify', true]
  ])('%s = %j gives %s %s', (name, value, key, expected) => {
    expect(inputs({ [name]: value })[key]).toBe(expected)
  })

  test.each<[string, number]>([
    ['0', 0],
    ['10', 10],
    [' 5 ', 5],
    ['', 3]
  ])('retries %j is %d', (retries, expected) => {
    expect(inputs({ retries }).retries).toBe(expected)
  })
})

describe('annotations', () => {
  test('key=value per line; values may hold = and spaces; blank lines ignored', () => {
    expect(
      inputs({
        annotations:
          'org.opencontainers.image.source=https://example.org/a?b=c\n\n  org.opencontainers.image.title = Fedora Minimal  \nvendor=\n'
      }).annotations
    ).toEqual({
      'org.opencontainers.image.source': 'https://example.org/a?b=c',
      'org.opencontainers.image.title': 'Fedora Minimal',
      vendor: ''
    })
  })

  test.each<[string, string]>([
    ['no-equals-sign', '"no-equals-sign" must be key=value'],
    ['=value', '"=value" must be key=value'],
    ['.key=value', '".key=value" must be key=value'],
    ['a key=value', '"a key=value" must be key=value'],
    ['a=1\na=2', '"a" is given twice']
  ])('%j is refused', (annotations, fragment) => {
    const e = inputError({ annotations })
    expect(e.message.startsWith('Input "annotations": ')).toBe(true)
    expect(e.message).toContain(fragment)
  })

  test('annotations with format v2s2 are refused, not dropped', () => {
    expect(inputError({ annotations: 'a=b', format: 'v2s2' }).message).toBe(
      'Input "annotations": index annotations need format "oci"; a Docker manifest list (v2s2) cannot carry them'
    )
    expect(inputs({ annotations: '', format: 'v2s2' }).format).toBe('v2s2')
  })
})

describe("annotations from docker/metadata-action's output, as is", () => {
  // DOCKER_METADATA_ANNOTATIONS_LEVELS=manifest,index: each label once per level.
  const META = [
    'manifest:org.opencontainers.image.title=app',
    'manifest:org.opencontainers.image.version=1.2.3',
    'index:org.opencontainers.image.title=app',
    'index:org.opencontainers.image.version=1.2.3'
  ].join('\n')

  test('index: lines go on the list, prefix stripped; manifest: lines are set aside, as given', () => {
    const i = inputs({ annotations: META })
    expect(i.annotations).toEqual({ 'org.opencontainers.image.title': 'app', 'org.opencontainers.image.version': '1.2.3' })
    expect(i.ignoredAnnotations).toEqual(['manifest:org.opencontainers.image.title', 'manifest:org.opencontainers.image.version'])
  })

  test("metadata-action's default (manifest level only): nothing for the list, nothing refused, even with v2s2", () => {
    const i = inputs({
      annotations: 'manifest:org.opencontainers.image.title=app\nmanifest:org.opencontainers.image.revision=abc',
      format: 'v2s2'
    })
    expect(i.annotations).toEqual({})
    expect(i.ignoredAnnotations).toHaveLength(2)
  })

  test.each<[string, Record<string, string>, string[]]>([
    ['index,manifest:k=v', { k: 'v' }, []],
    ['manifest,index:k=v', { k: 'v' }, []],
    ['manifest-descriptor:k=v', {}, ['manifest-descriptor:k']],
    ['index-descriptor:k=v', {}, ['index-descriptor:k']],
    ['manifest[linux/amd64]:k=v', {}, ['manifest[linux/amd64]:k']],
    ['manifest,manifest-descriptor[linux/arm64,linux/arm/v7]:k=v', {}, ['manifest,manifest-descriptor[linux/arm64,linux/arm/v7]:k']],
    ['index:k=a value: with colons=and equals', { k: 'a value: with colons=and equals' }, []],
    ['k=v\nindex:other=w', { k: 'v', other: 'w' }, []]
  ])('%j', (annotations, list, ignored) => {
    const i = inputs({ annotations })
    expect({ list: i.annotations, ignored: i.ignoredAnnotations }).toEqual({ list, ignored })
  })

  test.each<[string, string]>([
    [
      'manifests:k=v',
      '"manifests:k=v" has an unknown level; a prefix is one or more of index, manifest, manifest-descriptor, index-descriptor'
    ],
    ['Index:k=v', '"Index:k=v" has an unknown level'],
    ['index,:k=v', '"index,:k=v" has an unknown level'],
    [':k=v', '"\\u003ak=v" has an unknown level'],
    ['index[linux/amd64:k=v', 'has an unknown level'],
    ['index:=v', '"index:=v" must be key=value'],
    ['index[linux/amd64]:k=v', '"index[linux/amd64]:k=v": an index annotation is for every platform; drop "[linux/amd64]"'],
    ['index:k=1\nk=2', '"k" is given twice']
  ])('%j is refused, naming the input', (annotations, fragment) => {
    const e = inputError({ annotations })
    expect(e.message.startsWith('Input "annotations": ')).toBe(true)
    expect(e.message).toContain(fragment)
  })
})

describe('Docker Hub short names, as Docker reads them', () => {
  const X = `sha256:${'a'.repeat(64)}`
  const refs = (references: string, extra: Record<string, string> = {}): Inputs =>
    inputs({ repo: '', tag: '', registries: '', references, ...extra })

  test("metadata-action's tags for images: user/app and images: app", () => {
    const i = refs('user/app:1.2.3\nuser/app:latest\napp:1.2.3')
    expect(i.references).toEqual(['docker.io/user/app:1.2.3', 'docker.io/user/app:latest', 'docker.io/library/app:1.2.3'])
    expect(destinations(i)).toEqual(i.references)
    expect({ repo: i.repo, tag: i.tag, registries: i.registries }).toEqual({ repo: 'user/app', tag: '1.2.3', registries: ['docker.io'] })
  })

  test.each<[string, string]>([
    ['user/app:1', 'docker.io/user/app:1'],
    ['app:1', 'docker.io/library/app:1'],
    ['org/team/app:1', 'docker.io/org/team/app:1'],
    ['localhost/app:1', 'localhost/app:1'],
    ['LOCALHOST/app:1', 'LOCALHOST/app:1'],
    ['localhost:5000/app:1', 'localhost:5000/app:1'],
    ['registry.example.org/app:1', 'registry.example.org/app:1'],
    ['docker.io/app:1', 'docker.io/app:1']
  ])('references %j is %j', (given, qualified) => {
    expect(refs(given).references).toEqual([qualified])
  })

  test('a short name and its full form are the same destination', () => {
    expect(inputError({}, () => refs('user/app:1 docker.io/user/app:1')).message).toBe(
      'Input "references": "docker.io/user/app:1" names a destination listed already'
    )
    expect(inputError({}, () => refs('app:1 index.docker.io/library/app:1')).message).toMatch(/names a destination listed already/)
  })

  test('arch-images values: by digest and by tag', () => {
    const i = inputs({ 'arch-images': `{x86_64: user/app@${X}, aarch64: "app:build-arm"}` })
    expect(i.archImages).toEqual({ x86_64: `docker.io/user/app@${X}`, aarch64: 'docker.io/library/app:build-arm' })
  })

  test('an arch image under its short name is where a destination is: refused', () => {
    expect(inputError({}, () => refs('docker.io/library/app:1', { 'arch-images': '{x86_64: "app:1"}' })).message).toMatch(
      /^Input "references": "docker.io\/library\/app:1" is where the x86_64 image is read from/
    )
  })

  test.each<[string, string]>([
    ['myorg', 'docker.io/myorg'],
    ['myorg/team', 'docker.io/myorg/team'],
    ['localhost', 'localhost'],
    ['quay.io', 'quay.io']
  ])('registries %j is %j', (registry, qualified) => {
    const i = inputs({ registries: registry, repo: 'app', tag: '1', aliases: 'latest' })
    expect(i.registries).toEqual([qualified])
    expect(destinations(i)).toEqual([`${qualified}/app:1`, `${qualified}/app:latest`])
    expect(inputs({ 'arch-tag-registry': registry }).archTagRegistry).toBe(qualified)
  })

  test('a Docker Hub namespace and its full form are the same registry', () => {
    expect(inputError({ registries: 'myorg docker.io/myorg' }).message).toBe('Input "registries": lists the same registry twice')
    expect(inputError({ registries: 'myorg', 'arch-tag-registry': 'index.docker.io/myorg', aliases: '40-x86_64' }).message).toMatch(
      /^Input "aliases": "40-x86_64" is the per-arch tag of x86_64/
    )
  })

  test.each<[string, string, RegExp]>([
    ['references', 'User/app:1', /^Input "references": "User\/app:1" is not a reference such as/],
    ['references', 'app', /^Input "references": "app" must have a tag/],
    ['references', 'app@' + X, /^Input "references": "app@sha256:a+" must name a tag, not a digest/],
    ['references', 'u:hunter2@app:1', /^Input "references": "\*\*\*@app:1" must name a tag, not a digest$/],
    ['references', '/app:1', /^Input "references": "\/app:1" is not a reference such as/],
    ['registries', 'MyOrg', /^Input "registries": "MyOrg" is not a registry prefix/],
    ['arch-images', '{x86_64: "App:1"}', /^Input "arch-images": "App:1" is not a reference such as/]
  ])('%s %j is refused, naming the input', (name, value, message) => {
    const e = inputError({}, () =>
      name === 'references' ? refs(value) : name === 'registries' ? inputs({ registries: value }) : inputs({ 'arch-images': value })
    )
    expect(e.message).toMatch(message)
    expect(e.message).not.toContain('hunter2')
  })
})

describe('platform names wherever an arch is named', () => {
  test('arches as platforms: kept as given, each its platform', () => {
    const i = inputs({ arches: 'linux/amd64,linux/arm64,linux/arm/v7' })
    expect(i.arches).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7'])
    expect(i.arches.map(a => i.archTable.platform(a))).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' }
    ])
  })

  test('a platform and a name for it are the same platform', () => {
    expect(inputError({ arches: 'x86_64 linux/amd64' }).message).toBe(
      'Input "arches": "x86_64" and "linux/amd64" are the same platform (linux/amd64)'
    )
    expect(inputError({ arches: 'linux/arm64 linux/arm64/v8' }).message).toMatch(/are the same platform \(linux\/arm64\)/)
  })

  test('arch-images keyed by platform: arches from the keys', () => {
    const X = `sha256:${'a'.repeat(64)}`
    const i = inputs({
      repo: '',
      tag: '',
      registries: '',
      arches: '',
      references: 'ghcr.io/o/app:1',
      'arch-images': `linux/amd64: ghcr.io/o/app@${X}\nlinux/arm/v7: ghcr.io/o/app@${X}`
    })
    expect(i.arches).toEqual(['linux/amd64', 'linux/arm/v7'])
    expect(Object.keys(i.archImages)).toEqual(['linux/amd64', 'linux/arm/v7'])
  })

  test('per-arch tags of platforms have dashes for slashes', () => {
    expect(archTagFor('{tag}-{arch}', '40', 'linux/arm/v7')).toBe('40-linux-arm-v7')
    expect(inputError({ arches: 'linux/amd64', aliases: '40-linux-amd64' }).message).toMatch(
      /^Input "aliases": "40-linux-amd64" is the per-arch tag of linux\/amd64/
    )
  })

  test.each(['linux', 'linux/', '/arm64', 'linux/arm64/v8/x', 'Linux/arm64', 'linux//arm64', 'linux/arm 64'])('%j is refused', arches => {
    expect(inputError({ arches: JSON.stringify([arches]) }).message).toMatch(/^Input "arches": ".*" is not a known arch/)
  })
})

describe('renamed inputs', () => {
  test.each(Object.entries(RENAMED_INPUTS))('%s is refused, naming %s', (old, renamed) => {
    expect(inputError({ [old]: 'x' }).message).toBe(`Input "${old}": was renamed to "${renamed}"; use "${renamed}" instead`)
  })

  test('action.yml declares the new names only', () => {
    for (const [old, renamed] of Object.entries(RENAMED_INPUTS)) expect([old in DEFAULTS, renamed in DEFAULTS]).toEqual([false, true])
  })
})

describe('summary', () => {
  test.each(['true', 'log', 'false'])('%s', summary => {
    expect(inputs({ summary }).summary).toBe(summary)
  })

  test('the default is true', () => {
    expect(DEFAULTS.summary).toBe('true')
    expect(inputs().summary).toBe('true')
  })
})

describe('credentials and certificates', () => {
  test('username with password', () => {
    const i = inputs({ username: ' bot ', password: ' s3cret ' })
    expect(i.username).toBe('bot')
    expect(i.password).toBe(' s3cret ') // passwords are taken verbatim
  })

  test.each<[Record<string, string>, string]>([
    [{ username: 'bot' }, 'Input "password": is required when "username" is set'],
    [{ password: 's3cret' }, 'Input "username": is required when "password" is set']
  ])('%j is refused', (overrides, message) => {
    expect(inputError(overrides).message).toBe(message)
  })

  test('the password never appears in an input error', () => {
    expect(inputError({ password: 'hunter2-secret' }).message).not.toContain('hunter2-secret')
  })

  test('auth-file that exists is used', () => {
    const file = path.join(tmp, 'auth.json')
    fs.writeFileSync(file, '{"auths":{}}')
    expect(inputs({ 'auth-file': file }).authFile).toBe(file)
  })

  test('auth-file with username is refused', () => {
    const file = path.join(tmp, 'auth2.json')
    fs.writeFileSync(file, '{"auths":{}}')
    expect(inputError({ 'auth-file': file, username: 'bot', password: 'x' }).message).toBe(
      'Input "auth-file": cannot be combined with "username"/"password"; use one of them'
    )
  })

  test.each<[string, () => string]>([
    ['does not exist', () => path.join(tmp, 'nope.json')],
    ['is a directory', () => tmp]
  ])('auth-file that %s is refused', (_, file) => {
    expect(inputError({ 'auth-file': file() }).message).toBe(`Input "auth-file": "${file()}" is not a readable file`)
  })

  test('cert-dir that exists is used', () => {
    expect(inputs({ 'cert-dir': tmp }).certDir).toBe(tmp)
  })

  test.each<[string, () => string]>([
    ['does not exist', () => path.join(tmp, 'no-certs')],
    [
      'is a file',
      () => {
        const f = path.join(tmp, 'ca.crt')
        fs.writeFileSync(f, '')
        return f
      }
    ]
  ])('cert-dir that %s is refused', (_, dir) => {
    const d = dir()
    expect(inputError({ 'cert-dir': d }).message).toBe(`Input "cert-dir": "${d}" is not a directory`)
  })
})

describe('destinations', () => {
  test('registry-major: the tag first, then the aliases in order', () => {
    expect(
      destinations({
        registries: ['a.example', 'b.example:5000/ns'],
        repo: 'fedora/minimal',
        tag: '40',
        aliases: ['latest', 'f40'],
        references: []
      })
    ).toEqual([
      'a.example/fedora/minimal:40',
      'a.example/fedora/minimal:latest',
      'a.example/fedora/minimal:f40',
      'b.example:5000/ns/fedora/minimal:40',
      'b.example:5000/ns/fedora/minimal:latest',
      'b.example:5000/ns/fedora/minimal:f40'
    ])
  })

  test('from parsed inputs', () => {
    expect(destinations(inputs({ aliases: 'latest' }))).toEqual([
      'registry.example.org/fedora-minimal:40',
      'registry.example.org/fedora-minimal:latest',
      'quay.io/fedora/fedora-minimal:40',
      'quay.io/fedora/fedora-minimal:latest'
    ])
  })
})

test('platformKey of parsed arches is what collisions compare', () => {
  const i = inputs({ arches: 'x86_64 aarch64 armhfp' })
  expect(i.arches.map(a => platformKey(i.archTable.platform(a)!))).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7'])
})

describe('inputs that would destroy data', () => {
  test.each<[Record<string, string>, string]>([
    [
      { aliases: '40-x86_64' },
      'Input "aliases": "40-x86_64" is the per-arch tag of x86_64 (arch-tag "{tag}-{arch}"); publishing the list there would replace that image'
    ],
    [{ aliases: 'latest 40-aarch64' }, 'Input "aliases": "40-aarch64" is the per-arch tag of aarch64'],
    [{ tag: 'x86_64', 'arch-tag': '{arch}' }, 'Input "tag": "x86_64" is the per-arch tag of x86_64 (arch-tag "{arch}")'],
    [{ aliases: 'aarch64', 'arch-tag': '{arch}' }, 'Input "aliases": "aarch64" is the per-arch tag of aarch64'],
    [{ aliases: 'build-40', 'arch-tag': 'build-{tag}{arch}', arches: 'x86_64', 'arch-map': '' }, ''],
    [{ aliases: 'x86_64-40', 'arch-tag': '{arch}-{tag}' }, 'Input "aliases": "x86_64-40" is the per-arch tag of x86_64'],
    // The same place spelled otherwise: host case, Docker Hub's aliases and its implicit library/.
    [
      { registries: 'localhost:5000', 'arch-tag-registry': 'LOCALHOST:5000', aliases: '40-x86_64' },
      'Input "aliases": "40-x86_64" is the per-arch tag'
    ],
    [
      { registries: 'Quay.io/fedora', 'arch-tag-registry': 'quay.IO/fedora', aliases: '40-x86_64' },
      'Input "aliases": "40-x86_64" is the per-arch tag'
    ],
    [
      { registries: 'docker.io/fedora', 'arch-tag-registry': 'index.docker.io/fedora', aliases: '40-x86_64' },
      'Input "aliases": "40-x86_64" is the per-arch tag'
    ],
    [
      { registries: 'registry-1.docker.io/fedora', 'arch-tag-registry': 'docker.io/fedora', aliases: '40-x86_64' },
      'Input "aliases": "40-x86_64" is the per-arch tag'
    ],
    [
      { registries: 'docker.io', repo: 'alpine', 'arch-tag-registry': 'docker.io/library', aliases: '40-x86_64' },
      'Input "aliases": "40-x86_64" is the per-arch tag'
    ]
  ])('%j', (overrides, message) => {
    // An empty message: accepted.
    expect(message ? inputError(overrides).message.startsWith(message) : inputs(overrides).aliases).toEqual(
      message ? true : [overrides.aliases]
    )
  })

  test('a per-arch tag of an arch this run does not read is a fine alias', () => {
    expect(inputs({ arches: 'x86_64', aliases: '40-aarch64' }).aliases).toEqual(['40-aarch64'])
  })

  test.each<[string, string]>([
    ['quay.io/fedora Quay.IO/fedora', 'Input "registries": lists the same registry twice'],
    ['docker.io/library index.docker.io/library', 'Input "registries": lists the same registry twice'],
    ['registry-1.docker.io/x docker.io/x', 'Input "registries": lists the same registry twice'],
    ['quay.io/fedora quay.io/fedora/', 'Input "registries": lists the same registry twice']
  ])('registries %j are the same destination', (registries, message) => {
    expect(inputError({ registries }).message).toBe(message)
  })

  test('the same host under other paths is not a duplicate', () => {
    expect(inputs({ registries: 'quay.io/fedora quay.io/fedora-mirror quay.io' }).registries).toEqual([
      'quay.io/fedora',
      'quay.io/fedora-mirror',
      'quay.io'
    ])
  })

  test.each(['latest latest', 'latest, latest', '[latest, latest]'])('aliases %j: listed twice', aliases => {
    expect(inputError({ aliases }).message).toBe('Input "aliases": "latest" is listed twice')
  })
})

describe('the password is taken verbatim', () => {
  test.each([' leading', 'trailing ', '  both  ', '\ttab', 'line1\nline2', ' '])('%j', password => {
    expect(inputs({ username: 'bot', password }).password).toBe(password)
  })

  test('only the inputs that hold passwords are read untrimmed', () => {
    const untrimmed: string[] = []
    const get = fakeGet({ username: 'bot', password: 'pw' })
    getInputs((name, options) => {
      if (options?.trimWhitespace === false) untrimmed.push(name)
      return get(name, options)
    })
    expect(untrimmed.sort()).toEqual(['password', 'registry-auth'])
  })

  test.each<[string, string]>([
    ['bot:admin', 'Input "username": "bot:admin" must not hold \':\''],
    ['bot\n::add-mask::x', 'Input "username": "bot\\n::add-mask::x" must not hold'],
    ['b\u202eot', 'Input "username": "b\\u202eot" must not hold'],
    ['u'.repeat(257), 'Input "username": "uuu']
  ])('username %j is refused', (username, start) => {
    expect(inputError({ username, password: 'pw' }).message.startsWith(start)).toBe(true)
  })
})

describe('registries with credentials in them', () => {
  test.each<[string, string]>([
    ['https://bot:hunter2@quay.io/fedora', '"https://***@quay.io/fedora" must not hold credentials'],
    ['bot:hunter2@quay.io', '"***@quay.io" must not hold credentials'],
    ['token@quay.io/fedora', '"***@quay.io/fedora" must not hold credentials']
  ])('%j is refused without quoting the password', (registries, fragment) => {
    const e = inputError({ registries })
    expect(e.message).toContain(fragment)
    expect(e.message).not.toContain('hunter2')
    expect(inputError({ 'arch-tag-registry': registries }).message).not.toContain('hunter2')
  })
})

describe('auth-file must be a containers auth file', () => {
  const write = (name: string, content: string): string => {
    const file = path.join(tmp, name)
    fs.writeFileSync(file, content)
    return file
  }

  test.each([
    ['auths', '{"auths": {"quay.io": {"auth": "Ym90OnB3"}}}'],
    ['credHelpers only', '{"credHelpers": {"quay.io": "secretservice"}}'],
    ["docker's credsStore only", '{"credsStore": "pass"}'],
    ['empty auths', '{"auths": {}}']
  ])('%s is accepted', (name, content) => {
    const file = write(`ok-${name.replace(/\W/g, '')}.json`, content)
    expect(inputs({ 'auth-file': file }).authFile).toBe(file)
  })

  test.each([
    ['a password file', 'root:$y$j9T$abcdefsecret:19000:0:99999:7:::\n', 'does not hold JSON'],
    ['JSON without auths', '{"user": "root", "secret": "s3cr3t-value"}', 'has no "auths" or "credHelpers" object'],
    ['a JSON array', '[{"auths": {}}]', 'has no "auths" or "credHelpers" object'],
    ['auths that is not an object', '{"auths": "s3cr3t-value"}', 'has no "auths" or "credHelpers" object'],
    ['empty', '', 'does not hold JSON']
  ])('%s is refused, naming the input, never quoting the content', (name, content, fragment) => {
    const file = write(`bad-${name.replace(/\W/g, '')}`, content)
    const e = inputError({ 'auth-file': file })
    expect(e.message).toBe(`Input "auth-file": "${file}" ${fragment}; it must be a containers auth file (auth.json) or docker config.json`)
    expect(e.message).not.toMatch(/secret|s3cr3t|root:/)
  })

  test('a file over 1 MiB is refused', () => {
    const file = write('big.json', `{"auths": {}, "pad": "${'x'.repeat(1 << 20)}"}`)
    expect(inputError({ 'auth-file': file }).message).toBe(
      `Input "auth-file": "${file}" is larger than 1048576 bytes; it is not an auth file`
    )
  })

  test.each(['/dev/null', '/dev/zero'])('%s (not a regular file) is refused', file => {
    expect(inputError({ 'auth-file': file }).message).toBe(`Input "auth-file": "${file}" is not a readable file`)
  })

  test('/proc/self/environ (which holds INPUT_PASSWORD on a runner) is refused without quoting it', () => {
    const e = inputError({ 'auth-file': '/proc/self/environ' })
    expect(e.message).toBe(
      'Input "auth-file": "/proc/self/environ" does not hold JSON; it must be a containers auth file (auth.json) or docker config.json'
    )
  })

  // Root reads every mode: the permission case runs for other users only; /proc/self/mem fails to read
  // (EIO at offset 0) for every user, root too, so an unreadable file is covered either way.
  const withoutPermission = (): string => {
    const file = write('unreadable.json', '{"auths": {}}')
    fs.chmodSync(file, 0o000)
    return file
  }
  test.each<[string, () => string]>([
    ['a regular file whose read fails (/proc/self/mem)', () => '/proc/self/mem'],
    ...(process.getuid?.() === 0 ? [] : [['a file without read permission', withoutPermission] as [string, () => string]])
  ])('%s is refused as not readable', (_name, make) => {
    const file = make()
    expect(inputError({ 'auth-file': file }).message).toBe(`Input "auth-file": "${file}" is not a readable file`)
  })
})

describe('hostile values are quoted inert', () => {
  const hostile = '\n::set-output name=digest::evil\n::add-mask::x'
  test.each<[string, string]>([
    ['repo', `fedora${hostile}`],
    ['tag', `40${hostile}`],
    ['aliases', `[latest${hostile}]`],
    ['registries', `[quay.io${hostile}]`],
    ['arch-tag-registry', `quay.io${hostile}`],
    ['arches', `[x86_64${hostile}]`],
    ['arch-tag', `{arch}${hostile}`],
    ['arch-map', `{rv: "linux/riscv64${hostile}"}`],
    ['missing-arch-policy', `fail${hostile}`],
    ['format', `oci${hostile}`],
    ['annotations', `a b${hostile}`],
    ['dry-run', `true${hostile}`],
    ['retries', `3${hostile}`],
    ['auth-file', `/tmp${hostile}`],
    ['cert-dir', `/tmp/no${hostile}`],
    ['username', `bot${hostile}`]
  ])('%s', (name, value) => {
    const e = inputError({ [name]: value, ...(name === 'username' ? { password: 'pw' } : {}) })
    expect(e.message).toMatch(/^Input "[a-z-]+": /)
    expect(e.message).not.toMatch(/[\r\n]/)
    expect(parseCommands(e.message)).toEqual([])
  })

  test('a 10 kB value is cut in the message', () => {
    const e = inputError({ tag: 'a'.repeat(10_240) })
    expect(e.message).toBe(
      `Input "tag": "${'a'.repeat(300)}…" is not a valid tag (letters, digits, _ . -; at most 128; not starting with . or -)`
    )
  })

  test('YAML aliases in a flow list are refused', () => {
    expect(inputError({ arches: '[&a x86_64, *a]' }).message).toBe(
      'Input "arches": "[&a x86_64, *a]" is not a valid YAML flow list (aliases are not allowed)'
    )
  })
})

describe('arch-images and references (the docker/build-push-action pipeline)', () => {
  const X = `sha256:${'a'.repeat(64)}`
  const A = `sha256:${'b'.repeat(64)}`
  const DIGESTS = `{x86_64: ghcr.io/o/app@${X}, aarch64: ghcr.io/o/app@${A}}`
  const TAGS = 'ghcr.io/o/app:1.2.3\nghcr.io/o/app:latest\nquay.io/o/app:1.2.3'
  const pipeline = (extra: Record<string, string> = {}): Inputs =>
    inputs({ repo: '', tag: '', registries: '', arches: '', 'arch-images': DIGESTS, references: TAGS, ...extra })

  test('arch-images by digest and metadata-action tags: arches from the keys, destinations as given', () => {
    const i = pipeline()
    expect(i.arches).toEqual(['x86_64', 'aarch64'])
    expect(i.archImages).toEqual({ x86_64: `ghcr.io/o/app@${X}`, aarch64: `ghcr.io/o/app@${A}` })
    expect(destinations(i)).toEqual(['ghcr.io/o/app:1.2.3', 'ghcr.io/o/app:latest', 'quay.io/o/app:1.2.3'])
    expect({ repo: i.repo, tag: i.tag, registries: i.registries, archTagRegistry: i.archTagRegistry }).toEqual({
      repo: 'o/app',
      tag: '1.2.3',
      registries: ['ghcr.io', 'quay.io'],
      archTagRegistry: 'ghcr.io'
    })
  })

  test('arch-images by tag, with arches given', () => {
    const i = inputs({ 'arch-images': '{x86_64: "registry.example.org/fedora-minimal:40-build-x86_64"}', arches: 'x86_64 aarch64' })
    expect(i.archImages).toEqual({ x86_64: 'registry.example.org/fedora-minimal:40-build-x86_64' })
    expect(i.arches).toEqual(['x86_64', 'aarch64'])
  })

  test.each<[string, Record<string, string>, string, RegExp]>([
    ['arch-images with arch-tag', { 'arch-tag': '{arch}-{tag}' }, 'arch-tag', /must be empty \(or the default\) when "arch-images" is set/],
    [
      'arch-images with arch-tag-registry',
      { 'arch-tag-registry': 'ghcr.io/o' },
      'arch-tag-registry',
      /must be empty when "arch-images" is set/
    ],
    ['references with repo', { repo: 'x' }, 'repo', /must be empty when "references" is set/],
    ['references with registries', { registries: 'quay.io' }, 'registries', /must be empty/],
    ['references with aliases', { aliases: 'latest' }, 'aliases', /must be empty/],
    ['a reference without a tag', { references: 'ghcr.io/o/app' }, 'references', /must have a tag/],
    ['a reference by digest', { references: `ghcr.io/o/app@${X}` }, 'references', /must name a tag, not a digest/],
    [
      'a short name with an uppercase namespace',
      { references: 'O/app:1' },
      'references',
      /^Input "references": "O\/app:1" is not a reference such as/
    ],
    ['a short name without a tag', { references: 'user/app' }, 'references', /"user\/app" must have a tag/],
    ['a short name with a bad tag', { references: 'app:-1' }, 'references', /"app:-1" has an invalid tag/],
    ['a reference with a scheme', { references: 'https://ghcr.io/o/app:1' }, 'references', /without a scheme/],
    ['a reference with credentials', { references: 'u:p@ghcr.io/o/app:1' }, 'references', /without a scheme or credentials/],
    ['an uppercase repository', { references: 'ghcr.io/O/app:1' }, 'references', /lowercase repository path/],
    ['a bad tag', { references: 'ghcr.io/o/app:-x' }, 'references', /invalid tag/],
    ['the same destination twice (host case)', { references: 'ghcr.io/o/app:1 GHCR.io/o/app:1' }, 'references', /listed already/],
    [
      'a reference that is a source image',
      { 'arch-images': '{x86_64: ghcr.io/o/app:1.2.3}' },
      'references',
      /is where the x86_64 image is read from/
    ],
    [
      'a reference that is a source image, host spelled otherwise',
      { 'arch-images': '{x86_64: GHCR.IO/o/app:1.2.3}' },
      'references',
      /is where the x86_64 image is read from/
    ],
    ['arch-images not a mapping', { 'arch-images': '[a, b]' }, 'arch-images', /must be a mapping/],
    ['arch-images with an alias bomb', { 'arch-images': 'a: &a [x]\nb: *a' }, 'arch-images', /aliases are not allowed/],
    ['arch-images with an unknown arch', { 'arch-images': `{mips: ghcr.io/o/app@${X}}` }, 'arch-images', /"mips" is not a known arch/],
    [
      'arch-images with a platform of one part',
      { 'arch-images': `{linux/: ghcr.io/o/app@${X}}` },
      'arch-images',
      /"linux\/" is not a known arch/
    ],
    ['an arch image that is not a reference', { 'arch-images': '{x86_64: "not a ref"}' }, 'arch-images', /not a reference/],
    ['an arch image with a bad digest', { 'arch-images': '{x86_64: ghcr.io/o/app@sha256:abc}' }, 'arch-images', /invalid digest/],
    ['an arch-images arch not in arches', { arches: 'aarch64' }, 'arch-images', /names "x86_64", which is not in "arches"/],
    [
      'the old input sources',
      { sources: DIGESTS },
      'sources',
      /^Input "sources": was renamed to "arch-images"; use "arch-images" instead$/
    ],
    [
      'the old input source',
      { source: 'ghcr.io/o' },
      'source',
      /^Input "source": was renamed to "arch-tag-registry"; use "arch-tag-registry" instead$/
    ],
    ['attestations keep with v2s2', { attestations: 'keep', format: 'v2s2' }, 'attestations', /needs format "oci"/],
    ['attestations not an option', { attestations: 'some' }, 'attestations', /must be one of drop, keep/]
  ])('%s is refused, naming the input', (_, extra, name, message) => {
    const { message: text } = inputError(extra, pipeline)
    expect(text).toMatch(new RegExp(`^Input "${name}": `))
    expect(text).toMatch(message)
  })
})

describe('a release set: several repositories, each registry its own login', () => {
  const certs = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'certs-'))

  test.each<[string, string[]]>([
    ['fedora fedora-minimal fedora-toolbox', ['fedora', 'fedora-minimal', 'fedora-toolbox']],
    ['[fedora, fedora-bootc]', ['fedora', 'fedora-bootc']],
    ['fedora\natomic/silverblue', ['fedora', 'atomic/silverblue']]
  ])('repo %j', (repo, repos) => {
    const i = inputs({ repo })
    expect(i.repos).toEqual(repos)
    expect(i.repo).toBe(repos[0])
  })

  test('registry-auth: prefixes as written, longest first; settings parsed; passwords verbatim', () => {
    const dir = certs()
    const i = inputs({
      'registry-auth': `quay.io: {username: all, password: "pw "}\nquay.io/fedora: {username: fedora+releng, password: tok}\nregistry.example.org: {cert-dir: ${dir}, tls-verify: "false"}`
    })
    expect(i.registryAuth).toEqual([
      { prefix: 'registry.example.org', certDir: dir, tlsVerify: false },
      { prefix: 'quay.io/fedora', username: 'fedora+releng', password: 'tok' },
      { prefix: 'quay.io', username: 'all', password: 'pw ' }
    ])
    // The TLS settings of a reference come from the entry it is under (skopeo's and buildah's flags).
    const access = { tlsVerify: true, registries: i.registryAuth, env: {}, retries: 0 }
    expect(tlsFor(access, 'Registry.Example.org/x:1')).toEqual({ tlsVerify: false, certDir: dir })
    expect(tlsFor(access, 'registry.example.org.evil/x:1')).toEqual({ tlsVerify: true, certDir: undefined })
    fs.rmSync(dir, { recursive: true })
  })

  test.each<[string, Record<string, string>, RegExp]>([
    ['not a mapping', { 'registry-auth': '[a]' }, /must be a mapping/],
    ['a username without a password', { 'registry-auth': 'quay.io: {username: a}' }, /needs both username and password/],
    ['an unknown setting', { 'registry-auth': 'quay.io: {user: a}' }, /unknown settings "user"/],
    ['a prefix with a scheme', { 'registry-auth': 'https://quay.io: {username: a, password: b}' }, /without a scheme/],
    ['a cert-dir that is not a directory', { 'registry-auth': 'quay.io: {cert-dir: /nonexistent}' }, /is not a directory/],
    ['tls-verify not a boolean', { 'registry-auth': 'quay.io: {tls-verify: maybe}' }, /must be true or false/],
    ['the same registry twice', { 'registry-auth': 'quay.io: {tls-verify: "true"}\nQUAY.io: {tls-verify: "false"}' }, /given twice/],
    ['YAML aliases', { 'registry-auth': 'a: &x {username: u, password: p}\nb: *x' }, /aliases are not allowed/],
    ['logins with auth-file', { 'registry-auth': 'quay.io: {username: a, password: b}', 'auth-file': '/nonexistent' }, /./],
    [
      'several repositories with arch-images',
      { repo: 'a b', 'arch-images': '{x86_64: ghcr.io/o/a:1}' },
      /^Input "repo": must name one repository when "arch-images" is set/
    ]
  ])('refused: %s', (_, extra, message) => {
    expect(inputError(extra).message).toMatch(message)
  })

  test('a password in registry-auth is never quoted back', () => {
    expect(inputError({ 'registry-auth': 'quay.io: {username: a, password: s3cr3t-value, extra: 1}' }).message).not.toContain(
      's3cr3t-value'
    )
  })
})

/**
 * What the mutation run of src/inputs/*.ts (issue 19) found no test for: each test below fails with
 * the mutant it names applied to src/inputs.
 */
describe('mutation run: values.ts', () => {
  // Shown by String(e) and in stack traces: `this.name = ""` would print "Error: ..." there.
  test('an InputError is named InputError', () => {
    expect(String(inputError({ tag: '-1' }))).toMatch(/^InputError: Input "tag": /)
  })

  test('parseList trims its value before looking for a flow list', () => {
    expect(parseList('aliases', ' [a, b] ')).toEqual(['a', 'b'])
  })

  test('parseList trims quoted items of a flow list', () => {
    expect(parseList('arches', '[" x86_64 ", aarch64]')).toEqual(['x86_64', 'aarch64'])
  })

  test('an IPv6 registry (no port) followed by a space and another registry is not a flow list', () => {
    expect(inputs({ registries: '[::1] quay.io' }).registries).toEqual(['[::1]', 'quay.io'])
  })

  // YAML keeps the spaces of a quoted value; parseBool drops them as core.getInput would.
  test('a quoted tls-verify in registry-auth is trimmed', () => {
    expect(inputs({ 'registry-auth': 'quay.io: {tls-verify: " false "}' }).registryAuth).toEqual([{ prefix: 'quay.io', tlsVerify: false }])
  })

  // isObject(null) must be false (typeof null is 'object'): JSON null is refused by name, not a TypeError.
  test('an auth file holding JSON null is refused as not an auth file', () => {
    const file = path.join(tmp, 'null.json')
    fs.writeFileSync(file, 'null')
    expect(inputError({ 'auth-file': file }).message).toBe(
      `Input "auth-file": "${file}" has no "auths" or "credHelpers" object; it must be a containers auth file (auth.json) or docker config.json`
    )
  })
})

describe('mutation run: annotations.ts', () => {
  test('a line of spaces between annotations is blank', () => {
    expect(inputs({ annotations: 'a=1\n   \nb=2' }).annotations).toEqual({ a: '1', b: '2' })
  })

  test('a prefix with one known and one unknown level is refused', () => {
    expect(inputError({ annotations: 'index,manifests:k=v' }).message).toMatch(
      /^Input "annotations": "index,manifests:k=v" has an unknown level/
    )
  })
})

describe('mutation run: destinations.ts', () => {
  const byReference = { repo: '', tag: '', registries: '' }

  test('a reference given twice verbatim is named as listed twice', () => {
    expect(inputError({ ...byReference, references: 'ghcr.io/o/app:1 ghcr.io/o/app:1' }).message).toBe(
      'Input "references": "ghcr.io/o/app:1" is listed twice'
    )
  })

  test('references give no aliases', () => {
    expect(inputs({ ...byReference, references: 'ghcr.io/o/app:1 ghcr.io/o/app:latest' }).aliases).toEqual([])
  })

  test('a repository given twice is named as listed twice', () => {
    expect(inputError({ repo: 'fedora fedora' }).message).toBe('Input "repo": "fedora" is listed twice')
  })
})

describe('mutation run: files.ts', () => {
  test('an auth file of exactly 1 MiB is accepted', () => {
    const shell = '{"auths": {}, "pad": ""}'
    const file = path.join(tmp, 'one-mib.json')
    fs.writeFileSync(file, `{"auths": {}, "pad": "${'x'.repeat((1 << 20) - shell.length)}"}`)
    expect(fs.statSync(file).size).toBe(1 << 20)
    expect(inputs({ 'auth-file': file }).authFile).toBe(file)
  })

  // A run reads it once, but a leaked descriptor is a leak wherever checkAuthFile is called from.
  test('the auth file is closed after it is read', () => {
    const file = path.join(tmp, 'closed.json')
    fs.writeFileSync(file, '{"auths": {}}')
    const openFiles = (): number => fs.readdirSync('/proc/self/fd').length
    const before = openFiles()
    for (let i = 0; i < 10; i++) inputs({ 'auth-file': file })
    expect(openFiles() - before).toBeLessThan(10)
  })
})

describe('mutation run: overwrites.ts', () => {
  const X = `sha256:${'a'.repeat(64)}`

  // An image read by digest has no tag: no destination tag (not even "undefined") is where it is.
  test('an arch image by digest alone is not where a destination tagged "undefined" is', () => {
    const i = inputs({
      repo: '',
      tag: '',
      registries: '',
      references: 'ghcr.io/o/app:undefined',
      'arch-images': `{x86_64: ghcr.io/o/app@${X}}`
    })
    expect(i.references).toEqual(['ghcr.io/o/app:undefined'])
  })

  test('with several repositories, a per-arch tag of one of them is refused', () => {
    expect(inputError({ repo: 'fedora fedora-minimal', aliases: '40-x86_64' }).message).toMatch(
      /^Input "aliases": "40-x86_64" is the per-arch tag of x86_64/
    )
  })
})

describe('mutation run: references.ts', () => {
  const X = `sha256:${'a'.repeat(64)}`
  const byReference = (references: string): Record<string, string> => ({ repo: '', tag: '', registries: '', references })

  // Where the refusal says what is wrong: an "@" or "://" after a path part is not credentials or a scheme.
  test.each(['quay.io/fedora@x', 'quay.io/a://b@c', 'quay.io/a://b'])('registries %j is refused as not a registry prefix', registries => {
    expect(inputError({ registries }).message).toBe(
      `Input "registries": "${registries}" is not a registry prefix such as registry.example.org or quay.io/fedora (path parts are lowercase)`
    )
  })

  test('trailing slashes of a registry are dropped, however many', () => {
    expect(inputs({ registries: 'quay.io/fedora//' }).registries).toEqual(['quay.io/fedora'])
  })

  test('an "@" after the first "/" of a reference is not credentials', () => {
    expect(inputError(byReference('ghcr.io/o/a@b/c:1')).message).toBe(
      'Input "references": "ghcr.io/o/a@b/c:1" must name a tag, not a digest'
    )
  })

  test('an arch image by digest on a registry with a port is accepted', () => {
    expect(inputs({ 'arch-images': `{x86_64: "localhost:5000/app@${X}"}`, arches: 'x86_64' }).archImages).toEqual({
      x86_64: `localhost:5000/app@${X}`
    })
  })

  test('a reference whose host is not a host name is refused', () => {
    expect(inputError(byReference('-quay.io/app:1')).message).toMatch(/^Input "references": "-quay\.io\/app:1" is not a reference such as/)
  })

  test('a repository of 255 characters, registry included, is accepted; 256 is refused', () => {
    const at = (length: number): string => `quay.io/${'a'.repeat(length - 'quay.io/'.length)}:1`
    expect(inputs(byReference(at(255))).references).toEqual([at(255)])
    expect(inputError(byReference(at(256))).message).toBe(`Input "references": "${at(256)}" is longer than 255 characters`)
  })

  test('an arch image with neither tag nor digest is refused, asking for either', () => {
    expect(inputError({ 'arch-images': '{x86_64: ghcr.io/o/app}', arches: 'x86_64' }).message).toBe(
      'Input "arch-images": "ghcr.io/o/app" must have a tag or a digest'
    )
  })

  test('a destination without a tag is refused, asking for a tag', () => {
    expect(inputError(byReference('ghcr.io/o/app')).message).toBe('Input "references": "ghcr.io/o/app" must have a tag')
  })

  // No input asks for a tag but allows a digest; parseReference still refuses a digest alone then.
  test('parseReference: a required tag is not replaced by a digest', () => {
    expect(() => parseReference('x', `ghcr.io/o/app@${X}`, { tag: 'required', digest: 'optional' })).toThrow(
      new InputError('x', `"ghcr.io/o/app@${X}" must have a tag`)
    )
  })
})

describe('mutation run: index.ts', () => {
  const X = `sha256:${'a'.repeat(64)}`

  test('an arch image that is not a plain value is refused', () => {
    expect(inputError({ 'arch-images': '{x86_64: [a]}', arches: 'x86_64' }).message).toBe(
      'Input "arch-images": the image of "x86_64" must be a reference'
    )
  })

  // YAML's failsafe schema: `~` is the text "~", not null, and is refused as a reference.
  test('arch-images values are read as text', () => {
    expect(inputError({ 'arch-images': '{x86_64: ~}', arches: 'x86_64' }).message).toMatch(
      /^Input "arch-images": "~" is not a reference such as/
    )
  })

  test('a quoted arch image is trimmed', () => {
    expect(inputs({ 'arch-images': `{x86_64: " ghcr.io/o/app@${X} "}`, arches: 'x86_64' }).archImages).toEqual({
      x86_64: `ghcr.io/o/app@${X}`
    })
  })

  test('attestations keep with format oci is accepted', () => {
    expect(inputs({ attestations: 'keep', format: 'oci' }).attestations).toBe('keep')
  })

  test.each<[string, string, string]>([
    ['atomic', 'yes', 'Input "atomic": "yes" must be true or false'],
    ['reads', 'buildah', 'Input "reads": "buildah" must be one of auto, skopeo']
  ])('%s = %j is refused, naming the input', (name, value, message) => {
    expect(inputError({ [name]: value }).message).toBe(message)
  })
})
