/** Where the list goes: input `references`, or `registries` x `repo` x `tag` and `aliases`. */
import { prefixKey, referenceKey } from '../reference'
import { quote } from '../text'
import { isRepository, isTag, NAME_MAX, parseReference, parseRegistry, Reference } from './references'
import { GetInput, InputError, parseList, required } from './values'

export interface Destinations {
  /** The first of `repos`. */
  repo: string
  repos: string[]
  tag: string
  aliases: string[]
  registries: string[]
  /** Input `references`, parsed; empty when the destinations come from the other four inputs. */
  references: Reference[]
}

export function readDestinations(get: GetInput): Destinations {
  const references = parseList('references', get('references')).map(r =>
    parseReference('references', r, { tag: 'required', digest: 'never' })
  )
  return references.length > 0 ? fromReferences(get, references) : fromRegistries(get)
}

function fromReferences(get: GetInput, references: Reference[]): Destinations {
  for (const name of ['registries', 'repo', 'tag', 'aliases']) {
    if (get(name).trim()) throw new InputError(name, 'must be empty when "references" is set: the references name every destination')
  }
  const seen = new Set<string>()
  for (const ref of references) {
    const key = referenceKey(ref.text)
    if (seen.has(key)) throw new InputError('references', `${quote(ref.text)} names a destination listed already`)
    seen.add(key)
  }
  const repo = references[0].repository.slice(references[0].host.length + 1)
  return {
    repo,
    repos: [repo],
    tag: references[0].tag as string,
    aliases: [],
    registries: [...new Set(references.map(r => r.host))],
    references
  }
}

function fromRegistries(get: GetInput): Destinations {
  const repos = parseList('repo', required(get, 'repo'))
  for (const r of repos) {
    if (!isRepository(r)) {
      throw new InputError(
        'repo',
        `${quote(r)} is not a valid repository name (lowercase letters, digits, separators . _ __ -, parts joined by /)`
      )
    }
  }
  const tag = required(get, 'tag')
  if (!isTag(tag))
    throw new InputError('tag', `${quote(tag)} is not a valid tag (letters, digits, _ . -; at most 128; not starting with . or -)`)
  const aliases = parseList('aliases', get('aliases'))
  for (const alias of aliases) {
    if (!isTag(alias)) throw new InputError('aliases', `${quote(alias)} is not a valid tag`)
    if (alias === tag) throw new InputError('aliases', `${quote(alias)} is the same as input "tag"`)
  }
  const registries = parseList('registries', required(get, 'registries')).map(r => parseRegistry('registries', r))
  if (new Set(registries.map(prefixKey)).size !== registries.length) throw new InputError('registries', 'lists the same registry twice')
  for (const registry of registries) {
    for (const r of repos) {
      if (`${registry}/${r}`.length > NAME_MAX)
        throw new InputError('repo', `${quote(`${registry}/${r}`)} is longer than ${NAME_MAX} characters`)
    }
  }
  return { repo: repos[0], repos, tag, aliases, registries, references: [] }
}

/** Every destination reference: `references` as given, or registry-major `<registry>/<repo>:<tag>` then the aliases. */
export function destinations(inputs: {
  registries: string[]
  repo: string
  tag: string
  aliases: string[]
  references: string[]
}): string[] {
  if (inputs.references.length > 0) return inputs.references
  return inputs.registries.flatMap(r => [inputs.tag, ...inputs.aliases].map(t => `${r}/${inputs.repo}:${t}`))
}
