import { spawnSync } from 'child_process'
import * as path from 'path'

/**
 * The eslint findings (rule id and message) for each `[filePath, code]` snippet, linted with the
 * project's config as if it were that file. ESLint loads its config with import(), which jest's
 * module system refuses: it runs in a child process, once for all snippets. The snippets are no files
 * of the TypeScript project, so the type-aware rules are off.
 */
export function lintSnippets(cases: Array<[string, string]>): string[][] {
  const script = `
    const { ESLint } = require('eslint')
    const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'))
    const typed = ['no-floating-promises', 'no-misused-promises', 'await-thenable'].map(r => ['@typescript-eslint/' + r, 'off'])
    const eslint = new ESLint({ overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false } }, rules: Object.fromEntries(typed) }] })
    Promise.all(cases.map(([filePath, code]) => eslint.lintText(code, { filePath })))
      .then(rs => process.stdout.write(JSON.stringify(rs.map(([r]) => r.messages.map(m => m.ruleId + ': ' + m.message)))))`
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: path.join(__dirname, '../..'),
    input: JSON.stringify(cases),
    encoding: 'utf8'
  })
  if (r.status !== 0) throw new Error(`eslint failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as string[][]
}
