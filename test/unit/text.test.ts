import { escapeControls, inert, markdown, markdownCode, quote, QUOTE_MAX } from '../../src/text'
import { parseCommands } from '../workflow-commands'

/** Hostile samples of every class; each must come out as one harmless line. */
const HOSTILE: string[] = [
  '40\n::set-output name=digest::evil',
  '40\r::add-mask::40',
  '40\r\n::save-state name=local-list::x',
  '::set-output name=pwned::x',
  '  ::add-mask::everything',
  '\t::stop-commands::token',
  '\u3000::set-output name=a::b', // ideographic space: trimmed by the runner
  '\u00a0\u2003::error::x',
  'ok ##[set-output name=a;]b',
  '#\u0301#\u0302[add-mask]x', // combining marks between the hashes
  'a\u2028::set-output name=a::b',
  'a\u2029::set-output name=a::b',
  'a\u0085::set-output name=a::b',
  '\u200b::set-output name=a::b', // zero-width space first
  ':\u200b:set-output name=a::b',
  '\u202e::tuptuo-tes', // right-to-left override
  '\ufeff::add-mask::x',
  'ghadelimiter_0b6f1d0c-0000-4000-8000-000000000000\nresult=published',
  '\u001b[31mred\u001b[0m\u0007',
  '\u009b31m',
  '\u{e0041}\u{e0042} tag characters',
  'x'.repeat(10_240) + '\n::set-output name=late::x',
  '\ud800 lone surrogate \udfff'
]

/** [short label, sample]: test names stay readable with 10 kB samples. */
const CASES = HOSTILE.map(t => [JSON.stringify(t).slice(0, 60), t])

/** Characters that must never survive: C0, DEL, C1, separators, format characters, lone surrogates. */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Cs}/u

describe('inert', () => {
  test.each(CASES)('%s is one line that starts no workflow command', (_, text) => {
    const out = inert(text)
    expect(out).not.toMatch(FORBIDDEN)
    expect(out.split(/\r\n|\n|\r/)).toHaveLength(1)
    expect(parseCommands(out)).toEqual([])
    expect(parseCommands(`prefix ${out}`)).toEqual([])
    expect(out.length).toBeLessThanOrEqual(QUOTE_MAX + 1)
  })

  test.each(CASES)('%s: applying it again changes nothing', (_, text) => {
    expect(inert(inert(text))).toBe(inert(text))
    expect(inert(inert(text), 4000)).toBe(inert(text))
  })

  test.each<[string, string, string]>([
    ['line feed', 'a\nb', 'a\\nb'],
    ['carriage return', 'a\rb', 'a\\rb'],
    ['tab', 'a\tb', 'a\\tb'],
    ['NUL', 'a\u0000b', 'a\\u0000b'],
    ['ESC', '\u001b[0m', '\\u001b[0m'],
    ['DEL', 'a\u007fb', 'a\\u007fb'],
    ['C1 NEL', 'a\u0085b', 'a\\u0085b'],
    ['C1 CSI', 'a\u009bb', 'a\\u009bb'],
    ['line separator', 'a\u2028b', 'a\\u2028b'],
    ['paragraph separator', 'a\u2029b', 'a\\u2029b'],
    ['zero-width space', 'x86_64\u200b', 'x86_64\\u200b'],
    ['right-to-left override', 'a\u202eb', 'a\\u202eb'],
    ['byte order mark', '\ufeffa', '\\ufeffa'],
    ['soft hyphen', 'a\u00adb', 'a\\u00adb'],
    ['tag character (astral)', 'a\u{e0041}', 'a\\udb40\\udc41'],
    ['lone surrogate', 'a\ud800b', 'a\\ud800b']
  ])('%s is shown as a visible escape', (_, text, shown) => {
    expect(inert(text)).toBe(shown)
  })

  test.each([
    'plain text: linux/amd64, sha256:abc',
    'Ünïcode – “quotes” 中文 😀 العربية',
    'fullwidth colon ：：set-output stays as it is (not a command)',
    'a::b in the middle',
    'back\\slash and "quotes" and %0A percent',
    // Only ## right before [ is the legacy ##[ command.
    '#a#[x]',
    '#1#['
  ])('%j is unchanged', text => {
    expect(inert(text)).toBe(text)
  })

  test.each<[string, string]>([
    ['::set-output name=a::b', '\\u003a:set-output name=a::b'],
    ['  ::add-mask::x', '  \\u003a:add-mask::x'],
    ['\u3000::x::y', '\u3000\\u003a:x::y'],
    [':single', '\\u003asingle'],
    ['##[set-output name=a;]b', '##\\u005bset-output name=a;]b'],
    ['text ##[error]x', 'text ##\\u005berror]x']
  ])('%j cannot start a command: %j', (text, shown) => {
    expect(inert(text)).toBe(shown)
  })

  test('a long value is cut at max characters, with …', () => {
    const out = inert('a'.repeat(10_240))
    expect(out).toBe(`${'a'.repeat(QUOTE_MAX)}…`)
    expect(inert('a'.repeat(50), 10)).toBe(`${'a'.repeat(10)}…`)
    expect(inert('a'.repeat(10), 10)).toBe('a'.repeat(10))
  })

  test('the cut never splits an escape or a surrogate pair', () => {
    expect(inert(`${'a'.repeat(9)}\n`, 10)).toBe(`${'a'.repeat(9)}…`)
    expect(inert(`${'a'.repeat(9)}😀`, 10)).toBe(`${'a'.repeat(9)}…`)
    expect(inert(`${'a'.repeat(8)}😀`, 10)).toBe(`${'a'.repeat(8)}😀`)
    expect(inert(`${'a'.repeat(5)}\u001b`, 10)).toBe(`${'a'.repeat(5)}…`)
  })

  test('quote wraps the inert value in double quotes', () => {
    expect(quote('40\n::x::y')).toBe('"40\\n::x::y"')
    expect(quote('x'.repeat(400))).toBe(`"${'x'.repeat(QUOTE_MAX)}…"`)
  })

  test('non-strings are shown as strings', () => {
    expect(inert(42 as unknown as string)).toBe('42')
  })
})

describe('escapeControls', () => {
  test('keeps JSON valid and meaning the same', () => {
    const values = ['a\u2028b', 'c\u0085d', 'e\u{e0041}f', 'g\u007f', 'plain', '\u202e']
    const json = JSON.stringify(values)
    const escaped = escapeControls(json)
    expect(escaped).not.toMatch(FORBIDDEN)
    expect(JSON.parse(escaped)).toEqual(values)
  })

  test('does not cut and does not touch a leading colon', () => {
    const long = `::${'a'.repeat(5000)}`
    expect(escapeControls(long)).toBe(long)
  })
})

describe('markdown', () => {
  test.each<[string, string]>([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['a & b', 'a &amp; b'],
    ['&amp;', '&amp;amp;'],
    ['cell | break', 'cell \\| break'],
    ['[click](https://evil.example)', '\\[click\\](https://evil.example)'],
    ['![img](https://evil.example/x.png)', '!\\[img\\](https://evil.example/x.png)'],
    ['`code`', '\\`code\\`'],
    ['*bold* _it_ ~strike~', '\\*bold\\* \\_it\\_ \\~strike\\~'],
    ['# heading', '\\# heading'],
    ['- item', '\\- item'],
    ['+ item', '\\+ item'],
    ['1. item', '1\\. item'],
    ['12. item', '12\\. item'],
    ['345) item', '345\\) item'],
    ['1.5 GB', '1\\.5 GB'],
    // A list marker only at the start (after blanks); elsewhere -, + and = stay.
    ['  - item', '  \\- item'],
    ['a-b', 'a-b'],
    ['x+y=z', 'x+y=z'],
    ['back\\slash', 'back\\\\slash'],
    ['line\nbreak', 'line\\\\nbreak'],
    ['unauthorized (check the credentials)', 'unauthorized (check the credentials)'],
    ['linux/amd64 sha256:0123', 'linux/amd64 sha256:0123']
  ])('%j → %j', (text, shown) => {
    expect(markdown(text)).toBe(shown)
  })

  test.each(CASES)('%s stays on one line and starts no command', (_, text) => {
    const out = markdown(text)
    expect(out).not.toMatch(FORBIDDEN)
    expect(out).not.toMatch(/[<>|`]/)
    expect(parseCommands(out)).toEqual([])
  })
})

describe('markdownCode', () => {
  test.each<[string, string]>([
    ['quay.io/fedora/fedora_minimal:40', '`quay.io/fedora/fedora_minimal:40`'],
    ['sha256:0123abc', '`sha256:0123abc`'],
    ['<b>&amp;</b>', '`<b>&amp;</b>`'],
    ['a|b', '`a\\|b`'],
    ['a`b', '``a`b``'],
    ['`x`', '`` `x` ``'],
    ['`a', '`` `a ``'],
    ['a`', '`` a` ``'],
    ['a``b', '```a``b```'],
    ['', '`  `'],
    ['40\n::set-output name=a::b', '`40\\n::set-output name=a::b`']
  ])('%j → %j', (text, shown) => {
    expect(markdownCode(text)).toBe(shown)
  })

  test.each(CASES)('%s stays on one line and starts no command', (_, text) => {
    const out = markdownCode(text)
    expect(out).not.toMatch(FORBIDDEN)
    expect(parseCommands(out)).toEqual([])
  })
})
