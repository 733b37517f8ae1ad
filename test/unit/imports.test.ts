import { lintSnippets } from './lint-snippets'

/**
 * Imports go one way: the pure modules (planner, model, comparisons, manifest, arch, sentences,
 * text, reference, the summary renderer, the grammar of inputs) import nothing that runs a process,
 * reads a registry or the disk, or logs. eslint enforces it (eslint.config.mjs, PURE_MODULES); these
 * snippets show the rule bites where it should, and only there.
 */
describe('pure modules import nothing with effects', () => {
  const REFUSED: Array<[string, string]> = [
    ['src/plan.ts', "import { execute } from './exec'\nexport const x = execute\n"],
    ['src/compare.ts', "import * as log from './log'\nexport const x = log\n"],
    ['src/model.ts', "import { Reads } from './registry/reader'\nexport const x = Reads\n"],
    ['src/manifest.ts', "import * as fs from 'fs'\nexport const x = fs\n"],
    ['src/reference.ts', "import * as core from '@actions/core'\nexport const x = core\n"],
    ['src/inputs/references.ts', "import * as log from '../log'\nexport const x = log\n"],
    ['src/inputs/overwrites.ts', "import { isDirectory } from './files'\nexport const x = isDirectory\n"],
    // The renderer stays apart from the effects that use it.
    ['src/summary.ts', "import { writeSummary } from './report'\nexport const x = writeSummary\n"],
    ['src/summary.ts', "import * as log from './log'\nexport const x = log\n"]
  ]
  const ALLOWED: Array<[string, string]> = [
    ['src/plan.ts', "import { servesPlanned } from './compare'\nexport const x = servesPlanned\n"],
    ['src/observe.ts', "import { explain } from './retry'\nexport const x = explain\n"],
    ['src/inputs/index.ts', "import { isDirectory } from './files'\nexport const x = isDirectory\n"],
    ['src/summary.ts', "import { markdown } from './text'\nexport const x = markdown\n"],
    ['src/report.ts', "import * as log from './log'\nexport const x = log\n"]
  ]
  let results: string[][]

  beforeAll(() => {
    results = lintSnippets([...REFUSED, ...ALLOWED]).map(found =>
      found.filter(p => p.startsWith('no-restricted-imports:')).map(p => p.slice(0, p.indexOf(':')))
    )
  }, 60_000)

  test.each(REFUSED.map(([file, code], i) => [file, code, i]))('%s may not hold %j', (_, __, i) => {
    expect(results[i as number]).toEqual(['no-restricted-imports'])
  })

  test.each(ALLOWED.map(([file, code], i) => [file, code, REFUSED.length + i]))('%s may hold %j', (_, __, i) => {
    expect(results[i as number]).toEqual([])
  })
})
