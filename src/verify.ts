import { Manifest, parseManifest } from './manifest'
import type { Entry } from './model'
import { explain } from './retry'
import type { Reader } from './registry/reader'
import { sleep } from './timing'

/**
 * The reads that verify a publish: a tag read back until it serves what was pushed, and whether each
 * entry can be pulled from each repository. What a list must hold is decided in compare.ts.
 */

export interface Wait {
  /** How long a destination may keep serving something else after the push. */
  waitMs: number
  /** First pause between reads; doubles each time. */
  firstPauseMs: number
}

/**
 * Reads `ref` until what it serves is `wanted` or `wait` runs out: a CDN or a lagging replica may
 * serve the old list for a while after the push. Returns what was served last (null: nothing).
 */
export async function readBack(
  reader: Reader,
  ref: string,
  wanted: (served: Manifest | null) => boolean,
  wait: Wait
): Promise<Manifest | null> {
  const deadline = Date.now() + wait.waitMs
  for (let pause = wait.firstPauseMs; ; pause *= 2) {
    const raw = await reader.manifest(ref, { fresh: true })
    const served = raw ? parseManifest(raw) : null
    if (wanted(served) || Date.now() + pause > deadline) return served
    await sleep(pause)
  }
}

/** Which entries a repository cannot serve, read afresh: the last word before `published`. */
export async function unservable(reader: Reader, repository: string, entries: Array<Pick<Entry, 'arch' | 'digest'>>): Promise<string[]> {
  const missing = await Promise.all(
    entries.map(e =>
      reader.digest(`${repository}@${e.digest}`).then(
        // By digest, a reader only answers for those very bytes.
        served => (served ? [] : [e.arch]),
        (error: unknown) => [`${e.arch} (${explain(error)})`]
      )
    )
  )
  return missing.flat()
}
