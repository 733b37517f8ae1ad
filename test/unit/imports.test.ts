import { spawnSync } from 'child_process'
import * as path from 'path'

/**
 * Imports go one way: the pure modules (planner, model, comparisons, manifest, arch, sentences,
 * text, reference) import nothing that runs a process, reads a registry or logs. eslint enforces it
 * (eslint.config.mjs, PURE_MODULES); these snippets show the rule bites where it should, and only there.
 */
describe('pure modules import nothing with effects', () => {
  const REFUSED: Array<[string, string]> = [
    ['src/plan.ts', "import { execute } from './exec'\nexport const x = execute\n"],
    ['src/compare.ts', "import * as log from './log'\nexport const x = log\n"],
    ['src/model.ts', "import { Reads } from './registry/reader'\nexport const x = Reads\n"],
    ['src/manifest.ts', "import * as fs from 'fs'\nexport const x = fs\n"],
    ['src/reference.ts', "import * as core from '@actions/core'\nexport const x = core\n"]
  ]
  const ALLOWED: Array<[string, string]> = [
    ['src/plan.ts', "import { servesPlanned } from './compare'\nexport const x = servesPlanned\n"],
    ['src/observe.ts', "import { explain } from './retry'\nexport const x = explain\n"]
  ]
  let results: string[][]

  // ESLint loads its config with import(), which jest's module system refuses: lint in a child process, once.
  beforeAll(() => {
    const script = `
      const { ESLint } = require('eslint')
      const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'))
      const typed = ['no-floating-promises', 'no-misused-promises', 'await-thenable'].map(r => ['@typescript-eslint/' + r, 'off'])
      const eslint = new ESLint({ overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false } }, rules: Object.fromEntries(typed) }] })
      Promise.all(cases.map(([filePath, code]) => eslint.lintText(code, { filePath })))
        .then(rs => process.stdout.write(JSON.stringify(rs.map(([r]) => r.messages.map(m => m.ruleId)))))`
    const r = spawnSync(process.execPath, ['-e', script], {
      cwd: path.join(__dirname, '../..'),
      input: JSON.stringify([...REFUSED, ...ALLOWED]),
      encoding: 'utf8'
    })
    if (r.status !== 0) throw new Error(`eslint failed: ${r.stderr}`)
    results = (JSON.parse(r.stdout) as string[][]).map(rules => rules.filter(rule => rule === 'no-restricted-imports'))
  }, 60_000)

  test.each(REFUSED.map(([file, code], i) => [file, code, i]))('%s may not hold %j', (_, __, i) => {
    expect(results[i as number]).toEqual(['no-restricted-imports'])
  })

  test.each(ALLOWED.map(([file, code], i) => [file, code, REFUSED.length + i]))('%s may hold %j', (_, __, i) => {
    expect(results[i as number]).toEqual([])
  })
})
