import * as core from '@actions/core'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { parseReference } from '../../src/inputs/references'
import type { Entry, Plan } from '../../src/model'
import {
  newReport,
  outcomeLine,
  overallResult,
  renderRunSummary,
  renderSummary,
  Report,
  results,
  RunReport,
  serving,
  setOutputs,
  writeSummary
} from '../../src/report'

const D1 = `sha256:${'1'.repeat(64)}`
const D2 = `sha256:${'2'.repeat(64)}`
const D3 = `sha256:${'3'.repeat(64)}`
const LIST = `sha256:${'f'.repeat(64)}`

const entry = (arch: string, architecture: string, digest: string, kept = false): Entry => ({
  arch,
  platform: { os: 'linux', architecture },
  digest,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  ref: `quay.io/fedora/fedora@${digest}`,
  kept
})

function publishedReport(): Report {
  const plan: Plan = {
    decision: 'publish',
    reason: 'Publishing x86_64, aarch64, s390x to 1 destination, keeping the previous image for s390x.',
    entries: [entry('x86_64', 'amd64', D1), entry('aarch64', 'arm64', D2), entry('s390x', 's390x', D3, true)],
    missing: ['ppc64le', 's390x'],
    lost: ['s390x'],
    kept: ['s390x'],
    dropped: [],
    push: ['quay.io/fedora/fedora:40'],
    upToDate: ['quay.io/fedora/fedora:latest'],
    attestations: [],
    rows: [
      { arch: 'x86_64', newDigest: D1, inCurrent: 2, outcome: 'new' },
      { arch: 'aarch64', newDigest: D2, inCurrent: 0, outcome: 'new' },
      { arch: 'ppc64le', inCurrent: 0, outcome: 'missing' },
      { arch: 's390x', inCurrent: 2, outcome: 'kept' }
    ]
  }
  return {
    result: 'published',
    name: 'fedora:40',
    digest: LIST,
    buildah: '1.35.0',
    format: 'oci',
    policy: 'hybrid',
    plan,
    rolledBack: [],
    destinations: [
      { ref: 'quay.io/fedora/fedora:40', status: 'published' },
      { ref: 'quay.io/fedora/fedora:latest', status: 'up to date' }
    ]
  }
}

function refusedReport(): Report {
  const reason =
    'Refusing to publish: s390x (at every destination) is in the current list but has no new image, and missing-arch-policy is fail. Rebuild it, or set missing-arch-policy to hybrid (keep the previous image) or drop (publish without it).'
  return {
    result: 'failed',
    name: 'fedora:40',
    digest: '',
    buildah: '1.28.2',
    format: 'oci',
    policy: 'fail',
    error: reason,
    plan: {
      decision: 'refuse',
      reason,
      entries: [],
      missing: ['s390x'],
      lost: ['s390x'],
      kept: [],
      dropped: [],
      push: [],
      upToDate: [],
      attestations: [],
      rows: [
        { arch: 'x86_64', newDigest: D1, inCurrent: 2, outcome: 'new' },
        { arch: 's390x', inCurrent: 2, outcome: 'lost' }
      ]
    },
    rolledBack: [],
    destinations: [
      { ref: 'a.example/fedora:40', status: 'not pushed' },
      { ref: 'b.example/fedora:40', status: 'not pushed' }
    ]
  }
}

function failedReport(): Report {
  const r = publishedReport()
  r.result = 'failed'
  r.digest = LIST
  r.plan = { ...(r.plan as Plan), reason: 'Publishing x86_64, aarch64 to 3 destinations.', rows: (r.plan as Plan).rows.slice(0, 2) }
  r.destinations = [
    { ref: 'a.example/fedora:40', status: 'published' },
    {
      ref: 'b.example/fedora:40',
      status: 'failed',
      detail: 'writing manifest: StatusCode: 503, "a | b"\n  <html>down</html> (retried 3 times)'
    },
    {
      ref: 'c.example/fedora:40',
      status: 'failed',
      detail: 'after the push it lists platforms [linux/amd64], planned [linux/amd64, linux/arm64]'
    }
  ]
  r.error = 'Published to 1 of 3 destinations; failed: b.example/fedora:40 (x | y)'
  return r
}

beforeEach(() => {
  jest.spyOn(core, 'info').mockImplementation(() => undefined)
  jest.spyOn(core, 'warning').mockImplementation(() => undefined)
})
afterEach(() => jest.restoreAllMocks())

describe('renderSummary', () => {
  test('published: the decision in the past tense, a row per arch, before and after per destination, pull command, facts, full digests', () => {
    const r = publishedReport()
    r.destinations[0].previous = D3
    r.destinations[1].previous = LIST
    r.durationMs = 12_345
    expect(renderSummary(r)).toBe(
      [
        '## multiarch-publish: published `fedora:40`',
        '',
        'Published x86\\_64, aarch64, s390x to 1 destination, keeping the previous image for s390x.',
        '',
        '| arch | new image | in current list | in new list |',
        '|---|---|---|---|',
        '| x86\\_64 | `sha256:111111111111` | yes (2 of 2 destinations) | yes, new image |',
        '| aarch64 | `sha256:222222222222` | no | yes, new image |',
        '| ppc64le | none | no | no: no image found |',
        '| s390x | none; kept `sha256:333333333333` | yes (2 of 2 destinations) | yes, previous image kept (hybrid) |',
        '',
        '| destination | before | after | status |',
        '|---|---|---|---|',
        '| `quay.io/fedora/fedora:40` | `sha256:333333333333` | `sha256:ffffffffffff` | published |',
        '| `quay.io/fedora/fedora:latest` | `sha256:ffffffffffff` | `sha256:ffffffffffff` | up to date |',
        '',
        'Pull it:',
        '',
        '```sh',
        `podman pull quay.io/fedora/fedora@${LIST}`,
        '```',
        '',
        'digest `sha256:ffffffffffff` · format oci · missing-arch-policy hybrid · buildah 1.35.0 · took 12.3 s',
        '',
        '<details><summary>Full digests</summary>',
        '',
        '```',
        `${LIST}  the list`,
        `${D1}  x86_64, new image`,
        `${D2}  aarch64, new image`,
        `${D3}  s390x, kept`,
        `${D3}  before, at quay.io/fedora/fedora:40`,
        `${LIST}  before, at quay.io/fedora/fedora:latest`,
        '```',
        '',
        '</details>',
        ''
      ].join('\n')
    )
  })

  test.each<[Report['result'], string]>([
    ['dry-run', 'Would publish x86\\_64'],
    ['failed', 'Tried to publish x86\\_64']
  ])('%s: the decision says what would have happened', (result, start) => {
    const r = publishedReport()
    r.result = result
    expect(renderSummary(r).split('\n')[2]).toMatch(new RegExp(`^${start.replace(/\\/g, '\\\\')}`))
  })

  test('refused: the refusal sentence names the lost arch, and the row says lost', () => {
    const text = renderSummary(refusedReport())
    const lines = text.split('\n')
    expect(lines[0]).toBe('## multiarch-publish: failed `fedora:40`')
    expect(lines[2]).toBe(
      '**Error:** Refusing to publish: s390x (at every destination) is in the current list but has no new image, and missing-arch-policy is fail. Rebuild it, or set missing-arch-policy to hybrid (keep the previous image) or drop (publish without it).'
    )
    expect(lines).toContain('| s390x | none | yes (2 of 2 destinations) | no: lost, has no new image |')
    expect(lines).toContain('| x86\\_64 | `sha256:111111111111` | yes (2 of 2 destinations) | yes, new image |')
    expect(lines).toContain('| `a.example/fedora:40` | ? | none | not pushed |')
    expect(lines).toContain('format oci · missing-arch-policy fail · buildah 1.28.2')
    expect(text).not.toContain('digest `')
  })

  test('failed: each destination with its status; pipes, newlines and HTML in errors cannot break the table', () => {
    const lines = renderSummary(failedReport()).split('\n')
    expect(lines[2]).toBe('**Error:** Published to 1 of 3 destinations; failed: b.example/fedora:40 (x \\| y)')
    expect(lines).toContain('| `a.example/fedora:40` | ? | `sha256:ffffffffffff` | published |')
    expect(lines).toContain(
      '| `b.example/fedora:40` | ? | none | failed: writing manifest: StatusCode: 503, "a \\| b"\\\\n  &lt;html&gt;down&lt;/html&gt; (retried 3 times) |'
    )
    expect(lines).toContain(
      '| `c.example/fedora:40` | ? | none | failed: after the push it lists platforms \\[linux/amd64\\], planned \\[linux/amd64, linux/arm64\\] |'
    )
    // Every table row has exactly the columns of its header: count unescaped pipes.
    for (const line of lines.filter(l => l.startsWith('| `'))) expect(line.replace(/\\\|/g, '').split('|').length - 1).toBe(5)
    const archRows = lines.filter(l => /^\| (x86\\_64|aarch64) \|/.test(l))
    expect(archRows).toHaveLength(2)
    for (const line of archRows) expect(line.split('|').length - 1).toBe(5)
  })

  test('the dropped and dropped-arch wording', () => {
    const r = publishedReport()
    ;(r.plan as Plan).rows = [{ arch: 's390x', inCurrent: 1, outcome: 'dropped' }]
    expect(renderSummary(r)).toContain('| s390x | none | yes (1 of 2 destinations) | no, dropped |')
  })

  test('an input error before anything was known: heading and error only', () => {
    const r = newReport()
    r.error = 'Input "tag": "-x" is not a valid tag'
    expect(renderSummary(r)).toBe('## multiarch-publish: failed\n\n**Error:** Input "tag": "-x" is not a valid tag\n')
  })

  test('no plan, no error: heading only', () => {
    expect(renderSummary(newReport())).toBe('## multiarch-publish: failed\n')
  })
})

describe('serving', () => {
  test('only published and up-to-date destinations serve the list', () => {
    expect(serving(failedReport())).toEqual(['a.example/fedora:40'])
    expect(serving(publishedReport())).toEqual(['quay.io/fedora/fedora:40', 'quay.io/fedora/fedora:latest'])
    expect(serving(refusedReport())).toEqual([])
  })
})

describe('setOutputs', () => {
  const outputs = (report: Report): Record<string, string> => {
    const setOutput = jest.spyOn(core, 'setOutput').mockImplementation(() => undefined)
    setOutputs({ reports: [report] })
    const out = Object.fromEntries(setOutput.mock.calls.map(([k, v]) => [k, v as string]))
    // `results` has tests of its own below.
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
  // The references as getInputs makes them from metadata-action's tags for `images: user/app` and `images: app`.
  const refs = ['user/app:1.2.3', 'app:1.2.3'].map(r => parseReference('references', r, { tag: 'required', digest: 'never' }).text)
  const platformReport = (): Report => {
    const r = publishedReport()
    const plan = r.plan as Plan
    const byName: Record<string, string> = { x86_64: 'linux/amd64', aarch64: 'linux/arm64', s390x: 'linux/s390x', ppc64le: 'linux/ppc64le' }
    return {
      ...r,
      // As publish names a report: the repository path of the references, and the tag.
      name: 'user/app:1.2.3',
      plan: {
        ...plan,
        entries: plan.entries.map(e => ({ ...e, arch: byName[e.arch] })),
        missing: plan.missing.map(a => byName[a]),
        lost: plan.lost.map(a => byName[a]),
        kept: plan.kept.map(a => byName[a]),
        rows: plan.rows.map(row => ({ ...row, arch: byName[row.arch] }))
      },
      destinations: refs.map(ref => ({ ref, status: 'published', previous: null }))
    }
  }

  test('the references are qualified where they are made', () => {
    expect(refs).toEqual(['docker.io/user/app:1.2.3', 'docker.io/library/app:1.2.3'])
  })

  test('outputs', () => {
    const setOutput = jest.spyOn(core, 'setOutput').mockImplementation(() => undefined)
    setOutputs({ reports: [platformReport()] })
    const out = Object.fromEntries(
      setOutput.mock.calls.filter(([k]) => k !== 'result' && k !== 'digest').map(([k, v]) => [k, JSON.parse(v as string) as unknown])
    )
    expect(out.destinations).toEqual(refs)
    expect(out.arches).toEqual(['linux/amd64', 'linux/arm64', 'linux/s390x'])
    expect(out['lost-arches']).toEqual(['linux/s390x'])
    expect(Object.keys(out.results as object)).toEqual(['user/app'])
  })

  test('summary', () => {
    const text = renderSummary(platformReport())
    for (const ref of refs) expect(text).toContain(`| \`${ref}\` |`)
    expect(text).toContain(`podman pull docker.io/user/app@${LIST}`)
    expect(text).toMatch(/^\| linux\/arm64 \| `sha256:2{12}` \| no \| yes, new image \|$/m)
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

  test.each<[Report['result'][], Report['result']]>([
    [['published', 'failed', 'unchanged'], 'failed'],
    [['published', 'skipped'], 'skipped'],
    [['unchanged', 'published'], 'published'],
    [['unchanged', 'unchanged'], 'unchanged'],
    [['dry-run', 'dry-run'], 'dry-run']
  ])('result %j → %s', (each, expected) => {
    expect(overallResult({ reports: each.map((result, i) => named(publishedReport(), `r${i}:40`, result)) })).toBe(expected)
  })

  test('results: keyed by repository, each arch with platform, digest and outcome, each destination with its previous digest', () => {
    const a = named(publishedReport(), 'fedora:40', 'published')
    a.destinations[0].previous = D3
    a.destinations[1].previous = null
    const b = named(refusedReport(), 'fedora-minimal:40', 'failed')
    expect(results({ reports: [a, b] })).toEqual({
      fedora: {
        result: 'published',
        digest: LIST,
        arches: [
          { arch: 'x86_64', platform: 'linux/amd64', digest: D1, outcome: 'new' },
          { arch: 'aarch64', platform: 'linux/arm64', digest: D2, outcome: 'new' },
          { arch: 'ppc64le', platform: null, digest: null, outcome: 'missing' },
          { arch: 's390x', platform: 'linux/s390x', digest: D3, outcome: 'kept' }
        ],
        destinations: [
          { ref: 'quay.io/fedora/fedora:40', previous: D3, status: 'published' },
          { ref: 'quay.io/fedora/fedora:latest', previous: null, status: 'up to date' }
        ]
      },
      'fedora-minimal': {
        result: 'failed',
        digest: '',
        arches: [
          { arch: 'x86_64', platform: null, digest: D1, outcome: 'new' },
          { arch: 's390x', platform: null, digest: null, outcome: 'lost' }
        ],
        destinations: [
          { ref: 'a.example/fedora:40', previous: null, status: 'not pushed' },
          { ref: 'b.example/fedora:40', previous: null, status: 'not pushed' }
        ]
      }
    })
  })

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

  test('the summary starts with one overview table, then each repository in detail', () => {
    const text = renderRunSummary({
      reports: [named(publishedReport(), 'fedora:40', 'published'), named(refusedReport(), 'fedora-minimal:40', 'failed')],
      durationMs: 2000
    })
    const lines = text.split('\n')
    expect(lines.slice(0, 6)).toEqual([
      '## multiarch-publish: failed, 2 repositories',
      '',
      '| repository | result | arches | digest | destinations |',
      '|---|---|---|---|---|',
      '| `fedora:40` | published | x86\\_64, aarch64, s390x | `sha256:ffffffffffff` | 2 of 2 |',
      '| `fedora-minimal:40` | failed | none | none | 0 of 2 |'
    ])
    expect(lines).toContain('### published `fedora:40`')
    expect(lines).toContain('### failed `fedora-minimal:40`')
  })

  test('one repository: the summary is as it always was', () => {
    expect(renderRunSummary({ reports: [publishedReport()] })).toBe(renderSummary(publishedReport()))
  })
})

describe('outcomeLine: the last line of the log', () => {
  test.each<[string, RunReport, string]>([
    ['one repository', { reports: [publishedReport()] }, `multiarch-publish: published fedora:40 ${LIST}; 2 of 2 destinations serve it`],
    ['a refusal', { reports: [refusedReport()] }, 'multiarch-publish: failed fedora:40; 0 of 2 destinations serve it'],
    ['a bad input', { reports: [], error: 'Input "tag": is required' }, 'multiarch-publish: failed'],
    [
      'a release set',
      { reports: [publishedReport(), { ...refusedReport(), name: 'fedora-minimal:40' }, { ...publishedReport(), result: 'unchanged' }] },
      'multiarch-publish: failed; 3 repositories: 1 failed, 1 published, 1 unchanged'
    ]
  ])('%s', (_, run, line) => {
    expect(outcomeLine(run)).toBe(line)
  })
})
