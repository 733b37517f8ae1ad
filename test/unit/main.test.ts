/**
 * What run() (src/main.ts) does with the inputs before and after publish: the one notice for the
 * annotations a list cannot carry, and the summary mode it hands to writeSummary. publish is faked.
 */
import * as log from '../../src/log'
import { ignoredAnnotationsNotice, run } from '../../src/main'
import { publish } from '../../src/publish'
import { setOutputs, writeSummary } from '../../src/report'
import type { Report, RunReport } from '../../src/summary'
import { parseCommands } from '../workflow-commands'

jest.mock('../../src/log', () => ({ info: jest.fn(), notice: jest.fn(), setFailed: jest.fn() }))
jest.mock('../../src/publish', () => ({ publish: jest.fn() }))
jest.mock('../../src/report', () => ({ setOutputs: jest.fn(), writeSummary: jest.fn() }))

const INPUTS = { INPUT_REPO: 'r', INPUT_TAG: '1', INPUT_ARCHES: 'x86_64', INPUT_REGISTRIES: 'registry.example.org' }
const given = (inputs: Record<string, string>): void => {
  Object.assign(process.env, INPUTS, inputs)
}
afterEach(() => {
  jest.clearAllMocks()
  for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_')) delete process.env[name]
})

// docker/metadata-action's `annotations` output with DOCKER_METADATA_ANNOTATIONS_LEVELS=manifest,index.
const META = [
  'manifest:org.opencontainers.image.title=app',
  'manifest:org.opencontainers.image.version=1.2.3',
  'index:org.opencontainers.image.title=app',
  'index:org.opencontainers.image.version=1.2.3'
].join('\n')

describe('annotations a list cannot carry', () => {
  test("metadata-action's output: one notice naming the manifest: lines; the index: ones go to publish", async () => {
    given({ INPUT_ANNOTATIONS: META })
    await run()
    expect(log.notice).toHaveBeenCalledTimes(1)
    expect(log.notice).toHaveBeenCalledWith(
      'Input "annotations": not applied to the list: "manifest:org.opencontainers.image.title", "manifest:org.opencontainers.image.version". ' +
        'A list takes unprefixed and index: lines; manifest: and manifest-descriptor: ones are for the per-arch images, which build-push-action annotates when it builds.'
    )
    expect(jest.mocked(publish).mock.calls[0][0].annotations).toEqual({
      'org.opencontainers.image.title': 'app',
      'org.opencontainers.image.version': '1.2.3'
    })
    expect(log.setFailed).not.toHaveBeenCalled()
  })

  test('only index: lines: no notice', async () => {
    given({ INPUT_ANNOTATIONS: 'index:org.opencontainers.image.title=app' })
    await run()
    expect(log.notice).not.toHaveBeenCalled()
  })

  test('a long list is cut after five names; hostile names stay inert', () => {
    const names = Array.from({ length: 7 }, (_, i) => `manifest:k${i}`)
    expect(ignoredAnnotationsNotice(names)).toMatch(/"manifest:k4" and 2 more\. /)
    const hostile = ignoredAnnotationsNotice(['manifest:k\n::set-output name=digest::evil'])
    expect(hostile).not.toMatch(/[\r\n]/)
    expect(parseCommands(hostile)).toEqual([])
  })
})

describe('the summary mode', () => {
  test.each(['true', 'log', 'false'])('summary %s is handed to writeSummary', async summary => {
    given({ INPUT_SUMMARY: summary })
    await run()
    expect(writeSummary).toHaveBeenCalledWith(expect.anything(), summary)
  })

  test('an input error before the mode is known: the default, true', async () => {
    given({ INPUT_SUMMARY: 'log', INPUT_SOURCES: 'x86_64: ghcr.io/o/app:1' })
    await run()
    expect(log.setFailed).toHaveBeenCalledWith('Input "sources": was renamed to "arch-images"; use "arch-images" instead')
    expect(writeSummary).toHaveBeenCalledWith(expect.anything(), 'true')
  })
})

describe('where an error is reported', () => {
  const failedReport = (error?: string): Report => ({ result: 'failed', digest: '', destinations: [], rolledBack: [], error })
  const reported = (): RunReport => jest.mocked(setOutputs).mock.calls[0][0]
  const errors = (): { run?: string; repositories: Array<string | undefined> } => ({
    run: reported().error,
    repositories: reported().reports.map(r => r.error)
  })

  test("one repository: its report takes the error, unless it has one of its own; the run's stays empty", async () => {
    given({})
    jest.mocked(publish).mockImplementationOnce(async (_inputs, run) => {
      run.reports.push(failedReport())
      throw new Error('push r: unauthorized')
    })
    await run()
    expect(errors()).toEqual({ run: undefined, repositories: ['push r: unauthorized'] })
    jest.clearAllMocks()
    jest.mocked(publish).mockImplementationOnce(async (_inputs, run) => {
      run.reports.push(failedReport('verify r: the list lost s390x'))
      throw new Error('1 of 1 repositories failed')
    })
    await run()
    expect(errors()).toEqual({ run: undefined, repositories: ['verify r: the list lost s390x'] })
  })

  test("several repositories, or none yet: the run's error", async () => {
    given({})
    jest.mocked(publish).mockImplementationOnce(async (_inputs, run) => {
      run.reports.push(failedReport('a'), failedReport('b'))
      throw new Error('2 of 2 repositories failed')
    })
    await run()
    expect(errors()).toEqual({ run: '2 of 2 repositories failed', repositories: ['a', 'b'] })
  })

  test('the duration is the time the run took', async () => {
    given({})
    const before = Date.now()
    await run()
    const took = Date.now() - before
    expect(reported().durationMs).toBeGreaterThanOrEqual(0)
    expect(reported().durationMs).toBeLessThanOrEqual(took)
  })
})
