'use strict'
/**
 * multiarch-publish, end to end, on this machine:
 *
 *   1. two throw-away registries on loopback, and tiny per-arch images pushed to the first;
 *   2. the bundled action (dist/index.js) publishes their list as `demo/hello:40` and `:latest` to both,
 *      run the way a runner runs it (INPUT_* in, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY out);
 *   3. the published list, as the registry serves it, and the job summary;
 *   4. a new build where s390x failed: the action refuses, and the registries keep the old list;
 *   5. the same build with missing-arch-policy hybrid: the previous s390x image is kept.
 *
 * Nothing outside the temp dirs and the loopback registries is touched; both are removed at the end.
 * Exits 0 when every step behaved as described, 1 otherwise. Run it with `./scripts/demo` or
 * `npm run demo`.
 */
const fs = require('node:fs')
const path = require('node:path')
const { startRegistry } = require('../test/harness/registry')
const { pushImage, inspectRaw } = require('../test/harness/images')
const { runAction, jsonArray, ROOT } = require('../test/harness/action')

/** @typedef {import('../test/harness/action').RunResult} RunResult */
/** @typedef {'x86_64' | 'aarch64' | 's390x'} Arch */
/**
 * An OCI image index as the registry serves it: the fields the demo reads.
 * @typedef {{manifests: Array<{digest: string, platform: {architecture: string}}>}} Index
 */

const tty = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (/** @type {string} */ code) => (/** @type {unknown} */ text) => (tty ? `\x1b[${code}m${text}\x1b[0m` : String(text))
const bold = paint('1')
const dim = paint('2')
const green = paint('32')
const red = paint('31')
const cyan = paint('36')

const REPO = 'demo/hello'
const TAG = '40'
// Fedora arch name -> OCI architecture of the image built for it.
/** @type {Record<Arch, string>} */
const ARCHES = { x86_64: 'amd64', aarch64: 'arm64', s390x: 's390x' }
// Object.keys types its result string[]; these are exactly ARCHES' keys.
const ARCH_NAMES = /** @type {Arch[]} */ (Object.keys(ARCHES))

let step = 0
/** @type {string[]} */
const problems = []

/** @param {string} text */
function heading(text) {
  step += 1
  console.log(`\n${bold(cyan(`── ${step}. ${text} `))}${cyan('─'.repeat(Math.max(0, 72 - text.length)))}\n`)
}

/**
 * @param {string} text
 * @param {string} [prefix]
 */
function indent(text, prefix = '    ') {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map(l => prefix + l)
    .join('\n')
}

/**
 * Record a broken expectation; the demo goes on, but exits 1.
 * @param {unknown} ok
 * @param {string} what
 */
function expect(ok, what) {
  if (ok) {
    console.log(`  ${green('✔')} ${what}`)
  } else {
    console.log(`  ${red('✘')} ${what}`)
    problems.push(what)
  }
}

/** @param {Record<string, string>} inputs */
function showInputs(inputs) {
  console.log('  Inputs (what a workflow would put under `with:`):')
  for (const [k, v] of Object.entries(inputs)) console.log(`    ${k}: ${v}`)
}

/** @param {RunResult} r */
function showRun(r) {
  console.log(`\n  Exit code: ${r.code === 0 ? green(r.code) : red(r.code)}`)
  console.log('  Outputs:')
  for (const name of ['result', 'digest', 'arches', 'missing-arches', 'lost-arches', 'destinations']) {
    console.log(`    ${name.padEnd(15)}${r.outputs[name] ?? dim('(not set)')}`)
  }
  console.log(`  Local lists left in buildah's storage: ${r.localLists.length ? red(r.localLists.join(' ')) : 'none'}`)
}

/**
 * The lines of the action's log that carry an error, as a runner would show them.
 * @param {RunResult} r
 */
function errorLines(r) {
  return r.all.split('\n').filter(l => /^(::error::|Error: )/.test(l.trim()))
}

/**
 * @param {string} host
 * @param {string} ref
 */
async function servedDigest(host, ref) {
  return (await inspectRaw(host, ref)).digest
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
    throw new Error('dist/index.js is missing: run `npm run build` first')
  }
  console.log(bold('multiarch-publish demo'))
  console.log(dim('Publishes a multi-arch list with the bundled action, then shows what happens when an arch goes missing.'))

  /** @type {import('../test/harness/registry').Registry[]} */
  const registries = []
  try {
    heading('Start two registries on loopback')
    const a = await startRegistry()
    registries.push(a)
    const b = await startRegistry()
    registries.push(b)
    console.log(`  registry A: ${a.url}   (holds the per-arch images, and gets the list)`)
    console.log(`  registry B: ${b.url}   (a mirror: gets the same list)`)

    heading('Push build 1: one tiny image per arch, tagged <tag>-<arch>')
    /** @type {Partial<Record<Arch, string>>} */
    const build1 = {}
    for (const arch of ARCH_NAMES) {
      const architecture = ARCHES[arch]
      const d = await pushImage({ host: a.host, repo: REPO, tag: `${TAG}-${arch}`, architecture, salt: 'build 1' })
      build1[arch] = d.digest
      console.log(`  ${a.host}/${REPO}:${TAG}-${arch}`.padEnd(48) + `linux/${architecture}`.padEnd(15) + dim(d.digest))
    }

    heading('Publish the list with the action')
    const inputs = {
      repo: REPO,
      tag: TAG,
      aliases: 'latest',
      arches: Object.keys(ARCHES).join(' '),
      registries: `${a.host} ${b.host}`,
      'tls-verify': 'false'
    }
    showInputs(inputs)
    console.log(dim('\n  Running `node dist/index.js` with INPUT_* variables, as a runner does...'))
    const first = await runAction(inputs)
    showRun(first)
    const firstDigest = first.outputs.digest
    expect(first.code === 0 && first.outputs.result === 'published', 'the step succeeded with result=published')
    expect(jsonArray(first.outputs.destinations).length === 4, 'four destinations serve the list (2 registries x 2 tags)')
    expect(first.localLists.length === 0, 'the temporary local list was removed')

    heading('What the registry serves now')
    const served = await inspectRaw(a.host, `${REPO}:${TAG}`)
    console.log(`  skopeo inspect --raw docker://${a.host}/${REPO}:${TAG}\n`)
    console.log(indent(JSON.stringify(served.json, null, 2)))
    console.log(`\n  sha256 of those bytes: ${served.digest}`)
    expect(served.digest === firstDigest, 'it is the digest the action reported')
    /** @type {Index} */
    const servedIndex = served.json
    for (const arch of ARCH_NAMES) {
      const entry = servedIndex.manifests.find(m => m.platform.architecture === ARCHES[arch])
      expect(entry && entry.digest === build1[arch], `the ${ARCHES[arch]} entry is the ${arch} image of build 1`)
    }
    for (const [host, ref] of [
      [a.host, `${REPO}:latest`],
      [b.host, `${REPO}:${TAG}`],
      [b.host, `${REPO}:latest`]
    ]) {
      expect((await servedDigest(host, ref)) === firstDigest, `${host}/${ref} serves the same digest`)
    }

    heading('The job summary (Markdown: GitHub renders it, Forgejo prints it like this)')
    console.log(indent(first.summary, '  │ '))

    heading('Build 2: x86_64 and aarch64 rebuilt, s390x failed to build')
    /** @type {Arch[]} */
    const rebuilt = ['x86_64', 'aarch64']
    for (const arch of rebuilt) {
      const d = await pushImage({ host: a.host, repo: REPO, tag: `${TAG}-${arch}`, architecture: ARCHES[arch], salt: 'build 2' })
      console.log(`  ${a.host}/${REPO}:${TAG}-${arch}`.padEnd(48) + `linux/${ARCHES[arch]}`.padEnd(15) + dim(d.digest))
    }
    console.log(`  ${dim('(no new s390x image)')}`)
    const build2Inputs = { ...inputs, arches: 'x86_64 aarch64' }
    console.log()
    showInputs(build2Inputs)
    console.log(dim('\n  missing-arch-policy is left at its default, fail. Running the action...'))
    const refused = await runAction(build2Inputs)
    showRun(refused)
    console.log('\n  What the log says:')
    console.log(indent(errorLines(refused).join('\n') || '(no error line)', '  │ '))
    console.log()
    expect(refused.code !== 0 && refused.outputs.result === 'failed', 'the step failed (exit code 1, result=failed)')
    expect(JSON.stringify(jsonArray(refused.outputs['lost-arches'])) === '["s390x"]', 'lost-arches names s390x')
    expect(
      errorLines(refused).some(l => l.includes('s390x')),
      'the error names s390x'
    )
    for (const [host, ref] of [
      [a.host, `${REPO}:${TAG}`],
      [a.host, `${REPO}:latest`],
      [b.host, `${REPO}:${TAG}`],
      [b.host, `${REPO}:latest`]
    ]) {
      expect((await servedDigest(host, ref)) === firstDigest, `${host}/${ref} still serves build 1's list`)
    }
    expect(refused.localLists.length === 0, 'no local list was left behind')

    heading('The same build with missing-arch-policy: hybrid')
    const hybridInputs = { ...build2Inputs, 'missing-arch-policy': 'hybrid' }
    console.log('  Keep the previous s390x image in the list while x86_64 and aarch64 move on to build 2.')
    const hybrid = await runAction(hybridInputs)
    showRun(hybrid)
    console.log()
    const now = await inspectRaw(a.host, `${REPO}:${TAG}`)
    /** @type {Index} */
    const nowIndex = now.json
    const entry = (/** @type {string} */ architecture) =>
      (nowIndex.manifests.find(m => m.platform.architecture === architecture) || {}).digest
    expect(hybrid.code === 0 && hybrid.outputs.result === 'published', 'the step succeeded with result=published')
    expect(now.digest === hybrid.outputs.digest && now.digest !== firstDigest, 'the registry serves a new list, with the reported digest')
    expect(entry('s390x') === build1.s390x, 'its s390x entry is still the build 1 image')
    expect(entry('amd64') !== build1.x86_64 && entry('arm64') !== build1.aarch64, 'its amd64 and arm64 entries are the build 2 images')
  } finally {
    for (const r of registries) await r.stop()
  }

  heading('Done')
  if (problems.length) {
    console.log(red(`${problems.length} thing(s) did not behave as described:`))
    for (const p of problems) console.log(red(`  - ${p}`))
    return 1
  }
  console.log(green('Everything behaved as described. The registries and temp dirs are gone.'))
  console.log(`Next: the inputs and policies in README.md, or ${bold('./scripts/test')} for the whole test suite.`)
  return 0
}

main().then(
  code => {
    process.exitCode = code
  },
  e => {
    console.error(red(`demo failed: ${e instanceof Error ? e.stack || e.message : e}`))
    process.exitCode = 1
  }
)
