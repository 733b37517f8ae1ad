/**
 * The refusal of what would destroy data: publishing the list under a tag this run reads an image
 * from would replace that image. (The same destination twice is refused where destinations are read.)
 */
import { sameReference } from '../reference'
import { inert, quote } from '../text'
import { Destinations, destinations } from './destinations'
import { archTagFor, isTag, Reference } from './references'
import { InputError } from './values'

/** Where the per-arch images are read from: `arch-images`, or the per-arch tags `arch-tag` gives. */
export interface ArchSources {
  archImages: Record<string, Reference>
  arches: string[]
  archTagRegistry: string
  archTag: string
}

export function refuseOverwrites(d: Destinations, s: ArchSources): void {
  const published = d.repos.flatMap(r =>
    destinations({ registries: d.registries, repo: r, tag: d.tag, aliases: d.aliases, references: d.references.map(ref => ref.text) })
  )
  const inputOf = (ref: string): string => (d.references.length > 0 ? 'references' : ref.endsWith(`:${d.tag}`) ? 'tag' : 'aliases')
  if (Object.keys(s.archImages).length > 0) refuseArchImages(s.archImages, published, inputOf)
  else refusePerArchTags(d, s, published, inputOf)
}

function refuseArchImages(archImages: Record<string, Reference>, published: string[], inputOf: (ref: string) => string): void {
  for (const [arch, ref] of Object.entries(archImages)) {
    const same = published.find(dest => ref.tag !== undefined && sameReference(dest, `${ref.repository}:${ref.tag}`))
    if (same)
      throw new InputError(
        inputOf(same),
        `${quote(same)} is where the ${arch} image is read from; publishing the list there would replace that image`
      )
  }
}

/** `arch-tag` is checked where it makes the tags: each tag just before it is compared with the destinations. */
function refusePerArchTags(d: Destinations, s: ArchSources, published: string[], inputOf: (ref: string) => string): void {
  if (!s.archTag.includes('{arch}')) throw new InputError('arch-tag', `${quote(s.archTag)} must contain {arch}`)
  const unknownPlaceholder = s.archTag.replace(/\{(tag|arch)\}/g, '').match(/\{[^}]*\}/)
  if (unknownPlaceholder) throw new InputError('arch-tag', `unknown placeholder ${inert(unknownPlaceholder[0])}; use {tag} and {arch}`)
  for (const arch of s.arches) {
    const t = archTagFor(s.archTag, d.tag, arch)
    if (!isTag(t)) throw new InputError('arch-tag', `gives ${quote(t)} for ${arch}, which is not a valid tag`)
    const same = published.find(dest => d.repos.some(r => sameReference(dest, `${s.archTagRegistry}/${r}:${t}`)))
    if (same) {
      const value = d.references.length > 0 ? same : same.slice(same.lastIndexOf(':') + 1)
      throw new InputError(
        inputOf(same),
        `${quote(value)} is the per-arch tag of ${arch} (arch-tag ${quote(s.archTag)}); publishing the list there would replace that image`
      )
    }
  }
}
