import * as core from '@actions/core'
import { removeCredentials } from './auth'
import { removeList } from './buildah'
import { getInputs } from './inputs'
import { publish, STATE } from './publish'
import { newReport, Report, setOutputs, writeSummary } from './report'

/** The action's entry point (also what `npx @github/local-action run . src/main.ts .env` calls). */
export async function run(): Promise<void> {
  if (core.getState('is-post') === 'true') return cleanUpAfterCrash()
  core.saveState('is-post', 'true')
  const report: Report = newReport()
  let summary = true
  try {
    const inputs = getInputs(name => core.getInput(name))
    summary = inputs.summary
    Object.assign(report, { name: `${inputs.repo}:${inputs.tag}`, format: inputs.format, policy: inputs.policy })
    await publish(inputs, report)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    report.result = 'failed'
    report.error = message
    // Forgejo and Gitea show `::error::` lines raw or not at all: say it plainly too.
    core.info(`Error: ${message}`)
    core.setFailed(message)
  } finally {
    setOutputs(report)
    if (summary) writeSummary(report)
  }
}

/** Post step: only has work when the main step was killed before its own cleanup. */
async function cleanUpAfterCrash(): Promise<void> {
  removeCredentials({ tempDir: core.getState(STATE.authDir) })
  const list = core.getState(STATE.localList)
  if (list) {
    core.info(`Removing the local list ${list} left by the main step`)
    await removeList(list).catch((e: unknown) => core.warning(`Could not remove ${list}: ${(e as Error).message}`))
  }
}
