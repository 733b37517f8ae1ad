import * as fs from 'fs'
import * as log from './log'
import { removeCredentials } from './auth'
import { removeList } from './buildah'
import { childEnv } from './env'
import { explain } from './retry'
import { getState, STATE } from './state'

/**
 * The post step's own entry (action.yml `runs.post`): it only removes what a killed main step left
 * behind, and never publishes. Without saved state (a runner that does not pass it) it does nothing.
 */
export async function post(): Promise<void> {
  removeCredentials({ tempDir: getState(STATE.authDir) })
  const layouts = getState(STATE.layoutDir)
  if (layouts) fs.rmSync(layouts, { recursive: true, force: true })
  // The runner gives this step every input again (the password too) and its tokens: children get none.
  const env = childEnv(process.env)
  // One local list per repository, a line each.
  for (const list of getState(STATE.localList).split('\n').filter(Boolean)) {
    log.info(`Removing the local list ${list} left by the main step`)
    await removeList(list, env).catch((e: unknown) => log.warning(`Could not remove ${list}: ${explain(e)}`))
  }
}
