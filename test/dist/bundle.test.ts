/**
 * What the committed bundles carry besides code: nothing that failed to bundle, and source maps that
 * turn a stack trace into src/*.ts lines. ncc's --source-map writes index.js.map and
 * sourcemap-register.js (its copy of source-map-support), which each bundle loads first; a runner
 * starts `node dist/index.js` with no flags, so `--enable-source-maps` is not an option.
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'

const ROOT = path.resolve(__dirname, '..', '..')
const BUNDLES = ['dist/index.js', 'dist/post/index.js']

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe.each(BUNDLES)('%s', bundle => {
  const file = path.join(ROOT, bundle)
  const code = fs.readFileSync(file, 'utf8')

  test('has no module that failed to bundle', () => {
    // ncc turns an unresolvable import (an ESM-only @actions/* in a CommonJS build) into this stub and still exits 0.
    expect(code).not.toContain('webpackMissingModule')
  })

  test('loads source-map-support first, and names its map', () => {
    expect(code.startsWith("require('./sourcemap-register.js');")).toBe(true)
    expect(fs.existsSync(path.join(path.dirname(file), 'sourcemap-register.js'))).toBe(true)
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.js.map')).toBe(true)
  })

  test('its map points at the files in src/, and carries their TypeScript as it is', () => {
    const mapFile = `${file}.map`
    const map = JSON.parse(fs.readFileSync(mapFile, 'utf8'))
    const ours = (map.sources as string[]).map((source, i) => ({ source, i })).filter(({ source }) => /(^|\/)src\/[^/]+\.ts$/.test(source))
    expect(ours.length).toBeGreaterThan(0)
    for (const { source, i } of ours) {
      const resolved = path.resolve(path.dirname(mapFile), source)
      expect({ source, resolved }).toEqual({ source, resolved: path.join(ROOT, 'src', path.basename(source)) })
      // If this is JavaScript instead, ts-loader made no map of its own: tsconfig.json needs "sourceMap": true.
      const same = map.sourcesContent[i] === fs.readFileSync(resolved, 'utf8')
      expect({ source, same }).toEqual({ source, same: true })
    }
  })
})

test('an uncaught error in dist/index.js has a stack trace that names src/*.ts lines', () => {
  // Make every write to stdout throw: the first log line of the action fails, and so does every attempt
  // to report that, until the error leaves the action and Node.js prints its stack on stderr.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'multiarch-publish-stack-'))
  try {
    const preload = path.join(dir, 'stdout-gone.js')
    fs.writeFileSync(preload, "process.stdout.write = () => { throw new Error('stdout is gone') }\n")
    for (const name of ['output', 'state']) fs.writeFileSync(path.join(dir, name), '')
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(INPUT_|STATE_|GITHUB_|RUNNER_|NODE_OPTIONS$)/.test(k)))
    const run = spawnSync(process.execPath, ['--require', preload, path.join(ROOT, 'dist', 'index.js')], {
      cwd: dir,
      env: { ...env, GITHUB_OUTPUT: path.join(dir, 'output'), GITHUB_STATE: path.join(dir, 'state'), RUNNER_TEMP: dir },
      encoding: 'utf8',
      timeout: 60_000
    })
    expect(run.status).not.toBe(0)
    expect(run.stderr).toContain('stdout is gone')
    const frames = [...run.stderr.matchAll(new RegExp(`${escape(path.join(ROOT, 'src'))}/([\\w-]+\\.ts):(\\d+):\\d+`, 'g'))]
    expect(frames.length).toBeGreaterThan(0)
    for (const [, name, line] of frames) {
      const lines = fs.readFileSync(path.join(ROOT, 'src', name), 'utf8').split('\n').length
      expect([name, Number(line) >= 1 && Number(line) <= lines]).toEqual([name, true])
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
