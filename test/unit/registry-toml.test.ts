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
    ['a sub-table under dotted keys', '[f]\na.c = "r"\n[f.a.t]\ns = true', { f: { a: { c: 'r', t: { s: true } } } }],
    // CRLF line ends and tabs, also inside arrays, where blank lines and comments may sit between values.
    ['CRLF line ends and tabs', 'a\t=\t1\t# x\r\n\r\n[t]\r\nb = [\r\n\t1,\r\n\t2\r\n]\r\n', { a: 1, t: { b: [1, 2] } }],
    ['dotted keys through a table dotted keys made', 'a.b = 1\na.c.d = 2\na.c.e = 3', { a: { b: 1, c: { d: 2, e: 3 } } }],
    ['[[ ]] headers with blanks', '[[ a . b ]]\nx = 1', { a: { b: [{ x: 1 }] } }],
    // A bare value ends at a blank, a comma, a closing bracket, a comment or the line end.
    ['integers and booleans in arrays', 'a = [1,true,-2 ,false]\nb = [0]\nc = [true]#x', { a: [1, true, -2, false], b: [0], c: [true] }],
    [
      'unicode escapes at the bounds of the allowed ranges',
      String.raw`a = "\u0000\uD7FF\uE000\U0010FFFF\uabcd\uABCD"`,
      { a: '\u0000\uD7FF\uE000\u{10FFFF}\uabcd\uABCD' }
    ],
    ['tabs inside strings', 'a = "x\ty"\nb = \'x\ty\'', { a: 'x\ty', b: 'x\ty' }]
  ])('%s', (_, text, want) => {
    expect(parsed(text)).toEqual(want)
  })

  test('a Map, so a key never reaches a prototype', () => {
    const doc: TomlTable = parseToml('__proto__ = 1')
    expect(doc.get('__proto__')).toBe(1)
    expect(Object.getPrototypeOf({})).toBe(Object.prototype)
  })
})

/** What parseToml throws for `text` (undefined if it parses), so a test can compare all of it. */
function thrown(text: string): unknown {
  try {
    parseToml(text)
  } catch (e) {
    return e
  }
  return undefined
}

describe('parseToml refuses, with the line and the reason', () => {
  // The reason reaches the user in config.ts's ConfigError, so each refusal names its own.
  test.each<[string, string, number, string]>([
    ['a multi-line basic string', 'a = """x"""', 1, 'multi-line strings are not supported'],
    ['a multi-line literal string', "a = '''x'''", 1, 'multi-line strings are not supported'],
    ['a float', 'a = 1.5', 1, 'a value of a kind this reader does not support'],
    ['an exponent', 'a = 1e3', 1, 'a value of a kind this reader does not support'],
    ['a date', 'a = 1979-05-27', 1, 'a value of a kind this reader does not support'],
    ['a hexadecimal integer', 'a = 0x1f', 1, 'a value of a kind this reader does not support'],
    ['a leading zero', 'a = 01', 1, 'a value of a kind this reader does not support'],
    ['inf', 'a = inf', 1, 'a value of a kind this reader does not support'],
    ['an inline table', 'a = { b = 1 }', 1, 'inline tables are not supported'],
    ['a bare word', 'a = yes', 1, 'a value of a kind this reader does not support'],
    ['a word that starts like a boolean', 'a = true1', 1, 'a value of a kind this reader does not support'],
    ['a key defined twice', 'a = 1\na = 2', 2, 'a key is defined twice'],
    ['a table defined twice', '[a]\n[a]', 2, 'a table is defined twice'],
    ['a table over a value', 'a = 1\n[a]', 2, 'a table is defined twice'],
    ['an array of tables over a table', '[a]\n[[a]]', 2, 'an array of tables reuses a key that is not one'],
    ['a table over an array of tables', '[[a]]\n[a]', 2, 'a table is defined twice'],
    ['an array of tables over a static array', 'a = []\n[[a]]', 2, 'an array of tables reuses a key that is not one'],
    ['a header over a table dotted keys made', '[f]\na.c = 1\n[f.a]', 3, 'a table is defined twice'],
    ['dotted keys into a table a header made', '[f.a]\nx = 1\n[f]\na.y = 2', 4, 'a key is used both as a table and as something else'],
    ['a value through a value', 'a = 1\na.b = 2', 2, 'a key is used both as a table and as something else'],
    // Only headers may reach into an array of tables, and only into one that [[...]] made.
    ['dotted keys through an array of tables', '[[p.q]]\n[p]\nq.x = 1', 3, 'a key is used both as a table and as something else'],
    ['a header through a static array', 'a = [1]\n[a.b]', 2, 'a key is used both as a table and as something else'],
    ['a header through an empty static array', 'a = []\n[a.b]', 2, 'a key is used both as a table and as something else'],
    ['two values on a line', 'a = 1 b = 2', 1, 'expected the end of the line'],
    ['a key without a value', 'a =\n', 1, 'a value of a kind this reader does not support'],
    ['a line without =', 'a\n', 1, 'expected ='],
    ['a newline in a basic string', 'a = "x\n', 1, 'a control character or newline in a string'],
    ['a newline in a literal string', "a = 'x\n", 1, 'a control character or newline in a string'],
    ['a basic string cut by the end of the file', 'a = "x', 1, 'an unterminated string'],
    ['a literal string cut by the end of the file', "a = 'x", 1, 'an unterminated string'],
    ['an unterminated array', 'a = ["x"', 1, 'expected , or ] in an array'],
    ['a missing comma', 'a = ["x" "y"]', 1, 'expected , or ] in an array'],
    ['an unknown escape', String.raw`a = "\e"`, 1, 'an escape TOML 1.0 does not define'],
    ['a surrogate escape', String.raw`a = "\uD800"`, 1, 'an invalid unicode escape'],
    ['the last surrogate escape', String.raw`a = "\uDFFF"`, 1, 'an invalid unicode escape'],
    ['an escape beyond U+10FFFF', String.raw`a = "\U00110000"`, 1, 'an invalid unicode escape'],
    ['a short unicode escape', String.raw`a = "\u12"`, 1, 'an invalid unicode escape'],
    ['a short unicode escape at the end of the file', String.raw`a = "\u12`, 1, 'an invalid unicode escape'],
    ['a unicode escape with a non-hex digit inside', String.raw`a = "\u12g4"`, 1, 'an invalid unicode escape'],
    ['a control character in a string', 'a = "x\u0001"', 1, 'a control character or newline in a string'],
    ['a DEL in a basic string', 'a = "x\u007f"', 1, 'a control character or newline in a string'],
    ['a control character in a comment', '# x\u0001', 1, 'control character in a comment'],
    ['a lone carriage return', 'a = 1\r', 1, 'expected the end of the line'],
    ['a lone carriage return in a comment', '# x\ry', 1, 'a carriage return without a newline'],
    ['an unclosed header', '[a\n', 1, 'expected ]'],
    ['an unclosed array-of-tables header', '[[a]\n', 1, 'expected ]]'],
    ['a byte-order mark', '\ufeffa = 1', 1, 'expected a key'],
    ['an integer beyond 2^53', 'a = 9007199254740993', 1, 'an integer too large to read exactly']
  ])('%s', (_, text, line, reason) => {
    const error = thrown(text)
    expect(error).toBeInstanceOf(TomlError)
    expect(error).toMatchObject({ name: 'TomlError', line, message: `line ${line}: ${reason}` })
  })
})
