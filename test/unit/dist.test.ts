import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'

const ROOT = path.resolve(__dirname, '..', '..')

describe('the committed bundle', () => {
  test('is what src/ builds to (ncc is deterministic)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'multiarch-publish-dist-'))
    try {
      const build = spawnSync(process.execPath, [require.resolve('@vercel/ncc/dist/ncc/cli.js'), 'build', 'src/index.ts', '-o', out, '--license', 'licenses.txt', '--minify'], {
        cwd: ROOT,
        encoding: 'utf8'
      })
      expect(build.status).toBe(0)
      for (const file of ['index.js', 'licenses.txt']) {
        const fresh = fs.readFileSync(path.join(out, file), 'utf8')
        expect({ file, fresh: fresh === fs.readFileSync(path.join(ROOT, 'dist', file), 'utf8') }).toEqual({ file, fresh: true })
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  }, 120_000)

  test('has no module that failed to bundle', () => {
    // ncc turns an unresolvable import (an ESM-only @actions/* in a CommonJS build) into this stub and still exits 0.
    expect(fs.readFileSync(path.join(ROOT, 'dist', 'index.js'), 'utf8')).not.toContain('webpackMissingModule')
  })

  test('runs: `node dist/index.js` without inputs fails cleanly, naming the input', () => {
    const outputs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'multiarch-publish-smoke-')), 'out')
    fs.writeFileSync(outputs, '')
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_') && k !== 'GITHUB_STEP_SUMMARY'))
    const run = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'index.js')], { env: { ...env, GITHUB_OUTPUT: outputs, GITHUB_STATE: '' }, encoding: 'utf8' })
    expect(run.status).toBe(1)
    expect(run.stdout).toContain('::error::Input "repo": is required')
    expect(run.stdout).toContain('Error: Input "repo": is required')
    expect(fs.readFileSync(outputs, 'utf8')).toMatch(/^result<<(\S+)\nfailed\n\1$/m)
  })
})
