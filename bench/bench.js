'use strict'
/**
 * `npm run bench`: how long the action takes to publish a multi-arch list, compared with the usual
 * release script, on two loopback registries behind proxies that delay every request.
 *
 *   node bench/bench.js [--rounds N] [--latency MS] [--quick] [--only full,scale,first]
 *                       [--json FILE] [--action-dir DIR]... [--wait-idle SECONDS] [--arches N] [--verbose]
 *
 * Sections (medians over the rounds; action and script alternate, and swap order every round):
 *   full   4 arches (--arches N) to 2 registries x 2 tags: the action vs the script
 *          (`buildah manifest create NAME img1..img4`, one `manifest push --all` per destination in
 *          turn, `manifest rm`), then the action again on the published list (result=unchanged).
 *   scale  the action with 1, 2, 4, 8 destinations (4 arches) and 2, 4, 8 arches (4 destinations).
 *   first  time from spawning `node dist/index.js` to the first request a proxy sees, and the bundle size.
 *
 * The action's time is its main step (spawn of `node dist/index.js` to its exit), as a runner
 * shows it; the post step and the harness's own checks are reported apart. Every run publishes new
 * per-arch images (a new salt) to a new repository, so nothing is already there and both sides do
 * the same work. Setup pushes go straight to the registries, not through the proxies.
 * This is a benchmark, not a test: it asserts nothing, it reports. It measures wall time, so other
 * load on the machine skews it: the load average is printed at the start and the end, and
 * `--wait-idle S` waits up to S seconds for the 1-minute load average to drop below half the cores.
 * `--action-dir DIR` benchmarks another build of the action (a dir with action.yml and dist/); given
 * again, the further builds run in the full section too, interleaved, for a before/after comparison
 * under the same conditions.
 */
const childProcess = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

// Record when the harness spawns `node <action>` and when that process ends. runAction takes
// `spawn` from node:child_process when it is loaded, so this wrapper must be installed first.
/** @type {Array<{script: string, t0: number, t1: number | null}>} */
const nodeSpawns = []
const originalSpawn = childProcess.spawn
childProcess.spawn = /** @type {any} */ (function (/** @type {any} */ command, /** @type {any} */ args, /** @type {any} */ options) {
  const t0 = performance.now()
  const child = originalSpawn.call(this, command, args, options)
  if (command === process.execPath && Array.isArray(args)) {
    const record = { script: String(args[0]), t0, t1: /** @type {number | null} */ (null) }
    nodeSpawns.push(record)
    child.on('close', () => { record.t1 = performance.now() })
  }
  return child
})

const ROOT = path.resolve(__dirname, '..')
const { startRegistry } = require(path.join(ROOT, 'scripts/lib/registry'))
const { startProxy } = require(path.join(ROOT, 'scripts/lib/proxy'))
const { pushImage } = require(path.join(ROOT, 'scripts/lib/images'))
const { runAction, makeStorage } = require(path.join(ROOT, 'scripts/lib/action'))

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs (argv) {
  const o = { rounds: 5, latency: 20, quick: false, only: ['full', 'scale', 'first'], json: '', actionDir: ROOT, others: /** @type {string[]} */ ([]), verbose: false, waitIdle: 0, arches: 4 }
  let dirGiven = false
  let roundsGiven = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    const name = a.split('=')[0]
    if (name === '--rounds') { o.rounds = Number(value()); roundsGiven = true } else if (name === '--latency') o.latency = Number(value())
    else if (name === '--quick') o.quick = true
    else if (name === '--only') o.only = value().split(',').map((s) => s.trim()).filter(Boolean)
    else if (name === '--json') o.json = value()
    else if (name === '--action-dir') {
      // Repeatable: the first is the action under test everywhere; the others join the full section.
      const dir = path.resolve(value())
      if (dirGiven) o.others.push(dir)
      else o.actionDir = dir
      dirGiven = true
    }
    else if (name === '--verbose' || name === '-v') o.verbose = true
    else if (name === '--wait-idle') o.waitIdle = Number(value())
    else if (name === '--arches') o.arches = Number(value())
    else if (name === '--help' || name === '-h') {
      const lines = fs.readFileSync(__filename, 'utf8').split('\n')
      console.log(lines.slice(2, lines.indexOf(' */')).map((l) => l.replace(/^ \* ?/, '')).join('\n'))
      process.exit(0)
    } else throw new Error(`unknown argument ${a} (try --help)`)
  }
  if (o.quick && !roundsGiven) o.rounds = 2
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds must be a positive integer')
  if (!Number.isInteger(o.arches) || o.arches < 1 || o.arches > ARCHES.length) throw new Error(`--arches must be 1..${ARCHES.length}`)
  if (!Number.isFinite(o.latency) || o.latency < 0) throw new Error('--latency must be a number of ms >= 0')
  for (const s of o.only) if (!['full', 'scale', 'first'].includes(s)) throw new Error(`--only: unknown section ${s}`)
  return o
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Arch name → image platform. The first seven are builtin names; the eighth comes in by arch-map. */
const ARCHES = [
  ['x86_64', { architecture: 'amd64' }],
  ['aarch64', { architecture: 'arm64' }],
  ['ppc64le', { architecture: 'ppc64le' }],
  ['s390x', { architecture: 's390x' }],
  ['armhfp', { architecture: 'arm', variant: 'v7' }],
  ['i686', { architecture: '386' }],
  ['riscv64', { architecture: 'riscv64' }],
  ['mips64le', { architecture: 'mips64le' }]
]
const ARCH_MAP = '{mips64le: linux/mips64le}'

const median = (/** @type {number[]} */ xs) => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const ms = (/** @type {number} */ x) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a')
const ratio = (/** @type {number} */ x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a')
let uniq = 0
const salt = () => `${process.pid}-${Date.now().toString(36)}-${++uniq}`

/**
 * Run a program, resolve with its wall time; reject with its stderr on failure.
 * @param {string} tool @param {string[]} args @param {NodeJS.ProcessEnv} env
 */
function run (tool, args, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = originalSpawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve({ ms: performance.now() - t0, stdout: out })
      else reject(new Error(`${tool} ${args.join(' ')} exited ${code}: ${err.trim()}`))
    })
  })
}

// ---------------------------------------------------------------------------------------------
// The fixture: two registries, each behind a latency proxy that timestamps what it sees.

async function startFixture (latency) {
  const registries = [await startRegistry(), await startRegistry()]
  const proxies = []
  for (const r of registries) {
    const p = await startProxy({ target: r.host, latencyMs: latency })
    // The proxy's log has no timestamps: stamp each entry as the proxy records it (same array object).
    const log = /** @type {any[]} */ (p.log)
    log.push = function (/** @type {any[]} */ ...entries) {
      for (const e of entries) e.t = performance.now()
      return Array.prototype.push.apply(this, entries)
    }
    proxies.push(p)
  }
  return {
    registries,
    proxies,
    reset () { for (const p of proxies) p.reset() },
    /** Requests since the last reset: total, per method, the earliest timestamp. */
    snapshot () {
      const counts = { total: 0 }
      let first = Infinity
      for (const p of proxies) {
        for (const [k, v] of Object.entries(p.counts)) counts[k] = (counts[k] ?? 0) + v
        for (const e of p.log) first = Math.min(first, e.t)
      }
      return { counts, first, log: proxies.map((p) => p.log.map((e) => ({ ...e }))) }
    },
    async stop () {
      for (const p of proxies) await p.stop().catch(() => {})
      for (const r of registries) await r.stop().catch(() => {})
    }
  }
}

/**
 * Push fresh per-arch images `<repo>:<tag>-<arch>` straight to the first registry (no proxy).
 * @returns {Promise<string[]>} the arch names
 */
async function pushArches (fixture, repo, tag, n) {
  const s = salt()
  const arches = ARCHES.slice(0, n)
  await Promise.all(arches.map(([name, p]) => pushImage({ host: fixture.registries[0].host, repo, tag: `${tag}-${name}`, ...p, salt: s })))
  return arches.map(([name]) => name)
}

/** Destinations: `regs` registries x `tags` tags (the tag, then aliases a1, a2, ...). */
function layout (fixture, repo, tag, regs, tags) {
  const prefixes = fixture.proxies.slice(0, regs).map((p) => p.host)
  const aliases = Array.from({ length: tags - 1 }, (_, i) => `a${i + 1}`)
  const refs = prefixes.flatMap((pre) => [tag, ...aliases].map((t) => `${pre}/${repo}:${t}`))
  return { prefixes, aliases, refs }
}

// ---------------------------------------------------------------------------------------------
// The two contenders

/** One run of the action (`runAction`, main step timed from its spawn to its exit). */
async function runTheAction (fixture, opts, { repo, tag, arches, regs, tags, actionDir = opts.actionDir }) {
  const { prefixes, aliases } = layout(fixture, repo, tag, regs, tags)
  fixture.reset()
  const before = nodeSpawns.length
  const t0 = performance.now()
  const r = await runAction({
    repo,
    tag,
    arches: arches.join(' '),
    registries: prefixes.join(' '),
    aliases: aliases.join(' '),
    'arch-map': arches.includes('mips64le') ? ARCH_MAP : '',
    'tls-verify': 'false',
    summary: 'false'
  }, { actionDir, timeoutMs: 300000 })
  const total = performance.now() - t0
  const snap = fixture.snapshot()
  const spawns = nodeSpawns.slice(before)
  const main = spawns[0]
  const post = spawns[1]
  if (r.code !== 0) throw new Error(`the action failed (${r.code}):\n${r.all}`)
  if (r.localLists.length) throw new Error(`the action left local lists: ${r.localLists.join(' ')}`)
  if (opts.verbose) process.stderr.write(r.stdout)
  return {
    ms: (main.t1 ?? NaN) - main.t0,
    postMs: post ? (post.t1 ?? NaN) - post.t0 : 0,
    harnessMs: total,
    firstRequestMs: snap.first - main.t0,
    requests: snap.counts,
    result: r.outputs.result,
    digest: r.outputs.digest,
    log: snap.log,
    stdout: r.stdout
  }
}

/**
 * The usual release script: one `manifest create` with every image, then one `manifest push --all`
 * per destination, one after another, then `manifest rm`. Isolated vfs storage and HOME.
 */
async function runTheScript (fixture, { repo, tag, arches, regs, tags }) {
  const { refs } = layout(fixture, repo, tag, regs, tags)
  const source = fixture.proxies[0].host
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-bench-script-'))
  const home = path.join(dir, 'home')
  fs.mkdirSync(home)
  const env = { ...process.env, HOME: home, CONTAINERS_STORAGE_CONF: makeStorage(path.join(dir, 'storage')) }
  for (const k of ['REGISTRY_AUTH_FILE', 'DOCKER_CONFIG', 'XDG_RUNTIME_DIR', 'STORAGE_DRIVER']) delete env[k]
  const name = `localhost/release-${repo.replace(/[^a-z0-9]+/g, '-')}-${tag}`
  fixture.reset()
  const t0 = performance.now()
  const steps = []
  try {
    steps.push(['create', (await run('buildah', ['manifest', 'create', '--tls-verify=false', name, ...arches.map((a) => `docker://${source}/${repo}:${tag}-${a}`)], env)).ms])
    for (const ref of refs) {
      steps.push([`push ${ref}`, (await run('buildah', ['manifest', 'push', '--all', '--format', 'oci', '--tls-verify=false', name, `docker://${ref}`], env)).ms])
    }
    steps.push(['rm', (await run('buildah', ['manifest', 'rm', name], env)).ms])
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const total = performance.now() - t0
  const snap = fixture.snapshot()
  return { ms: total, steps, requests: snap.counts, firstRequestMs: snap.first - t0 }
}

// ---------------------------------------------------------------------------------------------
// Sections

const results = { meta: {}, full: null, scale: null, first: null }

async function sectionFull (fixture, opts, log) {
  log(`\n== Full publish: ${opts.arches} arches -> 2 registries x 2 tags (4 destinations), ${opts.latency} ms per request, ${opts.rounds} rounds`)
  const dirs = [opts.actionDir, ...opts.others]
  const label = (/** @type {number} */ k) => (dirs.length > 1 ? `action[${k}]` : 'action')
  /** @type {any[][]} */
  const action = dirs.map(() => [])
  /** @type {any[][]} */
  const rerun = dirs.map(() => [])
  /** @type {any[]} */
  const script = []
  for (let i = 0; i < opts.rounds; i++) {
    const doAction = async (/** @type {number} */ k) => {
      const repo = `bench/full-${i}-action${k}-${salt()}`
      const arches = await pushArches(fixture, repo, '1', opts.arches)
      const spec = { repo, tag: '1', arches, regs: 2, tags: 2, actionDir: dirs[k] }
      const a = await runTheAction(fixture, opts, spec)
      if (a.result !== 'published') throw new Error(`expected result=published, got ${a.result}`)
      action[k].push(a)
      log(`  round ${i + 1}: ${label(k)}  ${ms(a.ms)} (post step ${ms(a.postMs)}; first request after ${ms(a.firstRequestMs)}; ${a.requests.total} requests)`)
      const b = await runTheAction(fixture, opts, spec)
      if (b.result !== 'unchanged') throw new Error(`expected result=unchanged on the rerun, got ${b.result}`)
      rerun[k].push(b)
      log(`  round ${i + 1}: ${label(k).replace('action', 'rerun ')}  ${ms(b.ms)} (result=unchanged; ${b.requests.total} requests)`)
    }
    const doScript = async () => {
      const repo = `bench/full-${i}-script-${salt()}`
      const arches = await pushArches(fixture, repo, '1', opts.arches)
      const s = await runTheScript(fixture, { repo, tag: '1', arches, regs: 2, tags: 2 })
      script.push(s)
      log(`  round ${i + 1}: script  ${ms(s.ms)} (${s.steps.map(([n, t]) => `${n.split(' ')[0]} ${Math.round(t)}`).join(', ')}; ${s.requests.total} requests)`)
    }
    // Alternate, and rotate who goes first every round, so drift hurts every contender alike.
    const jobs = [doScript, ...dirs.map((_, k) => () => doAction(k))]
    for (let j = 0; j < jobs.length; j++) await jobs[(i + j) % jobs.length]()
  }
  const mS = median(script.map((r) => r.ms))
  const scriptSteps = {}
  for (const s of script) for (const [n, t] of s.steps) (scriptSteps[n.split(' ')[0]] ??= []).push(t)
  const summarize = (/** @type {number} */ k) => {
    const mA = median(action[k].map((r) => r.ms))
    const mR = median(rerun[k].map((r) => r.ms))
    return {
      actionDir: dirs[k],
      actionMs: mA,
      actionPostMs: median(action[k].map((r) => r.postMs)),
      rerunMs: mR,
      ratio: mA / mS,
      rerunRatio: mR / mS,
      actionAll: action[k].map((r) => Math.round(r.ms)),
      rerunAll: rerun[k].map((r) => Math.round(r.ms)),
      requests: { action: action[k][0]?.requests, rerun: rerun[k][0]?.requests },
      firstRequestMs: median([...action[k], ...rerun[k]].map((r) => r.firstRequestMs))
    }
  }
  const all = dirs.map((_, k) => summarize(k))
  results.full = {
    ...all[0],
    scriptMs: mS,
    scriptAll: script.map((r) => Math.round(r.ms)),
    scriptStepMedians: Object.fromEntries(Object.entries(scriptSteps).map(([k, v]) => [k, Math.round(median(v))])),
    scriptRequests: script[0]?.requests,
    others: all.slice(1)
  }
  log(`  median: script ${ms(mS)}`)
  all.forEach((r, k) => {
    if (dirs.length > 1) log(`  ${label(k)} = ${dirs[k]}`)
    log(`  median: ${label(k)} ${ms(r.actionMs)}, action/script ${ratio(r.ratio)}; rerun (unchanged) ${ms(r.rerunMs)}, rerun/script ${ratio(r.rerunRatio)}; first request ${ms(r.firstRequestMs)}`)
  })
  return { action: action[0], rerun: rerun[0] }
}

async function sectionScale (fixture, opts, log) {
  log(`\n== Scaling (action only), ${opts.latency} ms per request, ${opts.rounds} rounds`)
  const cases = [
    { label: '1 destination, 4 arches', regs: 1, tags: 1, n: 4, key: 'dest1' },
    { label: '2 destinations, 4 arches', regs: 2, tags: 1, n: 4, key: 'dest2' },
    { label: '4 destinations, 4 arches', regs: 2, tags: 2, n: 4, key: 'dest4' },
    { label: '8 destinations, 4 arches', regs: 2, tags: 4, n: 4, key: 'dest8' },
    { label: '4 destinations, 2 arches', regs: 2, tags: 2, n: 2, key: 'arch2' },
    { label: '4 destinations, 8 arches', regs: 2, tags: 2, n: 8, key: 'arch8' }
  ]
  /** @type {Record<string, any[]>} */
  const runs = Object.fromEntries(cases.map((c) => [c.key, []]))
  for (let i = 0; i < opts.rounds; i++) {
    // Rotate the order each round.
    const order = cases.map((_, k) => cases[(k + i) % cases.length])
    for (const c of order) {
      const repo = `bench/scale-${c.key}-${i}-${salt()}`
      const arches = await pushArches(fixture, repo, '1', c.n)
      const r = await runTheAction(fixture, opts, { repo, tag: '1', arches, regs: c.regs, tags: c.tags })
      if (r.result !== 'published') throw new Error(`expected result=published, got ${r.result}`)
      runs[c.key].push(r)
      if (opts.verbose) log(`  round ${i + 1}: ${c.label}: ${ms(r.ms)} (${r.requests.total} requests)`)
    }
  }
  results.scale = {}
  for (const c of cases) {
    const m = median(runs[c.key].map((r) => r.ms))
    results.scale[c.key] = { label: c.label, ms: m, all: runs[c.key].map((r) => Math.round(r.ms)), requests: runs[c.key][0].requests.total }
    log(`  ${c.label.padEnd(26)} ${ms(m).padStart(8)}   (${runs[c.key][0].requests.total} requests)`)
  }
  // 4 destinations / 4 arches is the full-publish case: reuse those runs too when available.
  const s = results.scale
  s.dest8over2 = s.dest8.ms / s.dest2.ms
  log(`  8 destinations / 2 destinations: ${ratio(s.dest8over2)}`)
  return runs
}

async function sectionFirst (fixture, opts, log, earlier) {
  log('\n== Start-up')
  let samples = earlier.map((r) => r.firstRequestMs)
  if (samples.length < opts.rounds) {
    // Without the full section: time the start of unchanged reruns on one published list.
    const repo = `bench/first-${salt()}`
    const arches = await pushArches(fixture, repo, '1', 4)
    const spec = { repo, tag: '1', arches, regs: 2, tags: 2 }
    await runTheAction(fixture, opts, spec)
    for (let i = 0; i < opts.rounds; i++) samples.push((await runTheAction(fixture, opts, spec)).firstRequestMs)
  }
  samples = samples.filter(Number.isFinite)
  const bundle = fs.statSync(path.join(opts.actionDir, 'dist', 'index.js')).size
  // Bare node start-up on this machine, for scale: spawn to exit of an empty script.
  const bare = []
  for (let i = 0; i < 5; i++) bare.push((await run(process.execPath, ['-e', ''], process.env)).ms)
  const buildahVersion = []
  for (let i = 0; i < 5; i++) buildahVersion.push((await run('buildah', ['version', '--json'], process.env)).ms)
  results.first = {
    firstRequestMs: median(samples),
    all: samples.map(Math.round),
    bundleBytes: bundle,
    nodeBareMs: median(bare),
    buildahVersionMs: median(buildahVersion)
  }
  log(`  spawn -> first registry request: median ${ms(results.first.firstRequestMs)} (n=${samples.length}, min ${ms(Math.min(...samples))}, max ${ms(Math.max(...samples))})`)
  log(`  for scale: bare \`node -e ''\` ${ms(results.first.nodeBareMs)}, \`buildah version --json\` ${ms(results.first.buildahVersionMs)}`)
  log(`  dist/index.js: ${(bundle / 1024).toFixed(0)} KiB`)
}

// ---------------------------------------------------------------------------------------------

function machine () {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? os.cpus()[0]?.model ?? '?'
  const osName = (fs.existsSync('/etc/os-release') ? fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] : '') || `${os.type()} ${os.release()}`
  const version = (cmd, args) => {
    const r = childProcess.spawnSync(cmd, args, { encoding: 'utf8' })
    return (r.stdout || r.stderr || '').trim().split('\n')[0]
  }
  return {
    cpu,
    cores: os.cpus().length,
    ramGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName,
    kernel: os.release(),
    node: process.version,
    buildah: version('buildah', ['--version']),
    skopeo: version('skopeo', ['--version'])
  }
}

function targets () {
  const t = []
  const f = results.full
  if (f) {
    t.push(['full publish action/script <= 0.5 (stretch 0.35)', ratio(f.ratio), f.ratio <= 0.35 ? 'met (stretch too)' : f.ratio <= 0.5 ? 'met (not the stretch)' : 'NOT met'])
    t.push(['rerun <= 0.15 x script full publish', ratio(f.rerunRatio), f.rerunRatio <= 0.15 ? 'met' : 'NOT met'])
  }
  if (results.first) t.push(['spawn -> first request <= 150 ms', ms(results.first.firstRequestMs), results.first.firstRequestMs <= 150 ? 'met' : 'NOT met'])
  if (results.scale) t.push(['8 destinations < 2 x 2 destinations', ratio(results.scale.dest8over2), results.scale.dest8over2 < 2 ? 'met' : 'NOT met'])
  return t
}

async function main () {
  const opts = parseArgs(process.argv.slice(2))
  const log = (/** @type {string} */ s) => console.log(s)
  results.meta = { ...machine(), rounds: opts.rounds, latencyMs: opts.latency, actionDir: opts.actionDir, date: new Date().toISOString() }
  const m = results.meta
  log(`multiarch-publish benchmark: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB, ${m.os}; node ${m.node}; ${m.buildah}; ${m.skopeo}`)
  if (opts.actionDir !== ROOT) log(`action under test: ${opts.actionDir}`)
  if (opts.waitIdle > 0) {
    const deadline = Date.now() + opts.waitIdle * 1000
    while (os.loadavg()[0] > os.cpus().length / 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5000))
  }
  const loadStart = os.loadavg()
  log(`load average at the start: ${loadStart.map((x) => x.toFixed(2)).join(' ')} (${m.cores} cores)`)
  const fixture = await startFixture(opts.latency)
  const stop = async () => { await fixture.stop() }
  process.on('SIGINT', () => { void stop().finally(() => process.exit(130)) })
  try {
    let earlier = []
    if (opts.only.includes('full')) {
      const { action, rerun } = await sectionFull(fixture, opts, log)
      earlier = [...action, ...rerun]
    }
    if (opts.only.includes('scale')) await sectionScale(fixture, opts, log)
    if (opts.only.includes('first')) await sectionFirst(fixture, opts, log, earlier)
  } finally {
    await stop()
  }
  const loadEnd = os.loadavg()
  results.meta.loadAverage = { start: loadStart, end: loadEnd }
  log(`\nload average at the end: ${loadEnd.map((x) => x.toFixed(2)).join(' ')}`)
  // The bench itself loads the machine, so only the load before it started says whether others did.
  if (loadStart[0] > m.cores / 2) log(`note: the machine was busy when the bench started (load above ${m.cores / 2}); wall times are inflated and noisy`)
  log('\n== Targets (issue 4)')
  for (const [what, value, verdict] of targets()) log(`  ${what.padEnd(52)} ${String(value).padStart(8)}  ${verdict}`)
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ ...results, targets: targets() }, null, 2) + '\n')
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack || e.message : e)
  process.exit(1)
})
