/**
 * Untrusted text (inputs, registry content, tool output) made safe to show. A runner reads every line
 * of stdout for workflow commands (`::set-output …`, `::add-mask::…`, and the legacy `##[…]` form
 * anywhere in a line), so a value must never bring its own line break, nor start a line with `::`.
 */

/** How long a quoted value may get before it is cut: enough to recognise it, not enough to flood a log. */
export const QUOTE_MAX = 300

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * C0, DEL, C1, line and paragraph separators, format characters (zero-width, bidi overrides, BOM,
 * Unicode tag characters) and lone surrogates: each would break a line, hide text, or reorder it.
 */
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Cs}/u

function hex4(unit: number): string {
  return `\\u${unit.toString(16).padStart(4, '0')}`
}

/** One code point as shown: itself, or `\n`, `\u001b`, `\ud83d\ude00` (JSON-compatible escapes). */
function show(ch: string): string {
  if (!CONTROL.test(ch)) return ch
  if (NAMED[ch]) return NAMED[ch]
  let out = ''
  for (let i = 0; i < ch.length; i++) out += hex4(ch.charCodeAt(i))
  return out
}

/**
 * Every control and format character as a visible escape; nothing else changes. Outputs use this:
 * a JSON value stays valid JSON with the same meaning, since the escapes are JSON's own.
 */
export function escapeControls(text: string): string {
  let out = ''
  for (const ch of String(text)) out += show(ch)
  return out
}

/**
 * Untrusted text as one inert log line (or part of one): control characters escaped (`\n`, `\u001b`),
 * no `::` at the start (after the blanks a runner trims), no legacy `##[` anywhere, and at most `max`
 * characters plus `…`. Applying it again changes nothing, so a message may hold inert parts.
 */
export function inert(text: string, max = QUOTE_MAX): string {
  let out = ''
  let cut = false
  for (const ch of String(text)) {
    const shown = show(ch)
    if (out.length + shown.length > max) {
      cut = true
      break
    }
    out += shown
  }
  // `##[cmd]` is a command wherever it stands; combining marks between could be ignored by the runner's comparison.
  out = out.replace(/#(\p{M}*)#(\p{M}*)\[/gu, '#$1#$2\\u005b')
  // A runner trims leading blanks before looking for `::`; a leading colon at all is rare enough to escape always.
  out = out.replace(/^([\s\p{Z}\p{M}]*):/u, '$1\\u003a')
  return cut ? `${out}…` : out
}

/** `"value"` with the value inert: how messages quote what they were given. */
export function quote(text: string, max = QUOTE_MAX): string {
  return `"${inert(text, max)}"`
}

const MARKDOWN_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' }

/**
 * Untrusted text for a Markdown summary (a table cell or a sentence): inert, then HTML escaped
 * (`& < >`), and the characters that make links, emphasis, code, tables or headings backslash-escaped.
 * Parentheses and dots stay, so the raw text (Forgejo prints it as is) reads well.
 */
export function markdown(text: string, max = QUOTE_MAX): string {
  return inert(text, max)
    .replace(/[&<>]/g, c => MARKDOWN_ESCAPES[c])
    .replace(/[\\`*_[\]|~#]/g, c => `\\${c}`)
    .replace(/^(\s*)([-+=])/, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/, '$1\\$2')
}

/**
 * Untrusted text as a Markdown code span (a ref, a digest) for a table cell: inert, and otherwise
 * literal, since backslash escapes do not work inside code. The fence outgrows any backticks inside;
 * `|` is escaped, which GFM tables need even inside code.
 */
export function markdownCode(text: string, max = QUOTE_MAX): string {
  const body = inert(text, max).replace(/\|/g, '\\|')
  const fence = '`'.repeat(Math.max(0, ...(body.match(/`+/g) ?? []).map(run => run.length)) + 1)
  const pad = body === '' || body.startsWith('`') || body.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${body}${pad}${fence}`
}
