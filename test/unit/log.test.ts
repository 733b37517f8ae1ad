import { lintSnippets } from './lint-snippets'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import * as log from '../../src/log'
import { foreignCommands, parseCommands } from '../workflow-commands'
const { parseCommandFile } = require('../harness/action') as { parseCommandFile: (text: string) => Record<string, string> }

const HOSTILE = '40\n::set-output name=digest::evil\r\n::add-mask::40\n##[save-state name=x;]y\u001b[2J\u202e'

let stdout: string
let tmp: string
const env = { ...process.env }

beforeEach(() => {
  stdout = ''
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString()
    return true
  })
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'log-test-'))
  for (const name of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY']) {
    const file = path.join(tmp, name)
    fs.writeFileSync(file, '')
    process.env[name] = file
  }
})
afterEach(() => {
  jest.restoreAllMocks()
  fs.rmSync(tmp, { recursive: true, force: true })
  process.env = { ...env }
  process.exitCode = undefined
})

const lines = (): string[] => stdout.split(/\r?\n/).filter(Boolean)

describe('printing', () => {
  test.each<[string, (m: string) => void, RegExp]>([
    ['info', log.info, /^40\\n/],
    ['warning', log.warning, /^::warning::40\\n/],
    ['error', log.error, /^::error::40\\n/],
    ['notice', log.notice, /^::notice::40\\n/],
    ['debug', log.debug, /^::debug::40\\n/],
    ['setFailed', log.setFailed, /^::error::40\\n/]
  ])('%s prints hostile text as one line, starting no other command', (_, print, shape) => {
    print(HOSTILE)
    expect(lines()).toHaveLength(1)
    expect(lines()[0]).toMatch(shape)
    expect(lines()[0]).toContain('\\u001b[2J\\u202e')
    expect(foreignCommands(stdout)).toEqual([])
  })

  test('info of a message that starts with :: does not start a command', () => {
    log.info('::set-output name=a::b')
    expect(parseCommands(stdout)).toEqual([])
    expect(stdout).toBe('\\u003a:set-output name=a::b\n')
  })

  test('setFailed sets the exit code', () => {
    log.setFailed('no')
    expect(process.exitCode).toBe(1)
  })

  test(`a line is cut at LINE_MAX (${log.LINE_MAX}) characters`, () => {
    log.info('x'.repeat(100_000))
    expect(stdout).toBe(`${'x'.repeat(log.LINE_MAX)}…\n`)
  })

  test('group names are inert; the group ends when fn throws', async () => {
    await expect(
      log.group('build\n::add-mask::x', async () => {
        log.info('inside')
        throw new Error('boom')
      })
    ).rejects.toThrow('boom')
    expect(lines()).toEqual(['::group::build\\n::add-mask::x', 'inside', '::endgroup::'])
    expect(foreignCommands(stdout)).toEqual([])
  })

  test('group returns what fn returns', async () => {
    await expect(log.group('g', async () => 42)).resolves.toBe(42)
  })
})

describe('setOutput', () => {
  const outputs = (): Record<string, string> => parseCommandFile(fs.readFileSync(process.env.GITHUB_OUTPUT as string, 'utf8'))

  test('a plain value with line breaks and a heredoc delimiter stays one output, one line', () => {
    log.setOutput('digest', 'sha256:1\nghadelimiter_0b6f1d0c-0000-4000-8000-000000000000\ndigest=evil\r\nresult=published')
    expect(outputs()).toEqual({
      digest: 'sha256:1\\nghadelimiter_0b6f1d0c-0000-4000-8000-000000000000\\ndigest=evil\\r\\nresult=published'
    })
  })

  test('a JSON value keeps its meaning', () => {
    const value = ['x86_64', 'odd\u2028name\u0085', 'tag\u{e0041}']
    log.setOutput('arches', JSON.stringify(value))
    expect(JSON.parse(outputs().arches)).toEqual(value)
    expect(outputs().arches).not.toMatch(/[\u2028\u0085]/)
  })

  test.each(['a b', 'a\nb', 'x<<EOF', '', 'a=b'])('the name %j is refused', name => {
    expect(() => log.setOutput(name, 'v')).toThrow(/not an output name/)
  })

  test('without GITHUB_OUTPUT the value is still one escaped line', () => {
    delete process.env.GITHUB_OUTPUT
    log.setOutput('digest', 'a\n::set-output name=b::c')
    expect(foreignCommands(stdout).filter(c => c.name !== 'set-output')).toEqual([])
    expect(parseCommands(stdout).map(c => [c.name, c.properties, c.data])).toEqual([
      ['set-output', { name: 'digest' }, 'a\\n::set-output name=b::c']
    ])
  })
})

describe('setSecret', () => {
  const masks = (): string[] =>
    parseCommands(stdout)
      .filter(c => c.name === 'add-mask')
      .map(c => c.data)

  test('a one-line secret: masked once', () => {
    log.setSecret('s3cret')
    expect(masks()).toEqual(['s3cret'])
  })

  test('a multi-line secret: whole, each line, and the form inert() prints', () => {
    const secret = '-----BEGIN KEY-----\r\nabc123\n  def456  \n\n-----END KEY-----'
    log.setSecret(secret)
    expect(masks().sort()).toEqual(
      [
        secret,
        '-----BEGIN KEY-----\\r\\nabc123\\n  def456  \\n\\n-----END KEY-----',
        '-----BEGIN KEY-----',
        'abc123',
        '  def456  ',
        'def456',
        '-----END KEY-----'
      ].sort()
    )
    // Each mask command is one line of stdout.
    expect(lines().every(l => l.startsWith('::add-mask::'))).toBe(true)
  })

  test('blank secrets mask nothing', () => {
    log.setSecret('')
    log.setSecret('  \n ')
    expect(stdout).toBe('')
  })
})

describe('appendSummary', () => {
  const summary = (): string => fs.readFileSync(process.env.GITHUB_STEP_SUMMARY as string, 'utf8')

  test('appends the Markdown; control characters other than line breaks are escaped', () => {
    expect(log.appendSummary('## title\n\n| a | b\u001b[2J |\r\n')).toBe(true)
    expect(log.appendSummary('more')).toBe(true)
    expect(summary()).toBe('## title\n\n| a | b\\u001b[2J |\n\nmore\n')
  })

  test('a runner without summaries: false, and a plain note', () => {
    delete process.env.GITHUB_STEP_SUMMARY
    expect(log.appendSummary('x')).toBe(false)
    expect(stdout).toMatch(/^No GITHUB_STEP_SUMMARY/)
  })

  test('a summary that cannot be written: false, and a warning', () => {
    process.env.GITHUB_STEP_SUMMARY = path.join(tmp, 'no', 'such', 'dir')
    expect(log.appendSummary('x')).toBe(false)
    expect(stdout).toMatch(/^::warning::Could not write the job summary/)
  })
})

describe('lint: nothing in src/ prints around src/log.ts', () => {
  const REFUSED = [
    "import * as core from '@actions/core'\ncore.info('x')\n",
    "import * as core from '@actions/core'\ncore.setFailed('x')\n",
    "import * as core from '@actions/core'\nvoid core.summary.addRaw('x').write()\n",
    "import * as core from '@actions/core'\ncore.startGroup('x')\n",
    "import { warning } from '@actions/core'\nwarning('x')\n",
    "import * as core from './runner'\ncore.info('x')\n",
    "import { setOutput } from './runner'\nsetOutput('x', 'y')\n",
    "console.log('x')\n",
    "process.stdout.write('x')\n",
    "process.stderr.write('x')\n"
  ]
  const ALLOWED: Array<[string, string]> = [
    ['src/log.ts', "import * as core from '@actions/core'\ncore.info('x')\n"],
    ['src/some-new-file.ts', "import * as core from '@actions/core'\nexport const x = core.getInput('x')\n"],
    ['src/runner.ts', "process.stdout.write('x')\n"],
    ['test/unit/x.test.ts', "console.log('x')\n"]
  ]
  const cases: Array<[string, string]> = [...REFUSED.map((code): [string, string] => ['src/some-new-file.ts', code]), ...ALLOWED]
  let results: string[][]

  beforeAll(() => {
    results = lintSnippets(cases).map(found =>
      found.filter(
        p => !/^(prettier\/prettier|null|@typescript-eslint\/(no-floating-promises|no-misused-promises|await-thenable)):/.test(p)
      )
    )
  }, 60_000)

  test.each(REFUSED.map((code, i) => [code, i]))('%j is refused in src/, pointing at src/log.ts', (_, i) => {
    expect(results[i as number].length).toBeGreaterThan(0)
    expect(results[i as number].every(p => p.startsWith('no-restricted-syntax: ') && p.includes('src/log.ts'))).toBe(true)
  })

  test.each(ALLOWED.map(([file, code], i) => [file, code, REFUSED.length + i]))('%s may hold %j', (_, __, i) => {
    expect(results[i as number]).toEqual([])
  })
})
