'use strict'
/**
 * `npm run bench`: how long the action takes to publish a multi-arch list, compared with the usual
 * release script, on two loopback registries behind proxies that delay every request.
 *
 *   node bench/bench.js [--rounds N] [--latency MS] [--quick] [--only full,scale,first,set,wide,zero,tokens,flaky]
 *                       [--json FILE] [--action-dir DIR]... [--wait-idle SECONDS] [--arches N] [--trace] [--profile] [--verbose]
 *                       [--seed N] [--flaky-runs N]
 *
 * Sections (medians over the rounds; action and script alternate, and swap order every round):
 *   full   4 arches (--arches N) to 2 registries x 2 tags: the action vs the script
 *          (`buildah manifest create NAME img1..img4`, one `manifest push --all` per destination in
 *          turn, `manifest rm`), then the action again on the published list (result=unchanged).
 *   scale  the action with 1, 2, 4, 8 destinations (4 arches) and 2, 4, 8 arches (4 destinations).
 *   first  time from spawning `node dist/index.js` to the first request a proxy sees, and the bundle size.
 *   set    a release set (issue 11): 10 repositories x 2 registries x 2 tags, 4 arches, the per-arch
 *          images already in both registries; the action run once with all 10 (`repo: r0 ... r9`)
 *          vs the script run per repository in turn (create, one push --all per destination, rm).
 *   wide   one repository with 16 arches (9 of them through `arch-map`) to 2 registries x 2 tags:
 *          the action vs the script.
 *   zero   the full case (4 arches, 2 x 2) with no delay in the proxies (0 ms per request).
 *   tokens the full case (publish, then rerun) against two registries that want Bearer tokens from the
 *          harness's token server (`username`/`password` inputs), the action only: requests per read
 *          and tokens per repository of the reads the action makes itself.
 *   flaky  the full case with new connections cut at random at both proxies, 1 in 10 and 1 in 5
 *          (`cutRandomly`, seeded: --seed N, default 1; --flaky-runs N runs per rate, default 3), every
 *          --action-dir and the script: how many runs published everywhere, how many failed cleanly
 *          (nothing published), how many left the registries disagreeing (read straight from them).
 *          Not in the default sections (it measures outcomes, not time): ask for it with --only.
 *
 * Every action run also counts the child processes it started (its `::debug::$ tool args` lines) and
 * the requests it made itself (the proxies note each request's User-Agent; the action's in-process
 * reader says `multiarch-publish`): pings (`/v2/`, once per registry), reads, and requests per read
 * after the first token per repository ((requests - pings - each repository's first 401) / answered
 * reads: 1.00 when every read is one request; retries of cut requests and tokens fetched again raise it).
 *
 * Every action run is broken down by phase from its log, which the bench timestamps line by line as
 * it arrives: start-up (spawn to the first `::group::`), each `::group::` (Versions, Observe, Plan,
 * Stage, Commit), and the tail (list removal, outputs, summary, exit), with the child processes each
 * phase started (the `::debug::$ tool args` lines). Every run of either side also reports the CPU it
 * used (the contender with its children, from /proc/self/stat's cutime/cstime; the action's node
 * process alone, sampled every 100 ms; the registries; the harness, which runs the proxies): on
 * 2 cores, many children at once are bounded by CPU, not by the registries' delay.
 * `--trace` adds a few runs per section (not timed, reported apart) with buildah and skopeo through
 * small PATH shims that log when each child starts and ends and the CPU it used (how many ran at
 * once, how long each took), and a V8 profile of the action's node process (where its own thread
 * goes: spawning children, the watchdog's /proc scans, the PATH look-up). `--profile`: those extra
 * runs with the profile only, no shims.
 * The action's time is its main step (spawn of `node dist/index.js` to its exit), as a runner
 * shows it; the post step and the harness's own checks are reported apart. Every run publishes new
 * per-arch images (a new salt) to a new repository, so nothing is already there and both sides do
 * the same work. Setup pushes go straight to the registries, not through the proxies.
 * This is a benchmark, not a test: it asserts nothing, it reports. It measures wall time, so other
 * load on the machine skews it: the load average is printed at the start and the end, and
 * `--wait-idle S` waits up to S seconds for the 1-minute load average to drop below half the cores.
 * `--action-dir DIR` benchmarks another build of the action (a dir with action.yml and dist/); given
 * again, the further builds run in the full, set, wide, zero, tokens and flaky sections too,
 * interleaved, for a before/after comparison under the same conditions (set needs builds that take a
 * list in `repo`). The first is the one the phases and the targets describe. The size of each
 * build's dist/index.js is printed at the start.
 */
const childProcess = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

// Record when the harness spawns `node <action>` and when that process ends. runAction takes
// `spawn` from node:child_process when it is loaded, so this wrapper must be installed first.
// Each line the action prints is stamped as it arrives, for the per-phase breakdown.
// The node process's own CPU time is sampled every 100 ms while it runs (what its children use is
// counted apart): a lower bound, short of at most its last 100 ms.
/** @type {Array<{script: string, pid: number, t0: number, t1: number | null, lines: Array<{t: number, line: string}>, ownCpuMs: number}>} */
const nodeSpawns = []
const originalSpawn = childProcess.spawn
// Typed as spawn's most general overload; the harness calls it as spawn(command, args, options).
childProcess.spawn = /** @type {typeof childProcess.spawn} */ (
  /** @this {unknown} */
  function (
    /** @type {string} */ command,
    /** @type {readonly string[]} */ args,
    /** @type {import('node:child_process').SpawnOptions} */ options
  ) {
    const t0 = performance.now()
    const child = originalSpawn.call(this, command, args, options)
    if (command === process.execPath && Array.isArray(args)) {
      const record = {
        script: String(args[0]),
        pid: child.pid ?? 0,
        t0,
        t1: /** @type {number | null} */ (null),
        lines: /** @type {Array<{t: number, line: string}>} */ ([]),
        ownCpuMs: 0
      }
      nodeSpawns.push(record)
      const sample = setInterval(() => {
        const own = procCpu(child.pid ?? 0).own
        if (Number.isFinite(own)) record.ownCpuMs = own
      }, 100)
      child.on('exit', () => clearInterval(sample))
      let partial = ''
      child.stdout?.on('data', (/** @type {Buffer | string} */ d) => {
        const t = performance.now()
        const parts = (partial + String(d)).split('\n')
        partial = parts.pop() ?? ''
        for (const line of parts) record.lines.push({ t, line })
      })
      child.on('close', () => {
        record.t1 = performance.now()
      })
    }
    return child
  }
)

// The servers the harness starts in this process (proxies, token servers) are noted as they are
// created, so that the bench can see each request's User-Agent: the action's in-process reader says
// `multiarch-publish`, buildah and skopeo say `containers/...`.
const http = require('node:http')
const READER_AGENT = /^multiarch-publish/
/** @type {((server: import('node:http').Server) => void) | null} */
let onServer = null
const originalCreateServer = http.createServer
http.createServer = /** @type {typeof http.createServer} */ (
  /** @this {unknown} */
  function (/** @type {Parameters<typeof http.createServer>} */ ...args) {
    const server = originalCreateServer.apply(this, args)
    onServer?.(server)
    return server
  }
)

const ROOT = path.resolve(__dirname, '..')
// Relative paths (the same files as ROOT/test/harness/...) so that tsc follows them and types their use.
const { startRegistry } = require('../test/harness/registry')
const { startProxy } = require('../test/harness/proxy')
const { pushImage } = require('../test/harness/images')
const { runAction, makeStorage } = require('../test/harness/action')

/** @typedef {ReturnType<typeof parseArgs>} Options */
/** @typedef {(s: string) => void} Log */
/** @typedef {import('../test/harness/registry').Registry} Registry */
/** @typedef {Awaited<ReturnType<typeof startProxy>>} Proxy */
/** @typedef {Awaited<ReturnType<typeof startFixture>>} Fixture */
/**
 * A proxy's log entry as the bench sees it: stamped when the proxy records it (`t`), and marked when
 * the action's in-process reader made the request (`reader`).
 * @typedef {import('../test/harness/proxy').LogEntry & {t: number, reader?: boolean}} Entry
 */
/** Requests per method, and `total`. @typedef {Record<string, number>} Counts */
/**
 * What one run is asked to publish: `repo`, or several repositories (`repos`) in one run.
 * @typedef {{repo?: string, repos?: string[], tag: string, arches: string[], regs: number, tags: number,
 *   actionDir?: string, trace?: boolean, profile?: boolean, inputs?: Record<string, string>, mayFail?: boolean}} Spec
 */
/** CPU used during a run, in ms. @typedef {{contender: number, registries: number, harness: number, node?: number}} Cpu */
/** @typedef {Awaited<ReturnType<typeof runTheAction>>} ActionRun */
/** @typedef {Awaited<ReturnType<typeof runTheScript>>} ScriptRun */
/** @typedef {ReturnType<typeof readerStats>} ReadStats */
/** @typedef {ReturnType<typeof sumReads>} ReadSums */
/** @typedef {ReturnType<typeof cpuMedian>} CpuMedian */
/** @typedef {Awaited<ReturnType<typeof tracedRuns>>} Traced */
/**
 * One phase of an action run; with the shims' trace, also the children's concurrency and times.
 * @typedef {{name: string, ms: number, children: number, kinds: Record<string, number>, requests: number,
 *   peak?: number, childMsMedian?: number, childMsMax?: number, childMsSum?: number, childCpuMs?: number}} Phase
 */

// ---------------------------------------------------------------------------------------------
// Options

const SECTIONS = ['full', 'scale', 'first', 'set', 'wide', 'zero', 'tokens', 'flaky']
/** What runs without --only: flaky is asked for by name. */
const DEFAULT_SECTIONS = SECTIONS.filter(s => s !== 'flaky')

function parseArgs(/** @type {string[]} */ argv) {
  const o = {
    rounds: 5,
    latency: 20,
    quick: false,
    only: [...DEFAULT_SECTIONS],
    json: '',
    actionDir: ROOT,
    others: /** @type {string[]} */ ([]),
    verbose: false,
    trace: false,
    profile: false,
    waitIdle: 0,
    arches: 4,
    seed: 1,
    flakyRuns: 3
  }
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
    if (name === '--rounds') {
      o.rounds = Number(value())
      roundsGiven = true
    } else if (name === '--latency') o.latency = Number(value())
    else if (name === '--quick') o.quick = true
    else if (name === '--only')
      o.only = value()
        .split(',')
        .map((/** @type {string} */ s) => s.trim())
        .filter(Boolean)
    else if (name === '--json') o.json = value()
    else if (name === '--action-dir') {
      // Repeatable: the first is the action under test everywhere; the others join the full, set, wide and zero sections.
      const dir = path.resolve(value())
      if (dirGiven) o.others.push(dir)
      else o.actionDir = dir
      dirGiven = true
    } else if (name === '--verbose' || name === '-v') o.verbose = true
    else if (name === '--trace') o.trace = true
    else if (name === '--profile') o.profile = true
    else if (name === '--wait-idle') o.waitIdle = Number(value())
    else if (name === '--arches') o.arches = Number(value())
    else if (name === '--seed') o.seed = Number(value())
    else if (name === '--flaky-runs') o.flakyRuns = Number(value())
    else if (name === '--help' || name === '-h') {
      const lines = fs.readFileSync(__filename, 'utf8').split('\n')
      console.log(
        lines
          .slice(2, lines.indexOf(' */'))
          .map(l => l.replace(/^ \* ?/, ''))
          .join('\n')
      )
      process.exit(0)
    } else throw new Error(`unknown argument ${a} (try --help)`)
  }
  if (o.quick && !roundsGiven) o.rounds = 2
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds must be a positive integer')
  if (!Number.isInteger(o.arches) || o.arches < 1 || o.arches > ARCHES.length) throw new Error(`--arches must be 1..${ARCHES.length}`)
  if (!Number.isFinite(o.latency) || o.latency < 0) throw new Error('--latency must be a number of ms >= 0')
  if (!Number.isInteger(o.seed)) throw new Error('--seed must be an integer')
  if (!Number.isInteger(o.flakyRuns) || o.flakyRuns < 1) throw new Error('--flaky-runs must be a positive integer')
  for (const s of o.only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${s} (sections: ${SECTIONS.join(', ')})`)
  return o
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/**
 * Arch name → image platform. The first seven are builtin names; the others come in by `arch-map`
 * (mips64le, then made-up architectures a09..a16 → linux/arch09..arch16: buildah and skopeo take
 * any architecture an image config names).
 * @type {Array<[string, {architecture: string, variant?: string}, boolean]>} name, platform, needs arch-map
 */
const ARCHES = [
  ['x86_64', { architecture: 'amd64' }, false],
  ['aarch64', { architecture: 'arm64' }, false],
  ['ppc64le', { architecture: 'ppc64le' }, false],
  ['s390x', { architecture: 's390x' }, false],
  ['armhfp', { architecture: 'arm', variant: 'v7' }, false],
  ['i686', { architecture: '386' }, false],
  ['riscv64', { architecture: 'riscv64' }, false],
  ['mips64le', { architecture: 'mips64le' }, true],
  ...Array.from(
    { length: 8 },
    (_, k) =>
      /** @type {[string, {architecture: string}, boolean]} */ ([
        `a${String(k + 9).padStart(2, '0')}`,
        { architecture: `arch${String(k + 9).padStart(2, '0')}` },
        true
      ])
  )
]
/** The `arch-map` input for these arch names: the ones that are not builtin. */
function archMapFor(/** @type {string[]} */ names) {
  const mapped = ARCHES.filter(([name, , map]) => map && names.includes(name))
  return mapped.length
    ? `{${mapped.map(([name, p]) => `${name}: linux/${p.architecture}${p.variant ? `/${p.variant}` : ''}`).join(', ')}}`
    : ''
}

const median = (/** @type {number[]} */ xs) => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const ms = (/** @type {number} */ x) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a')
const ratio = (/** @type {number} */ x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a')
/** CPU used during a run: the contender with its children, the registries, the harness (proxies). */
const cpuText = (/** @type {{contender: number, registries: number, harness: number, node?: number}} */ c) =>
  `CPU ${Math.round(c.contender)} ms${c.node !== undefined ? ` (node itself ${Math.round(c.node)})` : ''} + registries ${Math.round(c.registries)} + proxies ${Math.round(c.harness)}`
const cpuMedian = (/** @type {Array<{cpuMs: Cpu}>} */ runs) => ({
  contender: median(runs.map(r => r.cpuMs.contender)),
  // The runs are all the action's (node set) or all the script's (no node).
  ...(runs[0]?.cpuMs.node !== undefined ? { node: median(/** @type {number[]} */ (runs.map(r => r.cpuMs.node))) } : {}),
  registries: median(runs.map(r => r.cpuMs.registries)),
  harness: median(runs.map(r => r.cpuMs.harness))
})
let uniq = 0
const salt = () => `${process.pid}-${Date.now().toString(36)}-${++uniq}`

/**
 * Run a program, resolve with its wall time; reject with its stderr on failure.
 * @param {string} tool @param {string[]} args @param {NodeJS.ProcessEnv} env
 * @returns {Promise<{ms: number, stdout: string}>}
 */
function run(tool, args, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = originalSpawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', d => {
      out += d
    })
    child.stderr.on('data', d => {
      err += d
    })
    child.on('error', reject)
    child.on('close', code => {
      if (code === 0) resolve({ ms: performance.now() - t0, stdout: out })
      else reject(new Error(`${tool} ${args.join(' ')} exited ${code}: ${err.trim()}`))
    })
  })
}

// ---------------------------------------------------------------------------------------------
// CPU time: on 2 cores, work done in parallel is bounded by CPU, not by the registries' delay.

const TICK_MS = 1000 / (Number(childProcess.spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100)

/** utime+stime (and cutime+cstime: reaped children and their reaped descendants) of a process, in ms. */
function procCpu(/** @type {number | 'self'} */ pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number)
    // Fields after the command: state is f[0], so utime is f[11], stime f[12], cutime f[13], cstime f[14].
    return { own: (f[11] + f[12]) * TICK_MS, children: (f[13] + f[14]) * TICK_MS }
  } catch {
    return { own: NaN, children: NaN }
  }
}

/** The docker-registry process serving from `dir` (its config is `<dir>/config.yml`). */
function registryPid(/** @type {string} */ dir) {
  for (const pid of fs.readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/config.yml`)) return Number(pid)
    } catch {
      /* gone */
    }
  }
  return 0
}

/**
 * Starts a CPU meter: `stop()` says how much CPU the harness's children used (the contender: node
 * and its buildah/skopeo, or the script's buildah), the registries, and the harness itself (the
 * proxies run in it) since `start`.
 */
function cpuMeter(/** @type {{registryPids: number[]}} */ fixture) {
  const self0 = procCpu('self')
  const regs0 = fixture.registryPids.map(pid => procCpu(pid).own)
  const proxy0 = process.cpuUsage()
  return () => {
    const self1 = procCpu('self')
    const proxy = process.cpuUsage(proxy0)
    return {
      contender: self1.children - self0.children,
      registries: fixture.registryPids.reduce((sum, pid, k) => sum + procCpu(pid).own - regs0[k], 0),
      harness: (proxy.user + proxy.system) / 1000
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The fixture: two registries, each behind a latency proxy that timestamps what it sees.

/**
 * @param {number} latency
 * @param {{token?: import('../test/harness/tokenserver').TokenOptions & {users: import('../test/harness/tokenserver').TokenUser[]}}} [o]
 */
async function startFixture(latency, { token } = {}) {
  // Token requests the reader made (User-Agent), from every token server of the fixture.
  /** @type {Array<{reader: boolean, scope: string}>} */
  const tokenLog = []
  const noteTokens = (/** @type {import('node:http').Server} */ server, /** @type {number} */ k) =>
    server.on('request', req => {
      const scope = new URL(String(req.url), 'http://x').searchParams.getAll('scope').join(' ')
      tokenLog.push({ reader: READER_AGENT.test(req.headers['user-agent'] ?? ''), scope: `${k} ${scope}` })
    })
  /** @type {Registry[]} */
  const registries = []
  for (let k = 0; k < 2; k++) {
    onServer = token ? s => noteTokens(s, k) : null
    try {
      registries.push(await startRegistry(token ? { token } : undefined))
    } finally {
      onServer = null
    }
  }
  // With tokens, images are pushed to a plain registry first and copied in with credentials (the
  // harness pushes with Basic only).
  const staging = token ? await startRegistry() : null
  /** @type {Proxy[]} */
  const proxies = []
  /**
   * The same arrays as the proxies' `log`, typed with what the bench adds to each entry.
   * @type {Entry[][]}
   */
  const logs = []
  for (const r of registries) {
    // Typed by the cast: assigned only in the callback, so `null` alone would narrow it to never.
    let server = /** @type {import('node:http').Server | null} */ (null)
    onServer = s => {
      server ??= s
    }
    let p
    try {
      p = await startProxy({ target: r.host, latencyMs: latency })
    } finally {
      onServer = null
    }
    // The proxy's log has no timestamps: stamp each entry as the proxy records it (same array object).
    const log = /** @type {Entry[]} */ (p.log)
    // The proxy's handler logs each request synchronously; this listener runs right after it.
    server?.on('request', req => {
      const e = log[log.length - 1]
      if (e) e.reader = READER_AGENT.test(req.headers['user-agent'] ?? '')
    })
    log.push = function (...entries) {
      for (const e of entries) e.t = performance.now()
      return Array.prototype.push.apply(this, entries)
    }
    proxies.push(p)
    logs.push(log)
  }
  return {
    registries,
    proxies,
    staging,
    token,
    tokenLog,
    registryPids: registries.map(r => registryPid(r.dir)),
    reset() {
      for (const p of proxies) p.reset()
      tokenLog.length = 0
    },
    /** Requests since the last reset: total, per method, the earliest timestamp. */
    snapshot() {
      /** @type {Counts} */
      const counts = { total: 0 }
      let first = Infinity
      proxies.forEach((p, k) => {
        for (const [m, v] of Object.entries(p.counts)) counts[m] = (counts[m] ?? 0) + v
        for (const e of logs[k]) first = Math.min(first, e.t)
      })
      return { counts, first, log: logs.map(l => l.map(e => ({ ...e }))), tokens: tokenLog.map(e => ({ ...e })) }
    },
    async stop() {
      for (const p of proxies) await p.stop().catch(() => {})
      for (const r of [...registries, ...(staging ? [staging] : [])]) await r.stop().catch(() => {})
    }
  }
}

/**
 * Push fresh per-arch images `<repo>:<tag>-<arch>` straight to the first registry (no proxy), or
 * with `both` the same images (same digests) to both registries.
 * @returns {Promise<string[]>} the arch names
 */
async function pushArches(
  /** @type {Fixture} */ fixture,
  /** @type {string} */ repo,
  /** @type {string} */ tag,
  /** @type {number} */ n,
  { both = false } = {}
) {
  const s = salt()
  const arches = ARCHES.slice(0, n)
  const hosts = fixture.registries.slice(0, both ? 2 : 1).map(r => r.host)
  // Both are set or neither: only the token fixture has a staging registry.
  const { staging, token } = fixture
  if (staging && token) {
    // Token registries: push to the plain staging registry, then copy in with the credentials.
    const user = token.users[0]
    await Promise.all(arches.map(([name, p]) => pushImage({ host: staging.host, repo, tag: `${tag}-${name}`, ...p, salt: s })))
    for (const host of hosts)
      await Promise.all(
        arches.map(([name]) =>
          run(
            'skopeo',
            [
              'copy',
              '--quiet',
              '--src-tls-verify=false',
              '--dest-tls-verify=false',
              '--dest-creds',
              `${user.user}:${user.password}`,
              `docker://${staging.host}/${repo}:${tag}-${name}`,
              `docker://${host}/${repo}:${tag}-${name}`
            ],
            process.env
          )
        )
      )
    return arches.map(([name]) => name)
  }
  await Promise.all(hosts.flatMap(host => arches.map(([name, p]) => pushImage({ host, repo, tag: `${tag}-${name}`, ...p, salt: s }))))
  return arches.map(([name]) => name)
}

/** Destinations: `regs` registries x `tags` tags (the tag, then aliases a1, a2, ...). */
function layout(
  /** @type {Fixture} */ fixture,
  /** @type {string} */ repo,
  /** @type {string} */ tag,
  /** @type {number} */ regs,
  /** @type {number} */ tags
) {
  const prefixes = fixture.proxies.slice(0, regs).map(p => p.host)
  const aliases = Array.from({ length: tags - 1 }, (_, i) => `a${i + 1}`)
  const refs = prefixes.flatMap(pre => [tag, ...aliases].map(t => `${pre}/${repo}:${t}`))
  return { prefixes, aliases, refs }
}

// ---------------------------------------------------------------------------------------------
// The two contenders

/**
 * One run of the action (`runAction`, main step timed from its spawn to its exit). `repo` may be a
 * list of repositories (`repos`), published in one run. `trace`: buildah and skopeo through the shims;
 * `profile`: a V8 profile of the action's node process.
 */
async function runTheAction(
  /** @type {Fixture} */ fixture,
  /** @type {Options} */ opts,
  /** @type {Spec} */ {
    repo,
    // A spec names `repo` or `repos`.
    repos = [/** @type {string} */ (repo)],
    tag,
    arches,
    regs,
    tags,
    actionDir = opts.actionDir,
    trace = false,
    profile: profiled = trace,
    inputs = {},
    mayFail = false
  }
) {
  const { prefixes, aliases } = layout(fixture, repos[0], tag, regs, tags)
  fixture.reset()
  const before = nodeSpawns.length
  const traceFile = trace ? path.join(os.tmpdir(), `mp-bench-trace-${salt()}.log`) : ''
  const env = {
    ...(trace ? { PATH: `${shimDir()}:${process.env.PATH}`, MP_BENCH_TRACE: traceFile } : {}),
    ...(profiled
      ? { NODE_OPTIONS: `--require ${path.join(shimDir(), 'profile.js')}`, MP_BENCH_PROFILE: path.join(shimDir(), 'profiles') }
      : {})
  }
  const cpu = cpuMeter(fixture)
  const t0 = performance.now()
  const r = await runAction(
    {
      repo: repos.join(' '),
      tag,
      arches: arches.join(' '),
      registries: prefixes.join(' '),
      aliases: aliases.join(' '),
      'arch-map': archMapFor(arches),
      'tls-verify': 'false',
      summary: 'false',
      ...inputs
    },
    { actionDir, timeoutMs: 300000, env }
  )
  const total = performance.now() - t0
  const cpuMs = cpu()
  const snap = fixture.snapshot()
  const spawns = nodeSpawns.slice(before)
  const main = spawns[0]
  const post = spawns[1]
  if (r.code !== 0 && !mayFail) throw new Error(`the action failed (${r.code}):\n${r.all}`)
  if (r.localLists.length && !mayFail) throw new Error(`the action left local lists: ${r.localLists.join(' ')}`)
  const started = main.lines.filter(l => l.line.startsWith('::debug::$ ')).map(l => l.line.slice('::debug::$ '.length).split(' '))
  /** @type {Record<string, number>} */
  const childKinds = {}
  for (const args of started) {
    const k = `${args[0]} ${kindOf(args.slice(1))}`
    childKinds[k] = (childKinds[k] ?? 0) + 1
  }
  if (opts.verbose) process.stderr.write(r.stdout)
  let children = null
  let profile = null
  if (traceFile) {
    children = readTrace(traceFile)
    fs.rmSync(traceFile, { force: true })
  }
  if (profiled) {
    const file = path.join(shimDir(), 'profiles', `${main.pid}.cpuprofile`)
    if (fs.existsSync(file)) profile = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')))
    fs.rmSync(path.join(shimDir(), 'profiles'), { recursive: true, force: true })
  }
  return {
    ms: (main.t1 ?? NaN) - main.t0,
    postMs: post ? (post.t1 ?? NaN) - post.t0 : 0,
    harnessMs: total,
    firstRequestMs: snap.first - main.t0,
    requests: snap.counts,
    cpuMs: {
      ...cpuMs,
      node: main.ownCpuMs,
      ...(children ? { traced: children.reduce((a, c) => a + c.cpuMs, 0), tracedChildren: children.length } : {})
    },
    code: r.code,
    all: r.all,
    localLists: r.localLists,
    children: started.length,
    childKinds,
    reads: readerStats(snap.log, snap.tokens),
    result: r.outputs.result,
    results: r.outputs.results,
    digest: r.outputs.digest,
    phases: phasesOf(main, snap.log, children),
    profile,
    log: snap.log,
    stdout: r.stdout
  }
}

/**
 * The requests the action's in-process reader made in one run (User-Agent `multiarch-publish`), from
 * the proxies' logs: pings (`/v2/`), 401 answers (the first per registry and repository is the
 * challenge before its first token), cut requests, answered reads, and the token requests it made.
 * `perRead` is requests per read after the first token per repository: (requests - pings - first
 * 401s) / answered reads.
 */
function readerStats(/** @type {Entry[][]} */ logs, /** @type {Array<{reader: boolean, scope: string}>} */ tokenLog = []) {
  const s = { requests: 0, pings: 0, challenges: 0, moreChallenges: 0, cut: 0, reads: 0, heads: 0, gets: 0, tokens: 0, tokenScopes: 0 }
  const seen = new Set()
  logs.forEach((entries, k) => {
    for (const e of entries) {
      if (!e.reader) continue
      s.requests++
      if (/^\/v2\/?(\?.*)?$/.test(e.path)) s.pings++
      else if (e.status === 401) {
        const key = `${k} ${/^\/v2\/(.+?)\/(manifests|blobs)\//.exec(e.path)?.[1]}`
        if (seen.has(key)) s.moreChallenges++
        else s.challenges++
        seen.add(key)
      } else if (typeof e.status === 'number') {
        s.reads++
        if (e.method === 'HEAD') s.heads++
        else s.gets++
      } else s.cut++
    }
  })
  const mine = tokenLog.filter(t => t.reader)
  s.tokens = mine.length
  s.tokenScopes = new Set(mine.map(t => t.scope)).size
  return { ...s, perRead: s.reads ? (s.requests - s.pings - s.challenges) / s.reads : NaN }
}

/** Reader stats summed over runs (perRead from the sums). */
function sumReads(/** @type {Array<{reads: ReadStats}>} */ runs) {
  /** @type {Array<Exclude<keyof ReadStats, 'perRead'>>} */
  const keys = ['requests', 'pings', 'challenges', 'moreChallenges', 'cut', 'reads', 'heads', 'gets', 'tokens', 'tokenScopes']
  // Object.fromEntries types its keys as string; they are `keys`.
  const s = /** @type {Record<(typeof keys)[number], number>} */ (
    Object.fromEntries(keys.map(k => [k, runs.reduce((a, r) => a + r.reads[k], 0)]))
  )
  return { ...s, runs: runs.length, perRead: s.reads ? (s.requests - s.pings - s.challenges) / s.reads : NaN }
}

/** One line on what a run did: children by kind, requests, the reader's requests per read. */
function countsText(/** @type {ActionRun} */ r) {
  const kinds = Object.entries(r.childKinds)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')
  const rd = r.reads
  const reader = rd.requests
    ? `in process ${rd.requests} requests: ${rd.pings} pings, ${rd.challenges} first 401s, ${rd.reads} reads (${rd.heads} HEAD, ${rd.gets} GET)${rd.moreChallenges ? `, ${rd.moreChallenges} more 401s` : ''}${rd.cut ? `, ${rd.cut} cut` : ''}${rd.tokens ? `, ${rd.tokens} tokens for ${rd.tokenScopes} scopes` : ''}, ${ratio(rd.perRead)} per read`
    : 'no reads in process'
  return `${r.children} children (${kinds}); ${reader}`
}

// ---------------------------------------------------------------------------------------------
// Where the action's time goes: its log groups, stamped as they arrive, and the children each started.

/** Shims for buildah and skopeo that log start and end of every child (bash's $EPOCHREALTIME: no fork). */
let shims = ''
function shimDir() {
  if (shims) return shims
  shims = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-bench-shims-'))
  for (const tool of ['buildah', 'skopeo']) {
    const real = childProcess.spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim()
    if (!real) throw new Error(`--trace: ${tool} is not on PATH`)
    const file = path.join(shims, tool)
    fs.writeFileSync(
      file,
      [
        '#!/bin/bash',
        's=$EPOCHREALTIME',
        `${JSON.stringify(real)} "$@"`,
        'rc=$?',
        'e=$EPOCHREALTIME',
        // cutime+cstime of this shell: the CPU of the child it has just reaped (builtins only, no fork).
        'read -r st < /proc/$$/stat; st=${st##*) }; a=($st)',
        `printf '%s %s %s %s %s %s\\n' "$s" "$e" "$rc" "$((a[13] + a[14]))" ${tool} "$*" >> "$MP_BENCH_TRACE"`,
        'exit $rc',
        ''
      ].join('\n')
    )
    fs.chmodSync(file, 0o755)
  }
  // The action's node process profiles itself (--cpu-prof is not allowed in NODE_OPTIONS; --require is).
  fs.writeFileSync(
    path.join(shims, 'profile.js'),
    [
      "'use strict'",
      "const inspector = require('node:inspector')",
      "const fs = require('node:fs')",
      'const session = new inspector.Session()',
      'session.connect()',
      "session.post('Profiler.enable')",
      "session.post('Profiler.setSamplingInterval', { interval: 500 })",
      "session.post('Profiler.start')",
      "process.on('exit', () => session.post('Profiler.stop', (err, r) => {",
      '  if (err) return',
      '  fs.mkdirSync(process.env.MP_BENCH_PROFILE, { recursive: true })',
      '  fs.writeFileSync(`${process.env.MP_BENCH_PROFILE}/${process.pid}.cpuprofile`, JSON.stringify(r.profile))',
      '}))',
      ''
    ].join('\n')
  )
  return shims
}

/**
 * Where the action's own thread spends its time (V8 sampling profile, 0.5 ms): everything but idle,
 * and the inclusive time of the frames that matter here (spawning children, the watchdog's /proc
 * scans, @actions/exec's PATH look-up, loading the bundle, garbage collection).
 * @returns {Record<string, number>} busyMs, wallMs, and the time of each frame watched
 */
function summarizeProfile(/** @type {import('node:inspector').Profiler.Profile} */ p) {
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  /** @type {Map<number, number>} */
  const parent = new Map()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  /** @type {Map<number, number>} */
  const spent = new Map()
  // A V8 profile has samples and timeDeltas, and a node for every id they name.
  const samples = p.samples ?? []
  const timeDeltas = p.timeDeltas ?? []
  const node = (/** @type {number} */ id) => /** @type {import('node:inspector').Profiler.ProfileNode} */ (byId.get(id))
  samples.forEach((id, i) => spent.set(id, (spent.get(id) ?? 0) + (timeDeltas[i] ?? 0) / 1000))
  /** @type {Record<string, (f: import('node:inspector').Runtime.CallFrame) => boolean>} */
  const watch = {
    'spawn (child_process)': f => f.functionName === 'spawn' && f.url === 'node:child_process',
    'watchdog tick (/proc scans)': f => f.functionName === 'tick',
    'PATH look-up (@actions/io which)': f => f.functionName === 'tryGetExecutablePath',
    'loading the bundle': f => f.functionName === 'Module._load',
    'garbage collection': f => f.functionName === '(garbage collector)'
  }
  const totals = Object.fromEntries(Object.keys(watch).map(k => [k, 0]))
  let busy = 0
  for (const [id, t] of spent) {
    const frame = node(id).callFrame
    if (frame.functionName === '(idle)') continue
    busy += t
    const hit = new Set()
    for (let /** @type {number | undefined} */ x = id; x !== undefined; x = parent.get(x)) {
      for (const [k, match] of Object.entries(watch))
        if (!hit.has(k) && match(node(x).callFrame)) {
          hit.add(k)
          totals[k] += t
        }
    }
  }
  return { busyMs: busy, wallMs: (p.endTime - p.startTime) / 1000, ...totals }
}

/** The shims' log: one child per line, times on performance.now()'s clock. */
function readTrace(/** @type {string} */ file) {
  if (!fs.existsSync(file)) return []
  const origin = performance.timeOrigin
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(l => {
      const [s, e, rc, ticks, tool, ...args] = l.split(' ')
      return {
        t0: Number(s) * 1000 - origin,
        t1: Number(e) * 1000 - origin,
        rc: Number(rc),
        cpuMs: Number(ticks) * TICK_MS,
        command: `${tool} ${kindOf(args)}`,
        args: args.join(' ')
      }
    })
}

/** `skopeo inspect --raw`, `buildah manifest push`, ...: what kind of child it is. */
function kindOf(/** @type {string[]} */ args) {
  const words = args.filter(a => !a.startsWith('-') && !a.includes('/') && !a.includes(':'))
  const kind = words.slice(0, words[0] === 'manifest' ? 2 : 1).join(' ') || args[0] || ''
  if (kind === 'inspect') return args.includes('--config') ? 'inspect --config' : 'inspect --raw'
  return kind
}

/**
 * The phases of one action run: start-up (spawn to the first group), each `::group::`, the gaps
 * between groups, and the tail (after the last group to the exit); per phase the children it started
 * (from the `::debug::$ ...` lines, or with the trace, from the shims' log), their kinds, the most at
 * once, and the proxies' requests in it.
 * @param {{t0: number, t1: number | null, lines: Array<{t: number, line: string}>}} main
 * @param {Entry[][]} proxyLogs
 * @param {ReturnType<typeof readTrace> | null} children
 */
function phasesOf(main, proxyLogs, children) {
  /** @type {Array<{name: string, t0: number, t1: number}>} */
  const spans = []
  let at = main.t0
  let open = /** @type {{name: string, t0: number} | null} */ (null)
  /** @type {Array<{t: number, command: string}>} */
  const starts = []
  for (const { t, line } of main.lines) {
    if (line.startsWith('::group::')) {
      spans.push({ name: spans.length === 0 ? 'start-up' : 'between groups', t0: at, t1: t })
      open = { name: line.slice('::group::'.length), t0: t }
    } else if (line.startsWith('::endgroup::') && open) {
      spans.push({ ...open, t1: t })
      at = t
      open = null
    } else if (line.startsWith('::debug::$ ')) {
      const args = line.slice('::debug::$ '.length).split(' ')
      starts.push({ t, command: `${args[0]} ${kindOf(args.slice(1))}` })
    }
  }
  spans.push({ name: spans.length === 0 ? 'whole run (no groups)' : 'tail: after the last group to the exit', t0: at, t1: main.t1 ?? at })
  const requests = proxyLogs.flat()
  return spans
    .filter(s => s.t1 - s.t0 >= 1 || s.name !== 'between groups')
    .map(s => {
      const inside = (/** @type {number} */ t) => t >= s.t0 && t < s.t1
      const mine = children ? children.filter(c => inside(c.t0)) : starts.filter(c => inside(c.t))
      /** @type {Record<string, number>} */
      const kinds = {}
      for (const c of mine) kinds[c.command] = (kinds[c.command] ?? 0) + 1
      /** @type {Phase} */
      const phase = { name: s.name, ms: s.t1 - s.t0, children: mine.length, kinds, requests: requests.filter(e => inside(e.t)).length }
      if (children) {
        // The most children alive at once in the span, and how long they took.
        const edges = children
          .flatMap(c => [
            [c.t0, 1],
            [c.t1, -1]
          ])
          .sort((a, b) => a[0] - b[0] || a[1] - b[1])
        let now = 0
        let peak = 0
        for (const [t, d] of edges) {
          now += d
          if (inside(t)) peak = Math.max(peak, now)
        }
        // With children, `mine` is some of them.
        const traced = /** @type {typeof children} */ (mine)
        const durations = traced.map(c => c.t1 - c.t0)
        Object.assign(phase, {
          peak,
          childMsMedian: median(durations),
          childMsMax: Math.max(0, ...durations),
          childMsSum: durations.reduce((a, b) => a + b, 0),
          childCpuMs: traced.reduce((a, c) => a + (c.cpuMs ?? 0), 0)
        })
      }
      return phase
    })
}

/** Medians per phase name over several runs (phases named alike are summed within a run first). */
function phaseMedians(/** @type {Phase[][]} */ runs) {
  /** @type {string[]} */
  const names = []
  for (const run of runs) for (const p of run) if (!names.includes(p.name)) names.push(p.name)
  return names.map(name => {
    const per = runs.map(run => run.filter(p => p.name === name))
    const pick = (/** @type {'ms' | 'children' | 'requests' | 'peak' | 'childMsMax' | 'childCpuMs'} */ k) =>
      median(per.map(ps => ps.reduce((a, p) => a + (p[k] ?? 0), 0)))
    /** @type {Record<string, number>} */
    const kinds = {}
    for (const p of per[0]) for (const [k, v] of Object.entries(p.kinds)) kinds[k] = (kinds[k] ?? 0) + v
    /** @type {Phase} */
    const out = { name, ms: pick('ms'), children: pick('children'), requests: pick('requests'), kinds }
    if (per[0][0]?.peak !== undefined)
      Object.assign(out, {
        peak: pick('peak'),
        // The filter leaves numbers only.
        childMsMedian: median(/** @type {number[]} */ (per.flatMap(ps => ps.map(p => p.childMsMedian)).filter(Number.isFinite))),
        childMsMax: pick('childMsMax'),
        childCpuMs: pick('childCpuMs')
      })
    return out
  })
}

function logPhases(/** @type {Log} */ log, /** @type {Phase[]} */ phases, /** @type {string} */ indent = '    ') {
  for (const p of phases) {
    const kinds = Object.entries(p.kinds)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')
    const traced =
      p.peak !== undefined && p.children > 0
        ? `; at most ${p.peak} at once, each ${ms(p.childMsMedian ?? NaN)} (median), longest ${ms(p.childMsMax ?? NaN)}, their CPU ${ms(p.childCpuMs ?? NaN)}`
        : ''
    log(`${indent}${ms(p.ms).padStart(8)}  ${p.name}: ${p.children} children${kinds ? ` (${kinds})` : ''}${traced}; ${p.requests} requests`)
  }
}

/**
 * The usual release script: one `manifest create` with every image, then one `manifest push --all`
 * per destination, one after another, then `manifest rm`. Isolated vfs storage and HOME. With
 * several repositories (`repos`), the same for each repository in turn, as sequential release
 * tooling does.
 */
async function runTheScript(
  /** @type {Fixture} */ fixture,
  // A spec names `repo` or `repos`.
  /** @type {Spec} */ { repo, repos = [/** @type {string} */ (repo)], tag, arches, regs, tags },
  { keepLog = false } = {}
) {
  const source = fixture.proxies[0].host
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-bench-script-'))
  const home = path.join(dir, 'home')
  fs.mkdirSync(home)
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, HOME: home, CONTAINERS_STORAGE_CONF: makeStorage(path.join(dir, 'storage')) }
  for (const k of ['REGISTRY_AUTH_FILE', 'DOCKER_CONFIG', 'XDG_RUNTIME_DIR', 'STORAGE_DRIVER']) delete env[k]
  if (!keepLog) fixture.reset()
  const cpu = cpuMeter(fixture)
  const t0 = performance.now()
  /** @type {Array<[string, number]>} */
  const steps = []
  try {
    for (const repo of repos) {
      const { refs } = layout(fixture, repo, tag, regs, tags)
      const name = `localhost/release-${repo.replace(/[^a-z0-9]+/g, '-')}-${tag}`
      steps.push([
        'create',
        (
          await run(
            'buildah',
            ['manifest', 'create', '--tls-verify=false', name, ...arches.map(a => `docker://${source}/${repo}:${tag}-${a}`)],
            env
          )
        ).ms
      ])
      for (const ref of refs) {
        steps.push([
          `push ${ref}`,
          (await run('buildah', ['manifest', 'push', '--all', '--format', 'oci', '--tls-verify=false', name, `docker://${ref}`], env)).ms
        ])
      }
      steps.push(['rm', (await run('buildah', ['manifest', 'rm', name], env)).ms])
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const total = performance.now() - t0
  const cpuMs = cpu()
  const snap = fixture.snapshot()
  return { ms: total, steps, requests: snap.counts, firstRequestMs: snap.first - t0, cpuMs }
}

// ---------------------------------------------------------------------------------------------
// Sections

/**
 * What `--json FILE` writes (with `targets`): the machine, then each section that ran.
 * @typedef {ReturnType<typeof machine> & {rounds: number, latencyMs: number, actionDir: string, date: string,
 *   bundles?: Array<{dir: string, bytes: number}>, loadAtSections?: Record<string, number[]>,
 *   loadAverage?: {start: number[], end: number[]}}} Meta
 * @typedef {{actionDir: string, actionMs: number, actionPostMs: number, rerunMs: number, ratio: number,
 *   rerunRatio: number, actionAll: number[], rerunAll: number[],
 *   requests: {action: Counts | undefined, rerun: Counts | undefined}, firstRequestMs: number, cpuMs: CpuMedian,
 *   children: number, rerunChildren: number, reads: ReadSums, rerunReads: ReadSums, phases: Phase[]}} FullAction
 * @typedef {FullAction & {scriptMs: number, scriptAll: number[], scriptStepMedians: Record<string, number>,
 *   scriptRequests: Counts | undefined, scriptCpuMs: CpuMedian, others: FullAction[], traced?: Traced}} FullResult
 * @typedef {'dest1' | 'dest2' | 'dest4' | 'dest8' | 'arch2' | 'arch8'} ScaleKey
 * @typedef {Record<ScaleKey, {label: string, ms: number, all: number[], requests: number}> & {dest8over2: number}} ScaleResult
 * @typedef {{firstRequestMs: number, all: number[], bundleBytes: number, nodeBareMs: number, buildahVersionMs: number}} FirstResult
 * @typedef {{title: string, actionMs: number, scriptMs: number, ratio: number, target: number, actionAll: number[],
 *   scriptAll: number[], requests: {action: Counts | undefined, script: Counts | undefined},
 *   scriptStepMedians: Record<string, number>, cpuMs: {action: CpuMedian, script: CpuMedian}, children: number,
 *   reads: ReadSums, phases: Phase[], traced?: Traced,
 *   others: Array<{actionDir: string, actionMs: number, ratio: number, actionAll: number[], cpuMs: CpuMedian,
 *     children: number, reads: ReadSums}>}} CompareResult
 * @typedef {{actionDir: string, publishMs: number, rerunMs: number, children: number, rerunChildren: number,
 *   publish: ReadSums, rerun: ReadSums}} TokensResult
 * @typedef {{seed: number, outcome: string, ok: boolean, ms: number, cut: number, conns: number, children: number,
 *   why: string, served: Array<string | null>}} FlakyRun
 * @typedef {{rate: number, seeds: number[], contenders: Array<{who: string, everywhere: number, clean: number,
 *   disagree: number, other: number, runs: FlakyRun[]}>}} FlakyResult
 * @typedef {{meta: Meta, full: FullResult | null, scale: ScaleResult | null, first: FirstResult | null,
 *   set: CompareResult | null, wide: CompareResult | null, zero: CompareResult | null,
 *   tokens: TokensResult[] | null, flaky: FlakyResult[] | null}} Results
 */

/** @type {Results} */
const results = {
  // main() fills it in before anything reads it.
  meta: /** @type {Meta} */ ({}),
  full: null,
  scale: null,
  first: null,
  set: null,
  wide: null,
  zero: null,
  tokens: null,
  flaky: null
}

/**
 * Targets: issue 17 (reads in process: full, set, wide, zero, rerun, children, requests per read,
 * flaky networks); issue 4 (start-up, scaling).
 */
const TARGET = { full: 0.35, set: 0.3, wide: 0.3, zero: 1.0, rerun: 0.06, children: 14, rerunChildren: 2, perRead: 1 }

/**
 * With --trace or --profile: a few more runs of the action (children through the shims with --trace;
 * its node process profiled either way), reported apart from the timed ones.
 */
async function tracedRuns(
  /** @type {Fixture} */ fixture,
  /** @type {Options} */ opts,
  /** @type {Log} */ log,
  /** @type {(i: number) => Promise<Spec>} */ make,
  /** @type {string} */ what
) {
  if (!opts.trace && !opts.profile) return null
  /** @type {ActionRun[]} */
  const runs = []
  for (let i = 0; i < Math.min(opts.rounds, 3); i++) {
    const spec = await make(i)
    const r = await runTheAction(fixture, opts, { ...spec, trace: opts.trace, profile: true })
    runs.push(r)
  }
  const phases = phaseMedians(runs.map(r => r.phases))
  // `traced` and `tracedChildren` are set with --trace, the only time they are asked for here.
  const cpu = (/** @type {keyof ActionRun['cpuMs']} */ k) => ms(median(/** @type {number[]} */ (runs.map(r => r.cpuMs[k]))))
  log(
    `  ${opts.trace ? 'traced' : 'profiled'} (${what}; ${opts.trace ? 'children through the shims, ' : ''}${runs.length} runs, not timed): main step ${ms(median(runs.map(r => r.ms)))}; CPU: ${opts.trace ? `buildah/skopeo ${cpu('traced')} (${median(/** @type {number[]} */ (runs.map(r => r.cpuMs.tracedChildren)))} children), ` : ''}node itself ${cpu('node')} (main step), all of the run ${cpu('contender')}, registries ${cpu('registries')}, proxies ${cpu('harness')}`
  )
  logPhases(log, phases)
  const profiles = runs.map(r => r.profile).filter(p => p !== null)
  /** @type {Record<string, number> | null} */
  let profile = null
  if (profiles.length) {
    profile = Object.fromEntries(Object.keys(profiles[0]).map(k => [k, median(profiles.map(p => p[k]))]))
    log(
      `    node's own thread (V8 profile, medians): busy ${ms(profile.busyMs)} of ${ms(profile.wallMs)}; ${Object.entries(profile)
        .filter(([k]) => !['busyMs', 'wallMs'].includes(k))
        .map(([k, v]) => `${k} ${ms(v)}`)
        .join(', ')}`
    )
  }
  return {
    profile,
    ms: median(runs.map(r => r.ms)),
    all: runs.map(r => Math.round(r.ms)),
    cpuMs: cpuMedian(runs),
    // Without --trace (--profile alone) `traced` is unset: undefined or NaN, as the JSON has always had it.
    childCpuMs: median(/** @type {number[]} */ (runs.map(r => r.cpuMs.traced))),
    nodeCpuMs: median(runs.map(r => r.cpuMs.node)),
    phases
  }
}

async function sectionFull(/** @type {Fixture} */ fixture, /** @type {Options} */ opts, /** @type {Log} */ log) {
  log(
    `\n== Full publish: ${opts.arches} arches -> 2 registries x 2 tags (4 destinations), ${opts.latency} ms per request, ${opts.rounds} rounds`
  )
  const dirs = [opts.actionDir, ...opts.others]
  const label = (/** @type {number} */ k) => (dirs.length > 1 ? `action[${k}]` : 'action')
  /** @type {ActionRun[][]} */
  const action = dirs.map(() => [])
  /** @type {ActionRun[][]} */
  const rerun = dirs.map(() => [])
  /** @type {ScriptRun[]} */
  const script = []
  for (let i = 0; i < opts.rounds; i++) {
    const doAction = async (/** @type {number} */ k) => {
      const repo = `bench/full-${i}-action${k}-${salt()}`
      const arches = await pushArches(fixture, repo, '1', opts.arches)
      const spec = { repo, tag: '1', arches, regs: 2, tags: 2, actionDir: dirs[k] }
      const a = await runTheAction(fixture, opts, spec)
      if (a.result !== 'published') throw new Error(`expected result=published, got ${a.result}`)
      action[k].push(a)
      log(
        `  round ${i + 1}: ${label(k)}  ${ms(a.ms)} (post step ${ms(a.postMs)}; first request after ${ms(a.firstRequestMs)}; ${a.requests.total} requests; ${cpuText(a.cpuMs)})`
      )
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
      log(
        `  round ${i + 1}: script  ${ms(s.ms)} (${s.steps.map(([n, t]) => `${n.split(' ')[0]} ${Math.round(t)}`).join(', ')}; ${s.requests.total} requests; ${cpuText(s.cpuMs)})`
      )
    }
    // Alternate, and rotate who goes first every round, so drift hurts every contender alike.
    const jobs = [doScript, ...dirs.map((_, k) => () => doAction(k))]
    for (let j = 0; j < jobs.length; j++) await jobs[(i + j) % jobs.length]()
  }
  const mS = median(script.map(r => r.ms))
  /** @type {Record<string, number[]>} */
  const scriptSteps = {}
  for (const s of script) for (const [n, t] of s.steps) (scriptSteps[n.split(' ')[0]] ??= []).push(t)
  const summarize = (/** @type {number} */ k) => {
    const mA = median(action[k].map(r => r.ms))
    const mR = median(rerun[k].map(r => r.ms))
    return {
      actionDir: dirs[k],
      actionMs: mA,
      actionPostMs: median(action[k].map(r => r.postMs)),
      rerunMs: mR,
      ratio: mA / mS,
      rerunRatio: mR / mS,
      actionAll: action[k].map(r => Math.round(r.ms)),
      rerunAll: rerun[k].map(r => Math.round(r.ms)),
      requests: { action: action[k][0]?.requests, rerun: rerun[k][0]?.requests },
      firstRequestMs: median([...action[k], ...rerun[k]].map(r => r.firstRequestMs)),
      cpuMs: cpuMedian(action[k]),
      children: median(action[k].map(r => r.children)),
      rerunChildren: median(rerun[k].map(r => r.children)),
      reads: sumReads(action[k]),
      rerunReads: sumReads(rerun[k]),
      phases: phaseMedians(action[k].map(r => r.phases))
    }
  }
  const all = dirs.map((_, k) => summarize(k))
  results.full = {
    ...all[0],
    scriptMs: mS,
    scriptAll: script.map(r => Math.round(r.ms)),
    scriptStepMedians: Object.fromEntries(Object.entries(scriptSteps).map(([k, v]) => [k, Math.round(median(v))])),
    scriptRequests: script[0]?.requests,
    scriptCpuMs: cpuMedian(script),
    others: all.slice(1)
  }
  log(`  median: script ${ms(mS)} (${cpuText(results.full.scriptCpuMs)})`)
  all.forEach((r, k) => {
    if (dirs.length > 1) log(`  ${label(k)} = ${dirs[k]}`)
    log(
      `  median: ${label(k)} ${ms(r.actionMs)}, action/script ${ratio(r.ratio)}; rerun (unchanged) ${ms(r.rerunMs)}, rerun/script ${ratio(r.rerunRatio)}; first request ${ms(r.firstRequestMs)}; ${cpuText(r.cpuMs)}`
    )
  })
  all.forEach((r, k) => {
    log(`  ${label(k)}: publish ${countsText(action[k][0])}`)
    log(`  ${label(k)}: rerun   ${countsText(rerun[k][0])}`)
    log(
      `  ${label(k)}: median children per publish ${r.children}, per rerun ${r.rerunChildren}; requests per read in process after the first token per repository: publishes ${ratio(r.reads.perRead)}, reruns ${ratio(r.rerunReads.perRead)} (${r.reads.reads + r.rerunReads.reads} reads in ${action[k].length + rerun[k].length} runs)`
    )
  })
  all.forEach((r, k) => {
    log(`  phases of ${label(k)} (medians of the publishes):`)
    logPhases(log, r.phases)
  })
  results.full.traced = await tracedRuns(
    fixture,
    opts,
    log,
    async i => {
      const repo = `bench/full-trace-${i}-${salt()}`
      return { repo, tag: '1', arches: await pushArches(fixture, repo, '1', opts.arches), regs: 2, tags: 2 }
    },
    'full'
  )
  return { action: action[0], rerun: rerun[0] }
}

async function sectionScale(/** @type {Fixture} */ fixture, /** @type {Options} */ opts, /** @type {Log} */ log) {
  log(`\n== Scaling (action only), ${opts.latency} ms per request, ${opts.rounds} rounds`)
  /** @type {Array<{label: string, regs: number, tags: number, n: number, key: ScaleKey}>} */
  const cases = [
    { label: '1 destination, 4 arches', regs: 1, tags: 1, n: 4, key: 'dest1' },
    { label: '2 destinations, 4 arches', regs: 2, tags: 1, n: 4, key: 'dest2' },
    { label: '4 destinations, 4 arches', regs: 2, tags: 2, n: 4, key: 'dest4' },
    { label: '8 destinations, 4 arches', regs: 2, tags: 4, n: 4, key: 'dest8' },
    { label: '4 destinations, 2 arches', regs: 2, tags: 2, n: 2, key: 'arch2' },
    { label: '4 destinations, 8 arches', regs: 2, tags: 2, n: 8, key: 'arch8' }
  ]
  // Object.fromEntries types its keys as string; they are the cases' keys.
  const runs = /** @type {Record<ScaleKey, ActionRun[]>} */ (Object.fromEntries(cases.map(c => [c.key, /** @type {ActionRun[]} */ ([])])))
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
  // Every case is filled in below, then dest8over2.
  const s = /** @type {ScaleResult} */ ({})
  results.scale = s
  for (const c of cases) {
    const m = median(runs[c.key].map(r => r.ms))
    s[c.key] = { label: c.label, ms: m, all: runs[c.key].map(r => Math.round(r.ms)), requests: runs[c.key][0].requests.total }
    log(`  ${c.label.padEnd(26)} ${ms(m).padStart(8)}   (${runs[c.key][0].requests.total} requests)`)
  }
  // 4 destinations / 4 arches is the full-publish case: reuse those runs too when available.
  s.dest8over2 = s.dest8.ms / s.dest2.ms
  log(`  8 destinations / 2 destinations: ${ratio(s.dest8over2)}`)
  return runs
}

/**
 * The action against the script on one case, interleaved (who goes first swaps every round).
 * `make(i, who)` pushes fresh images and returns the spec both sides run on.
 * @template {Spec} S
 * @param {Fixture} fixture
 * @param {Options} opts
 * @param {Log} log
 * @param {{key: 'set' | 'wide' | 'zero', title: string, make: (i: number, who: string) => Promise<S>, check?: (a: ActionRun, spec: S) => void}} c
 */
async function sectionCompare(fixture, opts, log, c) {
  log(`\n== ${c.title}, ${opts.rounds} rounds`)
  // Every --action-dir takes part, each once a round, in the rotation with the script.
  const dirs = [opts.actionDir, ...opts.others]
  const label = (/** @type {number} */ k) => (dirs.length > 1 ? `action[${k}]` : 'action ')
  /** @type {ActionRun[][]} */
  const runs = dirs.map(() => [])
  const action = runs[0]
  /** @type {ScriptRun[]} */
  const script = []
  for (let i = 0; i < opts.rounds; i++) {
    const doAction = (/** @type {number} */ k) => async () => {
      const spec = await c.make(i, `action${k}`)
      const a = await runTheAction(fixture, opts, { ...spec, actionDir: dirs[k] })
      if (a.result !== 'published') throw new Error(`expected result=published, got ${a.result}`)
      c.check?.(a, spec)
      runs[k].push(a)
      log(
        `  round ${i + 1}: ${label(k)} ${ms(a.ms)} (first request after ${ms(a.firstRequestMs)}; ${a.requests.total} requests; ${cpuText(a.cpuMs)})`
      )
    }
    const doScript = async () => {
      const spec = await c.make(i, 'script')
      const s = await runTheScript(fixture, spec)
      script.push(s)
      /** @type {Record<string, number[]>} */
      const steps = {}
      for (const [n, t] of s.steps) (steps[n.split(' ')[0]] ??= []).push(t)
      log(
        `  round ${i + 1}: script  ${ms(s.ms)} (${Object.entries(steps)
          .map(([n, ts]) => `${ts.length} ${n} ${Math.round(ts.reduce((a, b) => a + b, 0))}`)
          .join(', ')}; ${s.requests.total} requests; ${cpuText(s.cpuMs)})`
      )
    }
    const jobs = [doScript, ...dirs.map((_, k) => doAction(k))]
    for (let j = 0; j < jobs.length; j++) await jobs[(i + j) % jobs.length]()
  }
  const mA = median(action.map(r => r.ms))
  const mS = median(script.map(r => r.ms))
  /** @type {Record<string, number[]>} */
  const scriptSteps = {}
  for (const s of script) for (const [n, t] of s.steps) (scriptSteps[n.split(' ')[0]] ??= []).push(t)
  const phases = phaseMedians(action.map(r => r.phases))
  /** @type {CompareResult} */
  const res = {
    title: c.title,
    actionMs: mA,
    scriptMs: mS,
    ratio: mA / mS,
    target: TARGET[c.key],
    actionAll: action.map(r => Math.round(r.ms)),
    scriptAll: script.map(r => Math.round(r.ms)),
    requests: { action: action[0]?.requests, script: script[0]?.requests },
    scriptStepMedians: Object.fromEntries(Object.entries(scriptSteps).map(([k, v]) => [k, Math.round(median(v))])),
    cpuMs: { action: cpuMedian(action), script: cpuMedian(script) },
    children: median(action.map(r => r.children)),
    reads: sumReads(action),
    phases,
    others: runs.slice(1).map((r, k) => {
      const m = median(r.map(a => a.ms))
      return {
        actionDir: dirs[k + 1],
        actionMs: m,
        ratio: m / mS,
        actionAll: r.map(a => Math.round(a.ms)),
        cpuMs: cpuMedian(r),
        children: median(r.map(a => a.children)),
        reads: sumReads(r)
      }
    })
  }
  results[c.key] = res
  log(`  median: action ${ms(mA)}, script ${ms(mS)}, action/script ${ratio(mA / mS)} (target <= ${TARGET[c.key]})`)
  log(`  median CPU: action ${cpuText(res.cpuMs.action)}; script ${cpuText(res.cpuMs.script)}`)
  for (const [k, o] of res.others.entries())
    log(`  action[${k + 1}] = ${o.actionDir}: median ${ms(o.actionMs)}, action/script ${ratio(o.ratio)}; ${cpuText(o.cpuMs)}`)
  if (dirs.length > 1) log(`  (action[0] = ${dirs[0]}: the lines above, the phases and the targets)`)
  runs.forEach((r, k) => {
    const rd = sumReads(r)
    log(
      `  ${label(k).trim()}: ${countsText(r[0])}; median children ${median(r.map(a => a.children))}; requests per read in process ${ratio(rd.perRead)} (${rd.reads} reads in ${r.length} runs)`
    )
  })
  log('  phases of the action (medians):')
  logPhases(log, phases)
  res.traced = await tracedRuns(fixture, opts, log, i => c.make(i, 'trace'), c.key)
}

/** Issue 11: 10 repositories x 2 registries x 2 tags, 4 arches, the images already in both registries. */
async function sectionSet(/** @type {Fixture} */ fixture, /** @type {Options} */ opts, /** @type {Log} */ log) {
  const n = 10
  await sectionCompare(fixture, opts, log, {
    key: 'set',
    title: `Release set: ${n} repositories x 2 registries x 2 tags, 4 arches, images in both registries, ${opts.latency} ms per request; the action once for all, the script per repository`,
    make: async (i, who) => {
      const prefix = `bench/set-${i}-${who}-${salt()}`
      const repos = Array.from({ length: n }, (_, k) => `${prefix}/r${k}`)
      const arches = (await Promise.all(repos.map(repo => pushArches(fixture, repo, '1', 4, { both: true }))))[0]
      return { repos, tag: '1', arches, regs: 2, tags: 2 }
    },
    check: (a, spec) => {
      const per = JSON.parse(a.results ?? '{}')
      const bad = spec.repos.filter(r => per[r]?.result !== 'published')
      if (bad.length) throw new Error(`not published: ${bad.join(' ')} (results: ${a.results})`)
    }
  })
}

/** Issue 11: one repository with 16 arches to 2 registries x 2 tags. */
async function sectionWide(/** @type {Fixture} */ fixture, /** @type {Options} */ opts, /** @type {Log} */ log) {
  await sectionCompare(fixture, opts, log, {
    key: 'wide',
    title: `Wide: 16 arches -> 2 registries x 2 tags, ${opts.latency} ms per request`,
    make: async (i, who) => {
      const repo = `bench/wide-${i}-${who}-${salt()}`
      return { repo, tag: '1', arches: await pushArches(fixture, repo, '1', 16), regs: 2, tags: 2 }
    }
  })
}

/** Issue 11: the full case with no delay in the proxies. */
async function sectionZero(/** @type {Fixture} */ fixture, /** @type {Options} */ opts, /** @type {Log} */ log) {
  for (const p of fixture.proxies) p.setLatency(0)
  try {
    await sectionCompare(fixture, opts, log, {
      key: 'zero',
      title: '0 ms: 4 arches -> 2 registries x 2 tags, no delay per request',
      make: async (i, who) => {
        const repo = `bench/zero-${i}-${who}-${salt()}`
        return { repo, tag: '1', arches: await pushArches(fixture, repo, '1', 4), regs: 2, tags: 2 }
      }
    })
  } finally {
    for (const p of fixture.proxies) p.setLatency(opts.latency)
  }
}

const BENCH_USER = { user: 'bench', password: 'bench-password' }

/**
 * The full case against registries that want Bearer tokens (the harness's token server; the action
 * gets `username` and `password`), publish then rerun, every --action-dir: what the reads in process
 * cost in requests (requests per read after the first token per repository, tokens per scope).
 */
async function sectionTokens(/** @type {Options} */ opts, /** @type {Log} */ log) {
  const dirs = [opts.actionDir, ...opts.others]
  const label = (/** @type {number} */ k) => (dirs.length > 1 ? `action[${k}]` : 'action')
  log(
    `\n== Tokens: ${opts.arches} arches -> 2 token-auth registries x 2 tags, ${opts.latency} ms per request, publish then rerun, ${opts.rounds} rounds (action only)`
  )
  const fixture = await startFixture(opts.latency, { token: { users: [BENCH_USER] } })
  try {
    const runs = dirs.map(() => ({ publish: /** @type {ActionRun[]} */ ([]), rerun: /** @type {ActionRun[]} */ ([]) }))
    for (let i = 0; i < opts.rounds; i++) {
      for (let j = 0; j < dirs.length; j++) {
        const k = (i + j) % dirs.length
        const repo = `bench/tokens-${i}-action${k}-${salt()}`
        const arches = await pushArches(fixture, repo, '1', opts.arches)
        const spec = {
          repo,
          tag: '1',
          arches,
          regs: 2,
          tags: 2,
          actionDir: dirs[k],
          inputs: { username: BENCH_USER.user, password: BENCH_USER.password }
        }
        const a = await runTheAction(fixture, opts, spec)
        if (a.result !== 'published') throw new Error(`expected result=published, got ${a.result}`)
        const b = await runTheAction(fixture, opts, spec)
        if (b.result !== 'unchanged') throw new Error(`expected result=unchanged on the rerun, got ${b.result}`)
        runs[k].publish.push(a)
        runs[k].rerun.push(b)
        log(`  round ${i + 1}: ${label(k)} publish ${ms(a.ms)}: ${countsText(a)}`)
        log(`  round ${i + 1}: ${label(k)} rerun   ${ms(b.ms)}: ${countsText(b)}`)
      }
    }
    results.tokens = dirs.map((dir, k) => ({
      actionDir: dir,
      publishMs: median(runs[k].publish.map(r => r.ms)),
      rerunMs: median(runs[k].rerun.map(r => r.ms)),
      children: median(runs[k].publish.map(r => r.children)),
      rerunChildren: median(runs[k].rerun.map(r => r.children)),
      publish: sumReads(runs[k].publish),
      rerun: sumReads(runs[k].rerun)
    }))
    results.tokens.forEach((t, k) => {
      if (dirs.length > 1) log(`  ${label(k)} = ${t.actionDir}`)
      for (const [what, rd] of /** @type {Array<[string, ReadSums]>} */ ([
        ['publishes', t.publish],
        ['reruns', t.rerun]
      ]))
        log(
          `  ${label(k)} ${what}: ${rd.requests} requests in process over ${rd.runs} runs (${rd.pings} pings, ${rd.challenges} first 401s, ${rd.moreChallenges} more 401s, ${rd.cut} cut), ${rd.reads} reads; ${rd.tokens} tokens for ${rd.tokenScopes} registry x repository scopes; requests per read after the first token per repository ${ratio(rd.perRead)}`
        )
      log(`  ${label(k)}: median publish ${ms(t.publishMs)} (${t.children} children), rerun ${ms(t.rerunMs)} (${t.rerunChildren} children)`)
    })
  } finally {
    await fixture.stop()
  }
}

/** The digest `repo:tag` serves, read straight from the registry (not through the proxy); null when absent. */
async function servedDigest(/** @type {string} */ host, /** @type {string} */ repo, /** @type {string} */ tag) {
  const accept = [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json'
  ].join(', ')
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept } })
  if (res.status === 404) return null
  if (res.status !== 200) return `HTTP ${res.status}`
  return res.headers.get('docker-content-digest') ?? 'no digest'
}

/**
 * Flaky network: the full case with new connections cut at random at both proxies (1 in 10, 1 in 5),
 * every --action-dir and the script on the same seeds. After each run the four destinations are read
 * straight from the registries: published everywhere (all four serve one list), failed cleanly
 * (the run failed and none exists), or disagreeing (some serve, some do not, or they differ).
 */
async function sectionFlaky(/** @type {Fixture} */ fixture, /** @type {Options} */ opts, /** @type {Log} */ log) {
  const dirs = [opts.actionDir, ...opts.others]
  const label = (/** @type {number} */ k) => (dirs.length > 1 ? `action[${k}]` : 'action')
  const who = [...dirs.map((_, k) => label(k)), 'script']
  log(
    `\n== Flaky: ${opts.arches} arches -> 2 registries x 2 tags, ${opts.latency} ms per request, new connections cut at random at both proxies, ${opts.flakyRuns} runs per rate`
  )
  results.flaky = []
  for (const rate of [0.1, 0.2]) {
    const outcomes = who.map(() => /** @type {FlakyRun[]} */ ([]))
    for (let i = 0; i < opts.flakyRuns; i++) {
      const seed = opts.seed + i
      const one = async (/** @type {number} */ k) => {
        const repo = `bench/flaky-${Math.round(rate * 100)}-${i}-${k}-${salt()}`
        const arches = await pushArches(fixture, repo, '1', opts.arches)
        const spec = { repo, tag: '1', arches, regs: 2, tags: 2 }
        fixture.reset()
        fixture.proxies.forEach((p, n) => p.cutRandomly(rate, { seed: seed + 1000 * n }))
        const t0 = performance.now()
        let ok = false
        let why = ''
        let children = NaN
        try {
          if (k < dirs.length) {
            const a = await runTheAction(fixture, opts, { ...spec, actionDir: dirs[k], mayFail: true })
            ok = a.code === 0 && a.result === 'published'
            children = a.children
            if (!ok) why = (String(a.all).match(/^::error::.*$/m)?.[0] ?? `exit ${a.code}`).slice(9, 240)
            if (a.localLists.length) why += ` (left local lists: ${a.localLists.join(' ')})`
          } else {
            await runTheScript(fixture, spec, { keepLog: true })
            ok = true
          }
        } catch (e) {
          // run()'s error: `<tool> <args> exited <code>: <stderr>`; say the step and stderr's last line.
          const text = String(e instanceof Error ? e.message : e)
          const m = /^(\S+ \S+ \S+)[\s\S]*? exited (\d+): ([\s\S]*)$/.exec(text)
          const last = (/** @type {string} */ t) => t.trim().split('\n').slice(-1)[0]
          why = (m ? `${m[1]} exited ${m[2]}: ${last(m[3])}` : last(text)).slice(0, 240)
        } finally {
          for (const p of fixture.proxies) p.stopCutting()
        }
        const wall = performance.now() - t0
        const snap = fixture.snapshot()
        const entries = snap.log.flat()
        const cut = entries.filter(e => e.status === 'cut').length
        const conns = new Set(snap.log.flatMap((l, n) => l.map(e => `${n} ${e.conn}`))).size
        const served = await Promise.all(fixture.registries.flatMap(r => ['1', 'a1'].map(tag => servedDigest(r.host, repo, tag))))
        const present = served.filter(d => d !== null)
        const outcome =
          present.length === served.length && new Set(served).size === 1 && ok
            ? 'everywhere'
            : present.length === 0 && !ok
              ? 'clean'
              : new Set(served).size > 1
                ? 'disagree'
                : 'other'
        outcomes[k].push({ seed, outcome, ok, ms: wall, cut, conns, children, why, served: served.map(d => d && d.slice(0, 19)) })
        log(
          `  1 in ${Math.round(1 / rate)}, seed ${seed} (proxy B ${seed + 1000}): ${who[k].padEnd(9)} ${outcome.padEnd(10)} ${ms(wall).padStart(8)}; ${cut} of ${conns} connections cut${Number.isFinite(children) ? `; ${children} children` : ''}${why ? `; ${why}` : ''}${outcome === 'disagree' || outcome === 'other' ? `; served ${served.join(' ')}` : ''}`
        )
      }
      for (let j = 0; j < who.length; j++) await one((i + j) % who.length)
    }
    const row = {
      rate,
      seeds: Array.from({ length: opts.flakyRuns }, (_, i) => opts.seed + i),
      contenders: who.map((w, k) => {
        const count = (/** @type {string} */ o) => outcomes[k].filter(x => x.outcome === o).length
        return {
          who: k < dirs.length ? dirs[k] : 'script',
          everywhere: count('everywhere'),
          clean: count('clean'),
          disagree: count('disagree'),
          other: count('other'),
          runs: outcomes[k]
        }
      })
    }
    results.flaky.push(row)
    row.contenders.forEach((c, k) =>
      log(
        `  1 in ${Math.round(1 / rate)}: ${who[k].padEnd(9)} published everywhere ${c.everywhere}/${opts.flakyRuns}, failed cleanly ${c.clean}, registries disagreeing ${c.disagree}, other ${c.other}; median ${ms(median(c.runs.map(r => r.ms)))}`
      )
    )
  }
}

async function sectionFirst(
  /** @type {Fixture} */ fixture,
  /** @type {Options} */ opts,
  /** @type {Log} */ log,
  /** @type {ActionRun[]} */ earlier
) {
  log('\n== Start-up')
  let samples = earlier.map(r => r.firstRequestMs)
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
  log(
    `  spawn -> first registry request: median ${ms(results.first.firstRequestMs)} (n=${samples.length}, min ${ms(Math.min(...samples))}, max ${ms(Math.max(...samples))})`
  )
  log(`  for scale: bare \`node -e ''\` ${ms(results.first.nodeBareMs)}, \`buildah version --json\` ${ms(results.first.buildahVersionMs)}`)
  log(`  dist/index.js: ${(bundle / 1024).toFixed(0)} KiB`)
}

// ---------------------------------------------------------------------------------------------

function machine() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? os.cpus()[0]?.model ?? '?'
  const osName =
    (fs.existsSync('/etc/os-release') ? fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] : '') ||
    `${os.type()} ${os.release()}`
  const version = (/** @type {string} */ cmd, /** @type {string[]} */ args) => {
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

function targets() {
  /** @type {Array<[string, string | number, string]>} */
  const t = []
  const f = results.full
  const verdict = (/** @type {boolean} */ ok) => (ok ? 'met' : 'NOT met')
  if (f) {
    t.push([`full publish action/script <= ${TARGET.full}`, ratio(f.ratio), verdict(f.ratio <= TARGET.full)])
    t.push([`rerun <= ${TARGET.rerun} x script full publish`, ratio(f.rerunRatio), verdict(f.rerunRatio <= TARGET.rerun)])
    t.push([`children per full publish <= ${TARGET.children}`, f.children, verdict(f.children <= TARGET.children)])
    t.push([`children per rerun <= ${TARGET.rerunChildren}`, f.rerunChildren, verdict(f.rerunChildren <= TARGET.rerunChildren)])
    const rd = f.reads
    if (rd.reads) t.push(['requests per read (full, no auth)', ratio(rd.perRead), verdict(rd.perRead <= TARGET.perRead)])
  }
  if (results.tokens && results.tokens[0].publish.reads) {
    const k = results.tokens[0]
    const perRead =
      (k.publish.requests + k.rerun.requests - k.publish.pings - k.rerun.pings - k.publish.challenges - k.rerun.challenges) /
      (k.publish.reads + k.rerun.reads)
    t.push(['requests per read after the first token per repository', ratio(perRead), verdict(perRead <= TARGET.perRead)])
    const tokens = k.publish.tokens + k.rerun.tokens
    const scopes = k.publish.tokenScopes + k.rerun.tokenScopes
    t.push(['tokens per registry x repository scope (per run) = 1', ratio(tokens / scopes), verdict(tokens === scopes)])
  }
  if (results.first)
    t.push(['spawn -> first request <= 150 ms', ms(results.first.firstRequestMs), results.first.firstRequestMs <= 150 ? 'met' : 'NOT met'])
  if (results.scale)
    t.push(['8 destinations < 2 x 2 destinations', ratio(results.scale.dest8over2), results.scale.dest8over2 < 2 ? 'met' : 'NOT met'])
  const named = { set: 'release set (10 repos) action/script', wide: '16 arches action/script', zero: '0 ms action/script' }
  for (const key of /** @type {const} */ (['set', 'wide', 'zero'])) {
    const r = results[key]
    if (r) t.push([`${named[key]} <= ${TARGET[key]}`, ratio(r.ratio), r.ratio <= TARGET[key] ? 'met' : 'NOT met'])
  }
  for (const row of results.flaky ?? []) {
    const c = row.contenders[0]
    const n = c.runs.length
    const one = Math.round(1 / row.rate)
    if (row.rate <= 0.1) t.push([`1 in ${one} cut: every run publishes everywhere`, `${c.everywhere}/${n}`, verdict(c.everywhere === n)])
    else
      t.push([
        `1 in ${one} cut: >= 2 in 3 everywhere, none disagreeing`,
        `${c.everywhere}/${n}, ${c.disagree} dis.`,
        verdict(c.everywhere * 3 >= n * 2 && c.disagree === 0)
      ])
  }
  return t
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const log = (/** @type {string} */ s) => console.log(s)
  results.meta = { ...machine(), rounds: opts.rounds, latencyMs: opts.latency, actionDir: opts.actionDir, date: new Date().toISOString() }
  const m = results.meta
  log(`multiarch-publish benchmark: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB, ${m.os}; node ${m.node}; ${m.buildah}; ${m.skopeo}`)
  if (opts.actionDir !== ROOT) log(`action under test: ${opts.actionDir}`)
  if (opts.waitIdle > 0) {
    const deadline = Date.now() + opts.waitIdle * 1000
    while (os.loadavg()[0] > os.cpus().length / 2 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 5000))
  }
  const loadStart = os.loadavg()
  log(`load average at the start: ${loadStart.map(x => x.toFixed(2)).join(' ')} (${m.cores} cores)`)
  const dirs = [opts.actionDir, ...opts.others]
  results.meta.bundles = dirs.map(dir => ({ dir, bytes: fs.statSync(path.join(dir, 'dist', 'index.js')).size }))
  for (const b of results.meta.bundles) log(`dist/index.js of ${b.dir}: ${b.bytes} bytes (${(b.bytes / 1024).toFixed(0)} KiB)`)
  /** @type {Record<string, number[]>} */
  const loadAtSections = {}
  results.meta.loadAtSections = loadAtSections
  const section = (/** @type {string} */ name) => {
    const load = os.loadavg()
    loadAtSections[name] = load
    log(`\n[${name}] load average at the start: ${load.map(x => x.toFixed(2)).join(' ')}`)
  }
  const fixture = await startFixture(opts.latency)
  const stop = async () => {
    await fixture.stop()
    if (shims) fs.rmSync(shims, { recursive: true, force: true })
  }
  process.on('SIGINT', () => {
    void stop().finally(() => process.exit(130))
  })
  try {
    /** @type {ActionRun[]} */
    let earlier = []
    if (opts.only.includes('full')) {
      section('full')
      const { action, rerun } = await sectionFull(fixture, opts, log)
      earlier = [...action, ...rerun]
    }
    /** @type {Array<[string, () => Promise<unknown>]>} */
    const rest = [
      ['scale', () => sectionScale(fixture, opts, log)],
      ['first', () => sectionFirst(fixture, opts, log, earlier)],
      ['set', () => sectionSet(fixture, opts, log)],
      ['wide', () => sectionWide(fixture, opts, log)],
      ['zero', () => sectionZero(fixture, opts, log)],
      ['tokens', () => sectionTokens(opts, log)],
      ['flaky', () => sectionFlaky(fixture, opts, log)]
    ]
    for (const [name, go] of rest) {
      if (!opts.only.includes(name)) continue
      section(name)
      await go()
    }
  } finally {
    await stop()
  }
  const loadEnd = os.loadavg()
  results.meta.loadAverage = { start: loadStart, end: loadEnd }
  log(`\nload average at the end: ${loadEnd.map(x => x.toFixed(2)).join(' ')}`)
  // The bench itself loads the machine, so only the load before it started says whether others did.
  if (loadStart[0] > m.cores / 2)
    log(`note: the machine was busy when the bench started (load above ${m.cores / 2}); wall times are inflated and noisy`)
  log('\n== Targets (issues 4, 17)')
  for (const [what, value, verdict] of targets()) log(`  ${what.padEnd(56)} ${String(value).padStart(12)}  ${verdict}`)
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ ...results, targets: targets() }, null, 2) + '\n')
}

main().catch(e => {
  console.error(e instanceof Error ? e.stack || e.message : e)
  process.exit(1)
})
