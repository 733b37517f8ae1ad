/**
 * The environment buildah and skopeo run with: the runner's, minus what is known to be secret or to be
 * the action's own. Everything else stays (storage and registries configuration, REGISTRY_AUTH_FILE,
 * DOCKER_CONFIG, XDG_*, TMPDIR, HOME, PATH, proxies, SSL_CERT_*): a user may have set any of it for
 * the containers tools, so nothing is dropped for merely being unknown.
 */

/** The runner's and the forges' tokens, and the URLs that go with them. */
const SECRET_NAMES = new Set([
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RUNTIME_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_CACHE_URL',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GH_ENTERPRISE_TOKEN',
  'GITHUB_ENTERPRISE_TOKEN',
  'GITEA_TOKEN',
  'GITEA_RUNTIME_TOKEN',
  'FORGEJO_TOKEN',
  'FORGEJO_RUNTIME_TOKEN'
])

/** Files the runner reads back after the step: a child writing one could set outputs, state, env or PATH. */
const FILE_COMMANDS = ['OUTPUT', 'STATE', 'ENV', 'PATH', 'STEP_SUMMARY']
const FILE_COMMAND_NAMES = new Set(['GITHUB', 'GITEA', 'FORGEJO'].flatMap(prefix => FILE_COMMANDS.map(c => `${prefix}_${c}`)))

/** Whether a variable is not the children's to see. `INPUT_*` hold every input, the password too. */
export function isPrivate(name: string): boolean {
  return /^INPUT_/i.test(name) || SECRET_NAMES.has(name.toUpperCase()) || FILE_COMMAND_NAMES.has(name.toUpperCase())
}

/**
 * A copy of `env` for child processes. Variables whose value is one of `secrets` go too (a job may
 * have put the password in some other variable of its own).
 */
export function childEnv(env: NodeJS.ProcessEnv, secrets: readonly string[] = []): NodeJS.ProcessEnv {
  const known = new Set(secrets.filter(s => s.trim()).flatMap(s => [s, s.trim()]))
  const out: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || isPrivate(name)) continue
    if (known.has(value) || known.has(value.trim())) continue
    out[name] = value
  }
  return out
}
