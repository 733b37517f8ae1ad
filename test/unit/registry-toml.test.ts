import { TomlError, parseToml, type TomlTable, type TomlValue } from '../../src/registry/toml'

/** Maps as plain objects, so expectations read like the TOML. */
function plain(value: TomlValue): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]))
  if (Array.isArray(value)) return value.map(plain)
  return value
}

function parsed(text: string): unknown {
  return plain(parseToml(text))
}

describe('parseToml reads', () => {
  test.each<[string, string, unknown]>([
    ['an empty file', '', {}],
    ['comments and blank lines', '# a\n\n   # b\r\n', {}],
    [
      'strings, booleans, integers',
      'a = "x"\nb = \'y\'\nc = true\nd = false\ne = -1_000\nf = 0',
      { a: 'x', b: 'y', c: true, d: false, e: -1000, f: 0 }
    ],
    ['basic-string escapes', String.raw`a = "q\"b\\t\tn\nu\u00e9U\U0001F600"`, { a: 'q"b\\t\tn\nuéU\u{1F600}' }],
    ['literal strings as written', String.raw`a = 'C:\path\n'`, { a: 'C:\\path\\n' }],
    ['a comment after a value', 'a = "x" # why\nb = 1#c', { a: 'x', b: 1 }],
    ['arrays over lines, with comments and a trailing comma', 'a = [\n  "x", # one\n  "y",\n]\nb = []', { a: ['x', 'y'], b: [] }],
    ['nested arrays', 'a = [["x"], []]', { a: [['x'], []] }],
    ['quoted and dotted keys', '"a.b" = 1\n\'c d\' = 2\ne . f = 3\n"" = 4', { 'a.b': 1, 'c d': 2, e: { f: 3 }, '': 4 }],
    ['keys such as __proto__ as keys', '__proto__ = 1\nconstructor.x = 2', { ['__proto__']: 1, constructor: { x: 2 } }],
    ['tables and sub-tables', '[a]\nx = 1\n[a.b]\ny = 2\n[ c . "d" ]\nz = 3', { a: { x: 1, b: { y: 2 } }, c: { d: { z: 3 } } }],
    ['a table after its sub-table', '[a.b]\ny = 2\n[a]\nx = 1', { a: { b: { y: 2 }, x: 1 } }],
    [
      'arrays of tables with sub-arrays ([[registry.mirror]])',
      '[[registry]]\nprefix = "a"\n[[registry.mirror]]\nlocation = "m1"\n[[registry.mirror]]\nlocation = "m2"\n[[registry]]\nprefix = "b"',
      { registry: [{ prefix: 'a', mirror: [{ location: 'm1' }, { location: 'm2' }] }, { prefix: 'b' }] }
    ],
    ['a sub-table of the last array element', '[[r]]\n[r.s]\nx = 1\n[[r]]\n[r.s]\nx = 2', { r: [{ s: { x: 1 } }, { s: { x: 2 } }] }],
    ['a sub-table under dotted keys', '[f]\na.c = "r"\n[f.a.t]\ns = true', { f: { a: { c: 'r', t: { s: true } } } }]
  ])('%s', (_, text, want) => {
    expect(parsed(text)).toEqual(want)
  })

  test('a Map, so a key never reaches a prototype', () => {
    const doc: TomlTable = parseToml('__proto__ = 1')
    expect(doc.get('__proto__')).toBe(1)
    expect(Object.getPrototypeOf({})).toBe(Object.prototype)
  })
})

describe('parseToml refuses, with the line', () => {
  test.each<[string, string, number]>([
    ['a multi-line basic string', 'a = """x"""', 1],
    ['a multi-line literal string', "a = '''x'''", 1],
    ['a float', 'a = 1.5', 1],
    ['an exponent', 'a = 1e3', 1],
    ['a date', 'a = 1979-05-27', 1],
    ['a hexadecimal integer', 'a = 0x1f', 1],
    ['a leading zero', 'a = 01', 1],
    ['inf', 'a = inf', 1],
    ['an inline table', 'a = { b = 1 }', 1],
    ['a bare word', 'a = yes', 1],
    ['a key defined twice', 'a = 1\na = 2', 2],
    ['a table defined twice', '[a]\n[a]', 2],
    ['a table over a value', 'a = 1\n[a]', 2],
    ['an array of tables over a table', '[a]\n[[a]]', 2],
    ['a table over an array of tables', '[[a]]\n[a]', 2],
    ['an array of tables over a static array', 'a = []\n[[a]]', 2],
    ['a header over a table dotted keys made', '[f]\na.c = 1\n[f.a]', 3],
    ['dotted keys into a table a header made', '[f.a]\nx = 1\n[f]\na.y = 2', 4],
    ['a value through a value', 'a = 1\na.b = 2', 2],
    ['two values on a line', 'a = 1 b = 2', 1],
    ['a key without a value', 'a =\n', 1],
    ['a line without =', 'a\n', 1],
    ['an unterminated string', 'a = "x\n', 1],
    ['an unterminated array', 'a = ["x"', 1],
    ['a missing comma', 'a = ["x" "y"]', 1],
    ['an unknown escape', String.raw`a = "\e"`, 1],
    ['a surrogate escape', String.raw`a = "\uD800"`, 1],
    ['a short unicode escape', String.raw`a = "\u12"`, 1],
    ['a control character in a string', 'a = "x\u0001"', 1],
    ['a control character in a comment', '# x\u0001', 1],
    ['a lone carriage return', 'a = 1\r', 1],
    ['a lone carriage return in a comment', '# x\ry', 1],
    ['an unclosed header', '[a\n', 1],
    ['an unclosed array-of-tables header', '[[a]\n', 1],
    ['a byte-order mark', '\ufeffa = 1', 1],
    ['an integer beyond 2^53', 'a = 9007199254740993', 1]
  ])('%s', (_, text, line) => {
    expect(() => parseToml(text)).toThrow(TomlError)
    expect(() => parseToml(text)).toThrow(new RegExp(`^line ${line}: `))
  })
})
