import * as core from '../../src/runner'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { setOutputs, writeSummary } from '../../src/report'
import { newReport, renderSummary, Report, results } from '../../src/summary'
import { failedReport, LIST, platformReport, publishedReport, refusedReport, userAppRefs } from './reports'

beforeEach(() => {
  jest.spyOn(core, 'info').mockImplementation(() => undefined)
  jest.spyOn(core, 'warning').mockImplementation(() => undefined)
})
afterEach(() => jest.restoreAllMocks())

describe('setOutputs', () => {
  const outputs = (report: Report): Record<string, string> => {
    const setOutput = jest.spyOn(core, 'setOutput').mockImplementation(() => undefined)
    setOutputs({ reports: [report] })
    const out = Object.fromEntries(setOutput.mock.calls.map(([k, v]) => [k, v as string]))
    // `results` has tests of its own, in summary.test.ts.
    expect(JSON.parse(out.results)).toEqual(results({ reports: [report] }))
    delete out.results
    expect(setOutput).toHaveBeenCalledTimes(8)
    return out
  }

  test('published', () => {
    expect(outputs(publishedReport())).toEqual({
      result: 'published',
      digest: LIST,
      arches: '["x86_64","aarch64","s390x"]',
      'missing-arches': '["ppc64le","s390x"]',
      'lost-arches': '["s390x"]',
      destinations: '["quay.io/fedora/fedora:40","quay.io/fedora/fedora:latest"]',
      'rolled-back': '[]'
    })
  })

  test('partly failed: destinations lists only what serves the list', () => {
    const out = outputs(failedReport())
    expect(out.result).toBe('failed')
    expect(JSON.parse(out.destinations)).toEqual(['a.example/fedora:40'])
  })

  test('refused', () => {
    expect(outputs(refusedReport())).toEqual({
      result: 'failed',
      digest: '',
      arches: '[]',
      'missing-arches': '["s390x"]',
      'lost-arches': '["s390x"]',
      destinations: '[]',
      'rolled-back': '[]'
    })
  })

  test('failed before a plan: empty JSON arrays, never undefined', () => {
    expect(outputs(newReport())).toEqual({
      result: 'failed',
      digest: '',
      arches: '[]',
      'missing-arches': '[]',
      'lost-arches': '[]',
      destinations: '[]',
      'rolled-back': '[]'
    })
  })
})

describe('what the user wrote, as printed: short names qualified, platform names as given', () => {
  test('outputs', () => {
    const setOutput = jest.spyOn(core, 'setOutput').mockImplementation(() => undefined)
    setOutputs({ reports: [platformReport()] })
    const out = Object.fromEntries(
      setOutput.mock.calls.filter(([k]) => k !== 'result' && k !== 'digest').map(([k, v]) => [k, JSON.parse(v as string) as unknown])
    )
    expect(out.destinations).toEqual(userAppRefs)
    expect(out.arches).toEqual(['linux/amd64', 'linux/arm64', 'linux/s390x'])
    expect(out['lost-arches']).toEqual(['linux/s390x'])
    expect(Object.keys(out.results as object)).toEqual(['user/app'])
  })
})

describe('writeSummary', () => {
  // What each runner sets (act: pkg/runner/step.go and run_context.go; forgejo-runner: act/runner/step.go
  // and internal/app/run/runner.go): every one of them sets GITHUB_STEP_SUMMARY to a file.
  const RUNNER_VARS = ['GITHUB_STEP_SUMMARY', 'ACT', 'FORGEJO_ACTIONS', 'GITEA_ACTIONS', 'FORGEJO_STEP_SUMMARY', 'GITHUB_SERVER_URL']
  const saved = Object.fromEntries(RUNNER_VARS.map(name => [name, process.env[name]]))
  let dir: string
  let file: string
  let group: jest.SpyInstance
  const runner = (vars: Record<string, string>): void => {
    for (const name of RUNNER_VARS) delete process.env[name]
    Object.assign(process.env, vars)
  }
  const github = (): Record<string, string> => ({ GITHUB_STEP_SUMMARY: file, GITHUB_SERVER_URL: 'https://github.com' })
  const act = (): Record<string, string> => ({ ACT: 'true', GITHUB_STEP_SUMMARY: file, GITHUB_SERVER_URL: 'https://github.com' })
  const forgejo = (): Record<string, string> => ({
    FORGEJO_ACTIONS: 'true',
    GITEA_ACTIONS: 'true',
    FORGEJO_STEP_SUMMARY: file,
    GITHUB_STEP_SUMMARY: file,
    GITHUB_SERVER_URL: 'https://codeberg.org'
  })
  const gitea = (): Record<string, string> => ({
    GITEA_ACTIONS: 'true',
    GITHUB_STEP_SUMMARY: file,
    GITHUB_SERVER_URL: 'https://gitea.example.org'
  })
  const logged = (): string =>
    jest
      .mocked(core.info)
      .mock.calls.map(c => c[0])
      .join('\n')
  const written = (): string => fs.readFileSync(file, 'utf8')

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-test-'))
    file = path.join(dir, 'summary.md')
    fs.writeFileSync(file, 'earlier step\n')
    group = jest.spyOn(core, 'startGroup').mockImplementation(() => undefined)
    jest.spyOn(core, 'endGroup').mockImplementation(() => undefined)
  })
  afterEach(() => {
    runner(Object.fromEntries(Object.entries(saved).filter((e): e is [string, string] => e[1] !== undefined)))
    fs.rmSync(dir, { recursive: true, force: true })
  })

  test('true on GitHub: appended to the summary file, not printed', async () => {
    runner(github())
    await writeSummary({ reports: [publishedReport()] }, 'true')
    expect(written()).toBe(`earlier step\n${renderSummary(publishedReport())}\n`)
    expect(group).not.toHaveBeenCalled()
    expect(logged()).toBe('')
  })

  test.each<[string, () => Record<string, string>, string]>([
    ['act', act, 'Summary (act does not show job summaries)'],
    ['Forgejo', forgejo, 'Summary (Forgejo does not show job summaries)'],
    ['Gitea', gitea, 'Summary (Gitea shows job summaries only from 1.27, with a runner that uploads them)']
  ])('true on %s: the summary file, and the same Markdown in the log, in a group', async (_, vars, title) => {
    runner(vars())
    await writeSummary({ reports: [publishedReport()] }, 'true')
    expect(written()).toBe(`earlier step\n${renderSummary(publishedReport())}\n`)
    expect(group).toHaveBeenCalledWith(title)
    expect(logged()).toBe(renderSummary(publishedReport()))
  })

  test('true without GITHUB_STEP_SUMMARY: in the log, in a group', async () => {
    runner({})
    await writeSummary({ reports: [publishedReport()] }, 'true')
    expect(group).toHaveBeenCalledWith('Summary (this runner has no job summary file)')
    expect(logged()).toBe(renderSummary(publishedReport()))
  })

  test.each<[string, () => Record<string, string>]>([
    ['GitHub', github],
    ['act', act],
    ['Forgejo', forgejo]
  ])('log on %s: in the log only, the summary file untouched', async (_, vars) => {
    runner(vars())
    await writeSummary({ reports: [publishedReport()] }, 'log')
    expect(written()).toBe('earlier step\n')
    expect(group).toHaveBeenCalledWith('Summary')
    expect(logged()).toBe(renderSummary(publishedReport()))
  })

  test.each<[string, () => Record<string, string>]>([
    ['GitHub', github],
    ['act', act],
    ['Forgejo', forgejo]
  ])('false on %s: neither', async (_, vars) => {
    runner(vars())
    await writeSummary({ reports: [publishedReport()] }, 'false')
    expect(written()).toBe('earlier step\n')
    expect(group).not.toHaveBeenCalled()
    expect(logged()).toBe('')
  })

  test('an unwritable summary file is a warning, not a failure', async () => {
    runner({ GITHUB_STEP_SUMMARY: dir }) // a directory
    await expect(writeSummary({ reports: [publishedReport()] }, 'true')).resolves.toBeUndefined()
    expect(core.warning).toHaveBeenCalledWith(expect.stringMatching(/^Could not write the job summary: EISDIR/))
  })
})

describe('several repositories (a release set)', () => {
  const named = (r: Report, name: string, result: Report['result']): Report => ({ ...r, name, result })

  test('outputs: unions of arches and destinations, no single digest', () => {
    const setOutput = jest.spyOn(core, 'setOutput').mockImplementation(() => undefined)
    setOutputs({ reports: [named(publishedReport(), 'fedora:40', 'published'), named(refusedReport(), 'fedora-minimal:40', 'failed')] })
    const out = Object.fromEntries(setOutput.mock.calls.map(([k, v]) => [k, v as string]))
    expect(out).toMatchObject({
      result: 'failed',
      digest: '',
      arches: '["x86_64","aarch64","s390x"]',
      'lost-arches': '["s390x"]',
      destinations: '["quay.io/fedora/fedora:40","quay.io/fedora/fedora:latest"]'
    })
  })
})
