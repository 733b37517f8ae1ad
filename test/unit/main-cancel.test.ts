/**
 * run()'s signal handler (src/main.ts), which no other test kills when its abort is removed (issue
 * 19): a cancel that lands while no child runs (a retry's back-off, a read-back pause) has no child
 * to stop, so only the aborted signal keeps the run from going on into later waves (commit's
 * `wave()` checks it; test/unit/commit.test.ts "cancelled"). publish is faked; it is where that
 * back-off would be.
 */
import { Cancelled } from '../../src/commit'
import { stopChildren } from '../../src/exec'
import * as log from '../../src/log'
import { run } from '../../src/main'
import { publish } from '../../src/publish'

jest.mock('../../src/log', () => ({ info: jest.fn(), setFailed: jest.fn() }))
jest.mock('../../src/exec', () => ({ stopChildren: jest.fn(async () => 0) }))
jest.mock('../../src/publish', () => ({ publish: jest.fn() }))
jest.mock('../../src/report', () => ({ setOutputs: jest.fn(), writeSummary: jest.fn() }))

// The inputs as a runner passes them: only the required ones.
const INPUTS = { INPUT_REPO: 'r', INPUT_TAG: '1', INPUT_ARCHES: 'x86_64', INPUT_REGISTRIES: 'registry.example.org' }
beforeEach(() => {
  jest.clearAllMocks()
  Object.assign(process.env, INPUTS)
})
afterEach(() => {
  for (const name of Object.keys(INPUTS)) delete process.env[name]
})

test.each(['SIGTERM', 'SIGINT'] as const)('%s while no child runs: the run is told to stop, and fails as cancelled', async signal => {
  const abortedAfterSignal: boolean[] = []
  jest.mocked(publish).mockImplementation(async (_inputs, _run, runSignal) => {
    // Between two steps of the run: no child process to stop.
    process.emit(signal, signal)
    abortedAfterSignal.push(runSignal.aborted)
    // What the next wave does with an aborted signal.
    if (runSignal.aborted) throw new Cancelled()
  })
  await run()
  expect(abortedAfterSignal).toEqual([true])
  expect(stopChildren).toHaveBeenCalled()
  expect(log.setFailed).toHaveBeenCalledWith('The run was cancelled')
})

test('a second signal adds nothing: one line, one stop; the handlers go with the run', async () => {
  const listeners = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') }
  jest.mocked(publish).mockImplementation(async () => {
    process.emit('SIGINT', 'SIGINT')
    // The runner's SIGTERM after its SIGINT.
    process.emit('SIGTERM', 'SIGTERM')
    throw new Cancelled()
  })
  await run()
  expect(jest.mocked(log.info).mock.calls.filter(([line]) => line.startsWith('Received'))).toEqual([['Received SIGINT: stopping']])
  expect(stopChildren).toHaveBeenCalledTimes(1)
  expect({ SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') }).toEqual(listeners)
})

test('a step failing after the cancel fails as cancelled, with its reason; said plainly too (Forgejo)', async () => {
  jest.mocked(publish).mockImplementation(async () => {
    process.emit('SIGTERM', 'SIGTERM')
    throw new Error('push r: connection reset')
  })
  await run()
  expect(log.setFailed).toHaveBeenCalledWith('The run was cancelled: push r: connection reset')
  expect(log.info).toHaveBeenCalledWith('Error: The run was cancelled: push r: connection reset')
})
