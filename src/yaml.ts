import type { DocumentOptions, ParseOptions, SchemaOptions, ToJSOptions } from 'yaml'

/**
 * `yaml`'s parse, loaded on first use: it is the largest part of the bundle, and most runs pass no
 * YAML-shaped input, so loading it up front only delays the first request.
 */
export function parseYaml(text: string, options: ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const yaml = require('yaml') as typeof import('yaml')
  return yaml.parse(text, options)
}
