import { ArchTable, formatPlatform, isUnknownPlatform, parseArchMap, parsePlatform, Platform, platformKey } from '../../src/arch'

const p = (os: string, architecture: string, variant?: string): Platform => (variant ? { os, architecture, variant } : { os, architecture })

describe('platformKey', () => {
  test.each<[Platform, string]>([
    [p('linux', 'amd64'), 'linux/amd64'],
    [p('linux', 'amd64', 'v1'), 'linux/amd64'],
    [p('linux', 'amd64', 'v3'), 'linux/amd64/v3'],
    [p('linux', 'arm64'), 'linux/arm64'],
    [p('linux', 'arm64', 'v8'), 'linux/arm64'],
    [p('linux', 'arm64', 'v9'), 'linux/arm64/v9'],
    [p('linux', 'arm', 'v7'), 'linux/arm/v7'],
    [p('linux', 'arm', 'v6'), 'linux/arm/v6'],
    [p('linux', 'arm', 'v8'), 'linux/arm/v8'],
    [p('windows', 'amd64'), 'windows/amd64'],
    [{ os: 'linux', architecture: 's390x', variant: '' }, 'linux/s390x']
  ])('%j → %s', (platform, key) => {
    expect(platformKey(platform)).toBe(key)
  })

  test.each<[Platform, Platform, boolean]>([
    [p('linux', 'arm64', 'v8'), p('linux', 'arm64'), true],
    [p('linux', 'amd64', 'v1'), p('linux', 'amd64'), true],
    [p('linux', 'arm', 'v7'), p('linux', 'arm', 'v6'), false],
    [p('linux', 'arm', 'v7'), p('linux', 'arm'), false],
    [p('linux', 'amd64'), p('linux', 'amd64', 'v2'), false],
    [p('linux', 'amd64'), p('windows', 'amd64'), false]
  ])('%j and %j equal: %s', (a, b, same) => {
    expect(platformKey(a) === platformKey(b)).toBe(same)
  })
})

describe('parsePlatform', () => {
  test.each<[string, Platform | undefined]>([
    ['linux/amd64', p('linux', 'amd64')],
    ['linux/arm/v7', p('linux', 'arm', 'v7')],
    ['linux/arm64/v8', p('linux', 'arm64', 'v8')],
    ['  linux/riscv64  ', p('linux', 'riscv64')],
    ['linux/mips64le', p('linux', 'mips64le')],
    ['linux', undefined],
    ['', undefined],
    ['linux/arm/v7/extra', undefined],
    ['linux//amd64', undefined],
    ['Linux/amd64', undefined],
    ['linux/AMD64', undefined],
    ['linux/amd 64', undefined],
    ['/amd64', undefined]
  ])('%j → %j', (text, expected) => {
    expect(parsePlatform(text)).toEqual(expected)
  })

  test('formatPlatform is its inverse', () => {
    for (const text of ['linux/amd64', 'linux/arm/v7', 'freebsd/arm64/v8']) expect(formatPlatform(parsePlatform(text)!)).toBe(text)
  })
})

describe('isUnknownPlatform', () => {
  test.each<[Platform | undefined, boolean]>([
    [undefined, true],
    [p('unknown', 'unknown'), true],
    [p('linux', 'unknown'), true],
    [p('', 'amd64'), true],
    [p('linux', ''), true],
    [p('linux', 'amd64'), false]
  ])('%j → %s', (platform, unknown) => {
    expect(isUnknownPlatform(platform)).toBe(unknown)
  })
})

describe('ArchTable', () => {
  const table = new ArchTable()

  test.each<[string, Platform]>([
    ['x86_64', p('linux', 'amd64')],
    ['aarch64', p('linux', 'arm64')],
    ['ppc64le', p('linux', 'ppc64le')],
    ['s390x', p('linux', 's390x')],
    ['armhfp', p('linux', 'arm', 'v7')],
    ['i686', p('linux', '386')],
    ['amd64', p('linux', 'amd64')],
    ['arm64', p('linux', 'arm64')],
    ['arm', p('linux', 'arm', 'v7')],
    ['386', p('linux', '386')]
  ])('builtin %s is %j', (name, platform) => {
    expect(table.platform(name)).toEqual(platform)
  })

  test('unknown names have no platform', () => {
    expect(table.platform('riscv')).toBeUndefined()
    expect(table.platform('X86_64')).toBeUndefined()
  })

  test.each<[string, Platform]>([
    ['linux/amd64', p('linux', 'amd64')],
    ['linux/arm64/v8', p('linux', 'arm64', 'v8')],
    ['linux/arm/v7', p('linux', 'arm', 'v7')],
    ['linux/riscv64', p('linux', 'riscv64')],
    ['linux/mips64le', p('linux', 'mips64le')],
    ['windows/amd64', p('windows', 'amd64')]
  ])('a platform %s is a name for itself', (name, platform) => {
    expect(table.platform(name)).toEqual(platform)
  })

  test.each(['linux', 'linux/', '/amd64', 'Linux/amd64', 'linux/amd64/v1/x', ' linux/amd64', 'linux/amd64 '])('%j is no platform', name => {
    expect(table.platform(name)).toBeUndefined()
  })

  test('names() lists the Fedora names first', () => {
    expect(table.names().slice(0, 6)).toEqual(['x86_64', 'aarch64', 'ppc64le', 's390x', 'armhfp', 'i686'])
  })

  describe('nameFor', () => {
    const mapped = new ArchTable({ x64: p('linux', 'amd64'), armv6: p('linux', 'arm', 'v6'), loong: p('linux', 'loong64') })

    test.each<[string, ArchTable, Platform, string[], string | undefined]>([
      ['builtin Fedora name when nothing is asked for', table, p('linux', 'amd64'), [], 'x86_64'],
      ['builtin Fedora name for arm64/v8', table, p('linux', 'arm64', 'v8'), [], 'aarch64'],
      ['builtin Fedora name for arm/v7', table, p('linux', 'arm', 'v7'), [], 'armhfp'],
      ['asked-for OCI name beats the Fedora name', table, p('linux', 'amd64'), ['amd64'], 'amd64'],
      ['asked-for name matches a variant-less arm64 with v8', table, p('linux', 'arm64', 'v8'), ['arm64'], 'arm64'],
      ['asked-for names that do not match are passed over', table, p('linux', 'amd64'), ['aarch64', 's390x'], 'x86_64'],
      ['unknown asked-for names are passed over', table, p('linux', '386'), ['nonsense'], 'i686'],
      ['no name for arm/v6 in the builtin table', table, p('linux', 'arm', 'v6'), [], undefined],
      ['no name for an unknown platform', table, p('linux', 'riscv32'), ['x86_64'], undefined],
      ['no name for another os', table, p('windows', 'amd64'), [], undefined],
      ['arch-map name beats the builtin name', mapped, p('linux', 'amd64'), [], 'x64'],
      ['asked-for builtin name beats the arch-map name', mapped, p('linux', 'amd64'), ['x86_64'], 'x86_64'],
      ['asked-for OCI name beats the arch-map name', mapped, p('linux', 'amd64', 'v1'), ['amd64'], 'amd64'],
      ['arch-map adds arm/v6', mapped, p('linux', 'arm', 'v6'), [], 'armv6'],
      ['arch-map leaves arm/v7 alone', mapped, p('linux', 'arm', 'v7'), [], 'armhfp'],
      ['arch-map adds loong64', mapped, p('linux', 'loong64'), [], 'loong'],
      ['an asked-for platform name', table, p('linux', 'arm64', 'v8'), ['linux/amd64', 'linux/arm64'], 'linux/arm64'],
      ['an asked-for platform name with a variant', table, p('linux', 'arm', 'v7'), ['linux/arm/v7'], 'linux/arm/v7'],
      ['asked for by platform: another platform by its platform too', table, p('linux', 's390x'), ['linux/amd64'], 'linux/s390x'],
      ['asked for by platform: an unknown platform by its platform', mapped, p('linux', 'riscv32'), ['linux/amd64'], 'linux/riscv32'],
      ['asked for by platform: arm64 without its v8', table, p('linux', 'arm64', 'v8'), ['linux/amd64'], 'linux/arm64'],
      ['asked for by name: another platform by its builtin name', table, p('linux', 's390x'), ['amd64'], 's390x']
    ])('%s', (_, t, platform, preferred, expected) => {
      expect(t.nameFor(platform, preferred)).toBe(expected)
    })

    test('an arch-map override moves a builtin name to another platform', () => {
      const t = new ArchTable({ x86_64: p('linux', 'amd64', 'v3') })
      expect(t.platform('x86_64')).toEqual(p('linux', 'amd64', 'v3'))
      expect(t.nameFor(p('linux', 'amd64', 'v3'), [])).toBe('x86_64')
      expect(t.nameFor(p('linux', 'amd64'), [])).toBe('amd64')
      expect(t.nameFor(p('linux', 'amd64'), ['x86_64'])).toBe('amd64')
    })
  })
})

describe('parseArchMap', () => {
  test.each<[string, Record<string, Platform>]>([
    ['', {}],
    ['   \n', {}],
    ['{riscv64: linux/riscv64}', { riscv64: p('linux', 'riscv64') }],
    ['{rv: linux/riscv64, armv6: linux/arm/v6}', { rv: p('linux', 'riscv64'), armv6: p('linux', 'arm', 'v6') }],
    ['mips64el: linux/mips64le\nloongarch64: linux/loong64', { mips64el: p('linux', 'mips64le'), loongarch64: p('linux', 'loong64') }],
    ['"x86_64": "linux/amd64/v2"', { x86_64: p('linux', 'amd64', 'v2') }]
  ])('%j', (text, expected) => {
    expect(parseArchMap(text)).toEqual(expected)
  })

  test.each<[string, RegExp]>([
    ['{riscv64: linux/riscv64', /^not valid YAML: /],
    ['[riscv64, linux/riscv64]', /^must be a YAML mapping of arch name to os\/architecture\[\/variant\]/],
    ['riscv64', /^must be a YAML mapping/],
    ['42', /^must be a YAML mapping/],
    ['{RISCV64: linux/riscv64}', /^arch name "RISCV64" must be lowercase letters/],
    ['{"risc v": linux/riscv64}', /^arch name "risc v" must be/],
    ['{-rv: linux/riscv64}', /^arch name "-rv" must be/],
    ['{riscv64: linux}', /^"riscv64: linux" must map to os\/architecture\[\/variant\], e\.g\. linux\/riscv64$/],
    ['{riscv64: linux/riscv64/a/b}', /^"riscv64: linux\/riscv64\/a\/b" must map to/],
    ['{riscv64: 64}', /^"riscv64: 64" must map to/],
    ['{riscv64: }', /^"riscv64: null" must map to/],
    ['{riscv64: {os: linux}}', /^"riscv64: \{"os":"linux"\}" must map to/],
    ['{riscv64: Linux/RISCV64}', /^"riscv64: Linux\/RISCV64" must map to/],
    [`{riscv64: linux/${'a'.repeat(65)}}`, /must map to/]
  ])('%j is refused', (text, message) => {
    expect(() => parseArchMap(text)).toThrow(message)
  })

  // Each alias level multiplies the size; the YAML library caps alias use, this refuses it outright.
  test.each([
    'a: &a linux/amd64\nb: *a',
    'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
    '{x: &x linux/amd64, y: *x}'
  ])('aliases are refused: %j', text => {
    expect(() => parseArchMap(text)).toThrow(/^not valid YAML: Alias resolution is disabled/)
  })

  test('a huge arch-map is refused before parsing', () => {
    expect(() => parseArchMap(`{${'a: linux/amd64, '.repeat(1000)}}`)).toThrow(/^is 16002 characters long; at most 10000$/)
  })

  test.each<[string, string]>([
    ['{"rv\\n::set-output name=x::y": linux/riscv64}', 'arch name "rv\\n::set-output name=x::y" must be'],
    ['{rv: "linux/riscv64\\n::add-mask::x"}', '"rv: linux/riscv64\\n::add-mask::x" must map to'],
    ['{rv: "linux/\\u202eriscv64"}', '"rv: linux/\\u202eriscv64" must map to']
  ])('hostile text in %j is quoted escaped', (text, fragment) => {
    let message = ''
    try {
      parseArchMap(text)
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toContain(fragment)
    expect(message).not.toMatch(/[\n\r\u202e]/)
  })
})
