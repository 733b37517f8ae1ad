import * as core from './runner'

/**
 * What the post step needs when the main step was killed before its own cleanup. Saved as soon as
 * the thing exists and cleared once it is gone, so the post step only ever removes leftovers.
 */
export const STATE = {
  /** The local manifest lists, one per repository, a line each (`manifest rm` them). */
  localList: 'local-list',
  /** The private directory holding the temporary auth file. */
  authDir: 'auth-dir',
  /** The directory of the local lists' OCI layouts (manifests and configs already read; public). */
  layoutDir: 'layout-dir'
} as const

export type StateKey = (typeof STATE)[keyof typeof STATE]

export function saveState(key: StateKey, value: string): void {
  core.saveState(key, value)
}

export function getState(key: StateKey): string {
  return core.getState(key)
}
