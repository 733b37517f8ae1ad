import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { post } from '../../src/post'

/**
 * The post step starts `buildah manifest rm` for a list the killed main step left. The runner hands
 * the post step every input again and its tokens: a `buildah` on PATH that records its environment
 * shows what the child got.
 */
describe('post step: what its children see', () => {
  let dir: string
  let saved: NodeJS.ProcessEnv

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-post-'))
    saved = { ...process.env }
    const bin = path.join(dir, 'bin')
    fs.mkdirSync(bin)
    fs.writeFileSync(
      path.join(bin, 'buildah'),
      `#!/bin/sh\nenv -0 > '${path.join(dir, 'environ')}'\necho "$@" >> '${path.join(dir, 'argv')}'\n`,
      {
        mode: 0o755
      }
    )
    Object.assign(process.env, {
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
      'STATE_local-list': 'localhost/multiarch-publish-temp-app-1-99-cafebabe',
      INPUT_PASSWORD: 'Post-pw-5eaf-never-seen',
      INPUT_USERNAME: 'ci-bot',
      GITHUB_TOKEN: 'ghs_post_token_never_seen',
      ACTIONS_RUNTIME_TOKEN: 'runtime-token-never-seen',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-token-never-seen',
      KEPT_FOR_TOOLS: 'kept'
    })
  })

  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
    Object.assign(process.env, saved)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  test('removes the layouts directory the main step left', async () => {
    const layouts = path.join(dir, 'multiarch-publish-layouts-x')
    fs.mkdirSync(path.join(layouts, 'multiarch-publish-layout-y'), { recursive: true })
    process.env['STATE_layout-dir'] = layouts
    await post()
    expect(fs.existsSync(layouts)).toBe(false)
  })

  test('removes the left list with no input, token or password in its environment', async () => {
    await post()
    expect(fs.readFileSync(path.join(dir, 'argv'), 'utf8')).toBe('manifest rm localhost/multiarch-publish-temp-app-1-99-cafebabe\n')
    const environ = fs.readFileSync(path.join(dir, 'environ'), 'utf8').split('\0').filter(Boolean)
    const names = environ.map(v => v.slice(0, v.indexOf('=')))
    expect(names.filter(n => /^INPUT_|TOKEN/i.test(n))).toEqual([])
    expect(environ.filter(v => /never-seen|never_seen/.test(v))).toEqual([])
    // Scrubbed, not emptied: what the containers tools need still reaches them.
    expect(environ).toContain('KEPT_FOR_TOOLS=kept')
  })
})
