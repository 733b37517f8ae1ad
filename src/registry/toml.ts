/**
 * The subset of TOML 1.0 that registries.conf files use: tables, arrays of tables, dotted and quoted
 * keys, one-line basic and literal strings, booleans, decimal integers, arrays, comments. Anything else
 * (multi-line strings, floats, dates, inline tables, other integer forms) is a TomlError, never a
 * guess: the caller then leaves the file to the tools that can read it.
 */

export type TomlValue = string | boolean | number | TomlValue[] | TomlTable
/** A Map, not an object: keys such as `__proto__` stay keys. */
export type TomlTable = Map<string, TomlValue>

export class TomlError extends Error {
  constructor(
    message: string,
    readonly line: number
  ) {
    super(`line ${line}: ${message}`)
    this.name = 'TomlError'
  }
}

/** How a table came to exist decides whether it may be opened again (TOML 1.0 §Table). */
type Origin = 'header' | 'dotted' | 'implicit'

// Sticky runs, matched natively: a character loop runs cold (interpreted) in a one-off parse, and
// this parse is on the way to the first request. The control characters are what TOML refuses.
/* eslint-disable no-control-regex */
const BARE_KEY = /[A-Za-z0-9_-]*/y
const COMMENT = /#[^\x00-\x08\x0a-\x1f\x7f]*/y
const BASIC_RUN = /[^"\\\x00-\x08\x0a-\x1f\x7f]*/y
const LITERAL_RUN = /[^'\x00-\x08\x0a-\x1f\x7f]*/y
/* eslint-enable no-control-regex */
const INTEGER = /^[+-]?(?:0|[1-9](?:_?[0-9])*)/
const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' }

export function parseToml(text: string): TomlTable {
  return new Parser(text).document()
}

class Parser {
  private pos = 0
  private readonly root: TomlTable = new Map()
  private readonly origins = new WeakMap<TomlTable, Origin>()
  private readonly tableArrays = new WeakSet<TomlValue[]>()

  constructor(private readonly text: string) {}

  document(): TomlTable {
    let current = this.root
    for (;;) {
      this.skipBlank()
      if (this.pos >= this.text.length) return this.root
      const c = this.text[this.pos]
      if (c === '#' || c === '\n' || c === '\r') {
        this.endOfLine()
      } else if (c === '[') {
        current = this.header()
        this.endOfLine()
      } else {
        this.keyValue(current)
        this.endOfLine()
      }
    }
  }

  private fail(message: string): never {
    throw new TomlError(message, this.text.slice(0, this.pos).split('\n').length)
  }

  private skipBlank(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++
  }

  /** Blanks, an optional comment, then a newline or the end. */
  private endOfLine(): void {
    this.skipBlank()
    if (this.text[this.pos] === '#') {
      this.pos = this.run(COMMENT)
      const code = this.text.charCodeAt(this.pos)
      if (this.pos < this.text.length && code !== 0x0a && code !== 0x0d) this.fail('control character in a comment')
      if (code === 0x0d && this.text[this.pos + 1] !== '\n') this.fail('a carriage return without a newline')
    }
    if (this.pos >= this.text.length) return
    if (this.text.startsWith('\r\n', this.pos)) this.pos += 2
    else if (this.text[this.pos] === '\n') this.pos++
    else this.fail('expected the end of the line')
  }

  /** Blanks, comments and newlines, as arrays allow between their values. */
  private skipBlankLines(): void {
    for (;;) {
      this.skipBlank()
      const c = this.text[this.pos]
      if (c === '#' || c === '\n' || c === '\r') this.endOfLine()
      else return
    }
  }

  private header(): TomlTable {
    const isArray = this.text.startsWith('[[', this.pos)
    this.pos += isArray ? 2 : 1
    this.skipBlank()
    const keys = this.key()
    this.skipBlank()
    const close = isArray ? ']]' : ']'
    if (!this.text.startsWith(close, this.pos)) this.fail(`expected ${close}`)
    this.pos += close.length

    const parent = this.descend(this.root, keys.slice(0, -1), 'header')
    const last = keys[keys.length - 1]
    const existing = parent.get(last)
    if (isArray) {
      const table: TomlTable = new Map()
      this.origins.set(table, 'header')
      if (existing === undefined) {
        const array: TomlValue[] = [table]
        this.tableArrays.add(array)
        parent.set(last, array)
      } else if (Array.isArray(existing) && this.tableArrays.has(existing)) {
        existing.push(table)
      } else {
        this.fail('an array of tables reuses a key that is not one')
      }
      return table
    }
    if (existing === undefined) {
      const table: TomlTable = new Map()
      this.origins.set(table, 'header')
      parent.set(last, table)
      return table
    }
    if (existing instanceof Map && this.origins.get(existing) === 'implicit') {
      this.origins.set(existing, 'header')
      return existing
    }
    return this.fail('a table is defined twice')
  }

  /**
   * Walks `keys` down from `table`, creating tables as needed. Headers may pass through any table and
   * into the last table of an array of tables; dotted keys only through tables dotted keys made.
   */
  private descend(table: TomlTable, keys: string[], by: 'header' | 'dotted'): TomlTable {
    let current = table
    for (const key of keys) {
      const existing = current.get(key)
      if (existing === undefined) {
        const created: TomlTable = new Map()
        this.origins.set(created, by === 'header' ? 'implicit' : 'dotted')
        current.set(key, created)
        current = created
      } else if (existing instanceof Map && (by === 'header' || this.origins.get(existing) === 'dotted')) {
        current = existing
      } else if (by === 'header' && Array.isArray(existing) && this.tableArrays.has(existing)) {
        current = existing[existing.length - 1] as TomlTable
      } else {
        this.fail('a key is used both as a table and as something else')
      }
    }
    return current
  }

  private keyValue(table: TomlTable): void {
    const keys = this.key()
    this.skipBlank()
    if (this.text[this.pos] !== '=') this.fail('expected =')
    this.pos++
    this.skipBlank()
    const value = this.value()
    const parent = this.descend(table, keys.slice(0, -1), 'dotted')
    const last = keys[keys.length - 1]
    if (parent.has(last)) this.fail('a key is defined twice')
    parent.set(last, value)
  }

  private key(): string[] {
    const keys = [this.simpleKey()]
    for (;;) {
      this.skipBlank()
      if (this.text[this.pos] !== '.') return keys
      this.pos++
      this.skipBlank()
      keys.push(this.simpleKey())
    }
  }

  private simpleKey(): string {
    const c = this.text[this.pos]
    if (c === '"') return this.basicString()
    if (c === "'") return this.literalString()
    const start = this.pos
    this.pos = this.run(BARE_KEY)
    if (this.pos === start) this.fail('expected a key')
    return this.text.slice(start, this.pos)
  }

  private value(): TomlValue {
    const c = this.text[this.pos]
    if (c === '"') return this.basicString()
    if (c === "'") return this.literalString()
    if (c === '[') return this.array()
    if (c === '{') this.fail('inline tables are not supported')
    const rest = this.text.slice(this.pos, this.pos + 6)
    for (const [word, value] of [
      ['true', true],
      ['false', false]
    ] as const) {
      if (rest.startsWith(word) && this.delimited(this.pos + word.length)) {
        this.pos += word.length
        return value
      }
    }
    const integer = INTEGER.exec(this.text.slice(this.pos, this.pos + 32))
    if (integer && this.delimited(this.pos + integer[0].length)) {
      this.pos += integer[0].length
      const n = Number(integer[0].replace(/_/g, ''))
      if (!Number.isSafeInteger(n)) this.fail('an integer too large to read exactly')
      return n
    }
    return this.fail('a value of a kind this reader does not support')
  }

  /** Whether a bare value ends at `at` (so `1.5`, `1979-05-27` and `0x1f` are not read as integers). */
  private delimited(at: number): boolean {
    return at >= this.text.length || /[ \t\r\n,\]#]/.test(this.text[at])
  }

  private array(): TomlValue[] {
    this.pos++
    const out: TomlValue[] = []
    for (;;) {
      this.skipBlankLines()
      if (this.text[this.pos] === ']') break
      out.push(this.value())
      this.skipBlankLines()
      if (this.text[this.pos] === ',') this.pos++
      else if (this.text[this.pos] !== ']') this.fail('expected , or ] in an array')
    }
    this.pos++
    return out
  }

  private basicString(): string {
    if (this.text.startsWith('"""', this.pos)) this.fail('multi-line strings are not supported')
    this.pos++
    let out = ''
    for (;;) {
      const plain = this.run(BASIC_RUN)
      out += this.text.slice(this.pos, plain)
      this.pos = plain
      if (this.pos >= this.text.length) this.fail('an unterminated string')
      // The run stops only at the closing quote, a backslash or a character a string may not hold.
      const c = this.text[this.pos]
      if (c !== '"' && c !== '\\') this.fail('a control character or newline in a string')
      this.pos++
      if (c === '"') return out
      const e = this.text[this.pos]
      this.pos++
      if (e in ESCAPES) {
        out += ESCAPES[e]
      } else if (e === 'u' || e === 'U') {
        const hex = this.text.slice(this.pos, this.pos + (e === 'u' ? 4 : 8))
        const code = /^[0-9A-Fa-f]+$/.test(hex) && hex.length === (e === 'u' ? 4 : 8) ? parseInt(hex, 16) : -1
        if (code < 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.fail('an invalid unicode escape')
        out += String.fromCodePoint(code)
        this.pos += hex.length
      } else {
        this.fail('an escape TOML 1.0 does not define')
      }
    }
  }

  private literalString(): string {
    if (this.text.startsWith("'''", this.pos)) this.fail('multi-line strings are not supported')
    const start = ++this.pos
    this.pos = this.run(LITERAL_RUN)
    if (this.pos >= this.text.length) this.fail('an unterminated string')
    if (this.text[this.pos] === "'") return this.text.slice(start, this.pos++)
    return this.fail('a control character or newline in a string')
  }

  /** Where the run `pattern` (sticky) starting at the current position ends. */
  private run(pattern: RegExp): number {
    pattern.lastIndex = this.pos
    pattern.exec(this.text)
    return pattern.lastIndex
  }
}
