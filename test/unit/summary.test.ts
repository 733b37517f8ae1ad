import type { Plan } from '../../src/model'
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
  shortDigest
} from '../../src/summary'
import { D1, D2, D3, failedReport, LIST, platformReport, publishedReport, refusedReport, userAppRefs } from './reports'

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

describe('what the user wrote, as printed: short names qualified, platform names as given', () => {
  test('the references are qualified where they are made', () => {
    expect(userAppRefs).toEqual(['docker.io/user/app:1.2.3', 'docker.io/library/app:1.2.3'])
  })

  test('summary', () => {
    const text = renderSummary(platformReport())
    for (const ref of userAppRefs) expect(text).toContain(`| \`${ref}\` |`)
    expect(text).toContain(`podman pull docker.io/user/app@${LIST}`)
    expect(text).toMatch(/^\| linux\/arm64 \| `sha256:2{12}` \| no \| yes, new image \|$/m)
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

describe('the details of the summary', () => {
  const lines = (r: Report): string[] => renderSummary(r).split('\n')

  test.each<[string, string]>([
    [LIST, 'sha256:ffffffffffff'],
    // Not a bare digest: shown whole.
    [`quay.io/fedora/fedora@${LIST}`, `quay.io/fedora/fedora@${LIST}`],
    [`${LIST}-x`, `${LIST}-x`],
    ['sha256:abc', 'sha256:abc']
  ])('shortDigest(%j) is %j', (digest, shown) => {
    expect(shortDigest(digest)).toBe(shown)
  })

  test("a sentence that is not the plan's publishing one is shown as it is", () => {
    const r = publishedReport()
    r.result = 'unchanged'
    ;(r.plan as Plan).reason = 'Nothing to publish: every destination already serves this list.'
    expect(lines(r)[2]).toBe('Nothing to publish: every destination already serves this list.')
  })

  test('a refusal that is also the error is said once', () => {
    expect(renderSummary(refusedReport()).match(/Refusing to publish/g)).toHaveLength(1)
  })

  test.each<[number, string]>([
    [59_949, 'took 59.9 s'],
    [60_000, 'took 1 min 0 s'],
    [125_400, 'took 2 min 5 s']
  ])('%d ms: %s', (ms, said) => {
    const r = newReport()
    r.durationMs = ms
    expect(lines(r)[2]).toBe(said)
  })

  test('a plan without rows has no arch table', () => {
    const r = refusedReport()
    ;(r.plan as Plan).rows = []
    expect(renderSummary(r)).not.toContain('| arch |')
  })

  test('a dry run: each destination would get the new list; no pull command without a digest', () => {
    const r = publishedReport()
    r.result = 'dry-run'
    r.digest = ''
    r.destinations = [{ ref: 'quay.io/fedora/fedora:40', status: 'would push', previous: D3 }]
    expect(lines(r)).toContain('| `quay.io/fedora/fedora:40` | `sha256:333333333333` | would be the new list | would push |')
    const published = publishedReport()
    published.digest = ''
    expect(renderSummary(published)).not.toContain('Pull it:')
  })

  test('attestations kept: counted in the facts, each digest in the details', () => {
    const r = publishedReport()
    const attestation = (digest: string, arch: string): Plan['attestations'][number] => ({
      digest,
      arch,
      ref: `quay.io/fedora/fedora@${digest}`,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      subject: D1,
      annotations: {}
    })
    ;(r.plan as Plan).attestations = [attestation(D2, 'x86_64')]
    expect(renderSummary(r)).toContain(' · 1 attestation kept · ')
    expect(lines(r)).toContain(`${D2}  x86_64 attestation`)
    ;(r.plan as Plan).attestations.push(attestation(D3, 'aarch64'))
    expect(renderSummary(r)).toContain(' · 2 attestations kept · ')
  })

  test('a destination with nothing before has no "before" digest line; untrusted text cannot close the fence', () => {
    const r = publishedReport()
    expect(renderSummary(r)).not.toContain('before, at')
    r.destinations[0].previous = 'sha256:```x'
    expect(lines(r)).toContain("sha256:'''x  before, at quay.io/fedora/fedora:40")
  })

  test('results: a report without a name is keyed by the empty name', () => {
    expect(Object.keys(results({ reports: [newReport()] }))).toEqual([''])
  })

  test("an input error in a run without repositories, or with one: the run's error shows", () => {
    expect(renderRunSummary({ reports: [], error: 'Input "tag": bad' })).toContain('**Error:** Input "tag": bad')
    expect(renderRunSummary({ reports: [newReport()], error: 'Input "tag": bad' })).toContain('**Error:** Input "tag": bad')
  })

  test("several repositories: the run's error, an unnamed one as ?, and the time the run took", () => {
    const text = renderRunSummary({ reports: [newReport(), publishedReport()], error: 'cancelled', durationMs: 1500 })
    expect(text).toContain('| `?` | failed |')
    // Blank lines around each block: without one, Markdown runs the line on into the table before it.
    const lines = text.split('\n')
    const error = lines.indexOf('**Error:** cancelled')
    expect(lines.slice(error - 1, error + 3)).toEqual([
      '',
      '**Error:** cancelled',
      '',
      '| repository | result | arches | digest | destinations |'
    ])
    const took = lines.indexOf('took 1.5 s')
    expect(lines.slice(took - 2, took + 3)).toEqual([
      '| `fedora:40` | published | x86\\_64, aarch64, s390x | `sha256:ffffffffffff` | 2 of 2 |',
      '',
      'took 1.5 s',
      '',
      '### failed'
    ])
  })
})
