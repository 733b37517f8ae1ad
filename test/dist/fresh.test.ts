/**
 * dist/ is committed (a JavaScript action runs straight from the repository), so it must be exactly what
 * src/ builds to. This runs scripts/build, the one place the ncc command is written, into a temporary
 * directory and compares every file with the committed one, byte for byte (ncc is deterministic).
 * check-dist.yml does the same on GitHub with `npm run build`.
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'

const ROOT = path.resolve(__dirname, '..', '..')
const COMMITTED = path.join(ROOT, 'dist')

/** Every file under dir, as sorted paths relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap(entry => (entry.isDirectory() ? filesUnder(dir, path.join(prefix, entry.name)) : [path.join(prefix, entry.name)]))
    .sort()
}

const committed = filesUnder(COMMITTED)
let scratch: string
let fresh: string

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'multiarch-publish-fresh-'))
  fresh = path.join(scratch, 'dist')
  const build = spawnSync(path.join(ROOT, 'scripts', 'build'), [fresh], { cwd: ROOT, encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`scripts/build failed (exit ${build.status}):\n${build.stdout}${build.stderr}`)
}, 600_000)

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
})

describe('the committed dist/', () => {
  test('holds both bundles, their source maps and the licences', () => {
    expect(committed).toEqual(
      expect.arrayContaining(['index.js', 'index.js.map', 'sourcemap-register.js', 'licenses.txt', 'post/index.js', 'post/index.js.map', 'post/sourcemap-register.js'])
    )
  })

  test('has exactly the files a fresh build has', () => {
    expect(committed).toEqual(filesUnder(fresh))
  })

  test.each(committed)('%s is byte for byte what scripts/build makes from src/ (run `npm run build` and commit dist/)', file => {
    const same = fs.readFileSync(path.join(COMMITTED, file)).equals(fs.readFileSync(path.join(fresh, file)))
    expect({ file, same }).toEqual({ file, same: true })
  })
})
