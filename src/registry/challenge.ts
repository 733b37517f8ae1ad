/**
 * WWW-Authenticate challenges (RFC 7235). A registry may send several on one header line (Forgejo:
 * `Bearer realm="…",service="…",scope="*", Basic realm="…"`) and several header lines; Node joins
 * repeated lines with ", ", so the caller passes the lines apart (`headersDistinct`).
 */
export interface Challenge {
  /** Lower case: `bearer`, `basic`, … */
  scheme: string
  /** Parameter names in lower case; values unquoted. */
  params: Record<string, string>
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/

/** Every challenge in header order, across all lines. Unparseable rest of a line is ignored. */
export function parseChallenges(lines: readonly string[]): Challenge[] {
  return lines.flatMap(parseLine)
}

function parseLine(line: string): Challenge[] {
  const out: Challenge[] = []
  let rest = line
  let current: Challenge | undefined
  for (;;) {
    rest = rest.replace(/^[\s,]+/, '')
    const name = TOKEN.exec(rest)
    if (!name) return out
    const after = rest.slice(name[0].length).replace(/^\s*/, '')
    if (after.startsWith('=') && current && !after.startsWith('==')) {
      // A parameter of the current challenge.
      const value = readValue(after.slice(1).replace(/^\s*/, ''))
      if (!value) return out
      current.params[name[0].toLowerCase()] = value.value
      rest = value.rest
    } else {
      // A new challenge: `scheme` then parameters (or a token68, which registries do not use).
      current = { scheme: name[0].toLowerCase(), params: {} }
      out.push(current)
      rest = after
    }
  }
}

function readValue(text: string): { value: string; rest: string } | undefined {
  if (!text.startsWith('"')) {
    const token = TOKEN.exec(text)
    return token ? { value: token[0], rest: text.slice(token[0].length) } : undefined
  }
  let value = ''
  for (let i = 1; i < text.length; i++) {
    const c = text[i]
    if (c === '\\' && i + 1 < text.length) value += text[++i]
    else if (c === '"') return { value, rest: text.slice(i + 1) }
    else value += c
  }
  return undefined
}

/** The challenge a client uses, as containers/image picks it: the first Basic or Bearer in header order. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return challenges.find(c => c.scheme === 'bearer' || c.scheme === 'basic')
}
