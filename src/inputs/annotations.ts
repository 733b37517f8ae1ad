import { quote } from '../text'
import { InputError } from './values'

const ANNOTATION_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/
/** The levels of buildx's `--annotation [level,…][platform]:key=value` (docker/metadata-action writes the prefix). */
const ANNOTATION_LEVELS = ['index', 'manifest', 'manifest-descriptor', 'index-descriptor']
const ANNOTATION_PREFIX = /^([a-z-]+(?:,[a-z-]+)*)(\[[^\]]*\])?$/

/**
 * `annotations`, as written by hand or by docker/metadata-action: `key=value` lines, with an optional
 * level prefix. Unprefixed and `index:` lines annotate the list. The other levels belong to the
 * per-arch images (build-push-action applies them when it builds) or to an OCI layout's index.json:
 * no list carries them, so they are returned apart, for one notice.
 */
export function parseAnnotations(value: string): { annotations: Record<string, string>; ignored: string[] } {
  const annotations: Record<string, string> = {}
  const ignored: string[] = []
  for (const line of value
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean)) {
    const eq = line.indexOf('=')
    const name = eq > 0 ? line.slice(0, eq).trim() : ''
    // A key has no colon, so the prefix is everything up to the last one.
    const colon = name.lastIndexOf(':')
    const key = name.slice(colon + 1)
    if (!ANNOTATION_KEY.test(key))
      throw new InputError('annotations', `${quote(line)} must be key=value with a key like org.opencontainers.image.source`)
    if (colon >= 0) {
      const prefix = ANNOTATION_PREFIX.exec(name.slice(0, colon))
      const levels = prefix?.[1].split(',') ?? []
      if (!prefix || !levels.every(l => ANNOTATION_LEVELS.includes(l)))
        throw new InputError(
          'annotations',
          `${quote(line)} has an unknown level; a prefix is one or more of ${ANNOTATION_LEVELS.join(', ')}, e.g. index:key=value`
        )
      if (!levels.includes('index')) {
        ignored.push(name)
        continue
      }
      if (prefix[2])
        throw new InputError('annotations', `${quote(line)}: an index annotation is for every platform; drop ${quote(prefix[2])}`)
    }
    if (key in annotations) throw new InputError('annotations', `${quote(key)} is given twice`)
    annotations[key] = line.slice(eq + 1).trim()
  }
  return { annotations, ignored }
}
