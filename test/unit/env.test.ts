import { childEnv, isPrivate } from '../../src/env'

/** What a runner's step environment holds, roughly. */
const RUNNER: NodeJS.ProcessEnv = {
  INPUT_PASSWORD: ' hunter2 ',
  INPUT_USERNAME: 'bot',
  'INPUT_AUTH-FILE': '/tmp/auth.json',
  input_lowercase: 'x',
  ACTIONS_RUNTIME_TOKEN: 'rt',
  ACTIONS_RUNTIME_URL: 'https://pipelines.example/',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.example/',
  ACTIONS_RESULTS_URL: 'https://results.example/',
  ACTIONS_CACHE_URL: 'https://cache.example/',
  GITHUB_TOKEN: 'ghs_x',
  GH_TOKEN: 'ghs_y',
  GH_ENTERPRISE_TOKEN: 'ghe_x',
  GITHUB_ENTERPRISE_TOKEN: 'ghe_y',
  GITEA_TOKEN: 'gt',
  GITEA_RUNTIME_TOKEN: 'grt',
  FORGEJO_TOKEN: 'ft',
  FORGEJO_RUNTIME_TOKEN: 'frt',
  GITHUB_OUTPUT: '/runner/_temp/_runner_file_commands/set_output_1',
  GITHUB_STATE: '/runner/_temp/_runner_file_commands/save_state_1',
  GITHUB_ENV: '/runner/_temp/_runner_file_commands/set_env_1',
  GITHUB_PATH: '/runner/_temp/_runner_file_commands/add_path_1',
  GITHUB_STEP_SUMMARY: '/runner/_temp/_runner_file_commands/step_summary_1',
  FORGEJO_OUTPUT: '/forgejo/output',
  GITEA_ENV: '/gitea/env'
}

/** Everything a user may have set for the containers tools, and what any process needs. */
const KEPT: NodeJS.ProcessEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/runner',
  TMPDIR: '/tmp/x',
  LANG: 'C.UTF-8',
  XDG_RUNTIME_DIR: '/run/user/1001',
  XDG_CONFIG_HOME: '/home/runner/.config',
  CONTAINERS_STORAGE_CONF: '/etc/containers/storage.conf',
  CONTAINERS_REGISTRIES_CONF: '/etc/containers/registries.conf',
  CONTAINERS_CONF: '/etc/containers/containers.conf',
  REGISTRY_AUTH_FILE: '/run/containers/0/auth.json',
  DOCKER_CONFIG: '/home/runner/.docker',
  STORAGE_DRIVER: 'vfs',
  BUILDAH_ISOLATION: 'chroot',
  HTTPS_PROXY: 'http://proxy:3128',
  https_proxy: 'http://proxy:3128',
  NO_PROXY: 'localhost',
  SSL_CERT_FILE: '/etc/ssl/certs/ca.pem',
  SSL_CERT_DIR: '/etc/ssl/certs',
  GITHUB_WORKSPACE: '/runner/work/x',
  GITHUB_REPOSITORY: 'o/r',
  RUNNER_TEMP: '/runner/_temp',
  STATE_is_post: 'true',
  ACTIONS_STEP_DEBUG: 'true',
  CI: 'true',
  // INPUT_ counts only at the start of a name.
  MY_INPUT_DIR: '/in',
  XINPUT_PASSWORD: 'x'
}

test('drops the inputs, the tokens and the file-command paths; keeps everything else', () => {
  expect(childEnv({ ...RUNNER, ...KEPT })).toEqual(KEPT)
})

test.each(Object.keys(RUNNER))('%s is private, in any case', name => {
  expect([isPrivate(name), isPrivate(name.toLowerCase())]).toEqual([true, true])
})

test.each(Object.keys(KEPT))('%s is passed on', name => {
  expect(isPrivate(name)).toBe(false)
})

test('a variable that holds a secret goes too, whatever its name', () => {
  const env = { ...KEPT, MY_QUAY_TOKEN: 'hunter2', PADDED: ' hunter2\n', OTHER: 'not-it', B64: 'Ym90Omh1bnRlcjI=' }
  expect(childEnv(env, ['hunter2', 'Ym90Omh1bnRlcjI='])).toEqual({ ...KEPT, OTHER: 'not-it' })
})

test('a secret given with blanks around it also removes a variable holding it trimmed', () => {
  expect(childEnv({ TRIMMED: 'hunter2', PADDED: ' hunter2 ', OTHER: 'hunter3' }, [' hunter2 '])).toEqual({ OTHER: 'hunter3' })
})

test('blank secrets remove nothing', () => {
  expect(childEnv({ ...KEPT, EMPTY: '', BLANK: ' ' }, ['', ' '])).toEqual({ ...KEPT, EMPTY: '', BLANK: ' ' })
})

test('the given environment is not changed, and undefined values are left out', () => {
  const env: NodeJS.ProcessEnv = { ...RUNNER, PATH: '/bin', GONE: undefined }
  const before = { ...env }
  const out = childEnv(env)
  expect(env).toEqual(before)
  expect(out).toEqual({ PATH: '/bin' })
  expect('GONE' in out).toBe(false)
})
