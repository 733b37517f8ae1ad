/**
 * Every sentence the plan decides with, in one place: the log, the summary and the step's error all
 * read these. Each has a unit test (test/unit/plan.test.ts, "sentences").
 */

/** `a, b, c` */
export const names = (items: string[]): string => items.join(', ')

const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many)

export const SENTENCES = {
  unknownPlatform: (ref: string, platform: string): string =>
    `Refusing to publish: ${ref} serves an image for platform ${platform}, which maps to no known arch; name it with input "arch-map" (e.g. {myarch: ${platform}}) so it can be kept, dropped or rebuilt deliberately.`,

  /** `where`: each lost arch with the destinations that list it. */
  lostFail: (where: string, count: number): string => {
    const one = count === 1
    return `Refusing to publish: ${where} ${plural(count, 'is', 'are')} in the current list but ${plural(count, 'has', 'have')} no new image, and missing-arch-policy is fail. Rebuild ${one ? 'it' : 'them'}, or set missing-arch-policy to hybrid (keep the previous image) or drop (publish without ${one ? 'it' : 'them'}).`
  },

  lostSkip: (lost: string[]): string =>
    `Skipped: ${names(lost)} would be lost (in the current list, no new image) and missing-arch-policy is skip; nothing was pushed.`,

  hybridDisagree: (arch: string, sightings: string): string =>
    `Refusing to publish: the destinations disagree on the previous ${arch} image (${sightings}), so there is no single image to keep.`,

  emptyList: (arches: string[], dropped: string[]): string =>
    `Refusing to publish an empty list: no per-arch image was found for ${names(arches)}${dropped.length ? ` and ${names(dropped)} would be dropped` : ''}.`,

  unchanged: (arches: string[]): string => `Every destination already serves this list (${names(arches)}); nothing was pushed.`,

  /** Before anything happened; the summary turns "Publishing" into "Published" or "Would publish". */
  publishing: (arches: string[], destinations: number, o: { kept: string[]; dropped: string[]; neverListed: string[] }): string => {
    const notes = [
      o.kept.length ? `keeping the previous image for ${names(o.kept)}` : '',
      o.dropped.length ? `dropping ${names(o.dropped)}` : '',
      o.neverListed.length ? `without ${names(o.neverListed)} (asked for, no image, not in any current list)` : ''
    ].filter(Boolean)
    return `Publishing ${names(arches)} to ${destinations} ${plural(destinations, 'destination', 'destinations')}${notes.length ? `, ${notes.join('; ')}` : ''}.`
  }
} as const
