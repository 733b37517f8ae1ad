/** What every input shares: the error that names it, the getter, lists, booleans and one-of values. */
import { parseYaml } from '../yaml'
import { quote } from '../text'

/** A bad input: the message always names it, and quotes values through inert(). */
export class InputError extends Error {
  constructor(input: string, message: string) {
    super(`Input "${input}": ${message}`)
    this.name = 'InputError'
  }
}

/** `core.getInput`'s shape: trims unless told not to (the password is taken verbatim). */
export type GetInput = (name: string, options?: { trimWhitespace?: boolean }) => string

export function required(get: GetInput, name: string): string {
  const v = get(name).trim()
  if (!v) throw new InputError(name, 'is required')
  return v
}

/** Splits a list input: spaces, commas, newlines, or a YAML flow list such as `[a, b]`. */
export function parseList(name: string, value: string): string[] {
  const text = value.trim()
  let items: string[]
  // `[::1]:5000` is an IPv6 registry, not a flow list: an IPv6 address has at least two colons, so
  // `[1.0]`, `[40]` or `[beef]` are one-item lists. failsafe keeps `1.10` the string it is.
  if (text.startsWith('[') && !/^\[(?=[0-9a-fA-F.]*:[0-9a-fA-F.]*:)[0-9a-fA-F:.]+\](?::\d+)?(?:[/\s,]|$)/.test(text)) {
    let doc: unknown
    try {
      // No aliases: a list has no use for them, and nested ones expand exponentially.
      doc = parseYaml(text, { schema: 'failsafe', maxAliasCount: 0 })
    } catch {
      throw new InputError(name, `${quote(text)} is not a valid YAML flow list (aliases are not allowed)`)
    }
    if (!Array.isArray(doc) || doc.some(v => typeof v !== 'string'))
      throw new InputError(name, `${quote(text)} must be a list of plain values`)
    items = doc.map(v => (v as string).trim()).filter(Boolean)
  } else {
    items = text.split(/[\s,]+/).filter(Boolean)
  }
  const seen = new Set<string>()
  for (const item of items) {
    if (seen.has(item)) throw new InputError(name, `${quote(item)} is listed twice`)
    seen.add(item)
  }
  return items
}

export function parseBool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase()
  if (v === 'true') return true
  if (v === 'false') return false
  throw new InputError(name, `${quote(value)} must be true or false`)
}

export function parseEnum<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const v = value.trim() as T
  if (!allowed.includes(v)) throw new InputError(name, `${quote(value)} must be one of ${allowed.join(', ')}`)
  return v
}

/** A YAML or JSON mapping, as parsed: not null, not a list. */
export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
