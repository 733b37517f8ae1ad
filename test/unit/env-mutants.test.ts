/**
 * Tests for mutants the mutation run (npm run mutate, Stryker) found alive in src/env.ts: every token
 * name on the list is private by itself, `INPUT_` counts only as a prefix, and a padded secret also
 * removes its trimmed value.
 */
import { childEnv, isPrivate } from '../../src/env'

test.each(['GH_ENTERPRISE_TOKEN', 'GITHUB_ENTERPRISE_TOKEN', 'GITEA_RUNTIME_TOKEN', 'FORGEJO_RUNTIME_TOKEN'])(
  '%s is private, in any case',
  name => {
    expect([isPrivate(name), isPrivate(name.toLowerCase())]).toEqual([true, true])
    expect(childEnv({ [name]: 'x', PATH: '/bin' })).toEqual({ PATH: '/bin' })
  }
)

test('INPUT_ counts only at the start of a name', () => {
  expect([isPrivate('MY_INPUT_DIR'), isPrivate('XINPUT_PASSWORD'), isPrivate('input_password')]).toEqual([false, false, true])
  expect(childEnv({ MY_INPUT_DIR: '/in', INPUT_DIR: '/in2' })).toEqual({ MY_INPUT_DIR: '/in' })
})

test('a secret given with blanks around it also removes a variable holding it trimmed', () => {
  expect(childEnv({ TRIMMED: 'hunter2', PADDED: ' hunter2 ', OTHER: 'hunter3' }, [' hunter2 '])).toEqual({ OTHER: 'hunter3' })
})
