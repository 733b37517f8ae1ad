import { parseYaml } from './yaml'
import { inert, quote } from './text'

/** An OCI platform, as in an image config or an index entry. */
export interface Platform {
  os: string
  architecture: string
  variant?: string
}

// Fedora/RPM names first: when a platform maps back to a name nobody asked for, the first one wins.
const BUILTIN: ReadonlyArray<[string, string]> = [
  ['x86_64', 'linux/amd64'],
  ['aarch64', 'linux/arm64'],
  ['ppc64le', 'linux/ppc64le'],
  ['s390x', 'linux/s390x'],
  ['armhfp', 'linux/arm/v7'],
  ['i686', 'linux/386'],
  ['riscv64', 'linux/riscv64'],
  ['amd64', 'linux/amd64'],
  ['arm64', 'linux/arm64'],
  ['arm', 'linux/arm/v7'],
  ['386', 'linux/386']
]

const SEGMENT = /^[a-z0-9][a-z0-9_.-]{0,63}$/
/** `arch-map` is a handful of names; anything near this size is a mistake or an attack. */
const ARCH_MAP_MAX = 10_000

export function parsePlatform(text: string): Platform | undefined {
  const parts = text.trim().split('/')
  if (parts.length < 2 || parts.length > 3 || !parts.every(p => SEGMENT.test(p))) return undefined
  const [os, architecture, variant] = parts
  return variant ? { os, architecture, variant } : { os, architecture }
}

/**
 * A comparable key. Variants that mean "the only one there is" are dropped: arm64 is always v8 and
 * amd64 v1 is baseline, and images and lists write them either way.
 */
export function platformKey(p: Platform): string {
  let variant = p.variant ?? ''
  if ((p.architecture === 'arm64' && variant === 'v8') || (p.architecture === 'amd64' && variant === 'v1')) {
    variant = ''
  }
  return [p.os, p.architecture, variant].filter(Boolean).join('/')
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/')
}

/** Attestations and other non-runnable entries (buildx writes unknown/unknown) are not platforms. */
export function isUnknownPlatform(p: Platform | undefined): boolean {
  return !p || !p.os || !p.architecture || p.os === 'unknown' || p.architecture === 'unknown'
}

/**
 * Arch names ↔ platforms, built from the builtin table plus the `arch-map` input. A platform
 * (`linux/arm/v7`, as build matrices carry them) is a name for itself.
 */
export class ArchTable {
  private readonly byName = new Map<string, Platform>()
  private readonly mapped: string[]

  constructor(extra: Record<string, Platform> = {}) {
    for (const [name, platform] of BUILTIN) this.byName.set(name, parsePlatform(platform) as Platform)
    for (const [name, platform] of Object.entries(extra)) this.byName.set(name, platform)
    this.mapped = Object.keys(extra)
  }

  platform(name: string): Platform | undefined {
    return this.byName.get(name) ?? (name.includes('/') && name === name.trim() ? parsePlatform(name) : undefined)
  }

  names(): string[] {
    return [...this.byName.keys()]
  }

  /**
   * The name for a platform: one the user asked for if any; else the platform itself if the user
   * names arches by platform (a lost arch reads as they write them); else an `arch-map` name, else a builtin one.
   */
  nameFor(p: Platform, preferred: readonly string[]): string | undefined {
    const key = platformKey(p)
    const same = (name: string): boolean => {
      const q = this.platform(name)
      return q !== undefined && platformKey(q) === key
    }
    const asked = preferred.find(same)
    if (asked) return asked
    if (preferred.some(name => name.includes('/')) && parsePlatform(key)) return key
    return [...this.mapped, ...BUILTIN.map(([name]) => name)].find(same)
  }
}

/**
 * Parses the `arch-map` YAML mapping (`{armv6: linux/arm/v6}`); throws a plain message, quoting
 * through inert(), on bad content. YAML aliases are refused outright: a map has no use for them, and
 * nested ones expand exponentially.
 */
export function parseArchMap(text: string): Record<string, Platform> {
  if (!text.trim()) return {}
  if (text.length > ARCH_MAP_MAX) throw new Error(`is ${text.length} characters long; at most ${ARCH_MAP_MAX}`)
  let doc: unknown
  try {
    doc = parseYaml(text, { maxAliasCount: 0 })
  } catch (e) {
    throw new Error(`not valid YAML: ${inert((e as Error).message.split('\n')[0])}`)
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error('must be a YAML mapping of arch name to os/architecture[/variant], e.g. {armv6: linux/arm/v6}')
  }
  const out: Record<string, Platform> = {}
  for (const [name, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!SEGMENT.test(name)) throw new Error(`arch name ${quote(name)} must be lowercase letters, digits, '.', '_' or '-'`)
    const platform = typeof value === 'string' ? parsePlatform(value) : undefined
    if (!platform)
      throw new Error(
        `${quote(`${name}: ${typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))}`)} must map to os/architecture[/variant], e.g. linux/riscv64`
      )
    out[name] = platform
  }
  return out
}
