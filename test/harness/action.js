'use strict'
/**
 * Run the bundled action (`node dist/index.js`) the way a GitHub/Forgejo runner does, in isolation.
 *
 * - Every input declared in action.yml gets its default, `inputs` override them; each is passed as
 *   `INPUT_<NAME>` (upper-cased, spaces → `_`, hyphens kept), like the runner.
 * - Fresh GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE, GITHUB_ENV, GITHUB_PATH files, RUNNER_TEMP
 *   and HOME dirs (so no login on this machine leaks into a run unless the caller passes one via env).
 * - A private containers storage: CONTAINERS_STORAGE_CONF → a storage.conf with driver "vfs" and
 *   graphroot/runroot in a temp dir. Pass `storageDir` to share one storage between runs (this is how
 *   concurrent runs on one self-hosted machine are simulated); the caller then owns that dir.
 * - If action.yml declares `runs.pre` / `runs.post`, they run before / after main, post with
 *   STATE_<name> from GITHUB_STATE, as the runner does (post runs even when main failed, like
 *   `post-if: always()`).
 */
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const YAML = require('yaml')

const ROOT = path.resolve(__dirname, '..', '..')

/**
 * @typedef {object} RunOptions
 * @property {Record<string, string | undefined>} [env]  extra environment (undefined deletes a variable)
 * @property {string} [cwd]            working directory (default: the repository root); also GITHUB_WORKSPACE
 * @property {string} [storageDir]     shared storage dir (created if missing; not removed)
 * @property {string} [actionDir]      dir holding action.yml and dist/ (default: repository root)
 * @property {number} [timeoutMs]      kill the run (whole process group) after this long; default 100 s
 * @property {boolean} [keepTemp]      keep the temp dir (for debugging); its path is in the result
 * @property {boolean} [inheritHome]   keep this machine's HOME instead of an empty temp one
 * @property {AbortSignal} [killMain]   when aborted, SIGKILL the main step and its children (a crash or a
 *                                      cancelled job); the post step still runs, as on a runner
 */

/**
 * @typedef {object} StepResult
 * @property {'pre' | 'main' | 'post'} step
 * @property {number | null} code
 * @property {string} stdout
 * @property {string} stderr
 */

/**
 * @typedef {object} RunResult
 * @property {number | null} code      exit code of the main step (null if killed)
 * @property {string} stdout           main step stdout
 * @property {string} stderr           main step stderr
 * @property {Record<string, string>} outputs   parsed GITHUB_OUTPUT
 * @property {string} summary          GITHUB_STEP_SUMMARY contents
 * @property {string} state            GITHUB_STATE contents (raw)
 * @property {Record<string, string>} stateValues  parsed GITHUB_STATE
 * @property {string[]} localLists     manifest lists left in the run's storage
 * @property {string[]} localImages    every image name left in the run's storage
 * @property {StepResult[]} steps      pre/main/post results
 * @property {string} all              stdout + stderr of every step, for "never appears" checks
 * @property {Record<string, string>} env  the environment the action saw (without the inherited one)
 * @property {string} tempDir          removed unless keepTemp
 * @property {string} runnerTemp
 * @property {boolean} timedOut
 */

/**
 * Read action.yml.
 * @param {string} [actionDir]
 * @returns {any}
 */
function loadActionYml(actionDir = ROOT) {
  return YAML.parse(fs.readFileSync(path.join(actionDir, 'action.yml'), 'utf8'))
}

/**
 * The env name the runner uses for an input.
 * @param {string} name
 */
function inputEnvName(name) {
  return 'INPUT_' + name.replace(/ /g, '_').toUpperCase()
}

/**
 * Parse GITHUB_OUTPUT / GITHUB_STATE file contents (`name=value` and `name<<DELIM` heredocs).
 * @param {string} text
 * @returns {Record<string, string>}
 */
function parseCommandFile(text) {
  /** @type {Record<string, string>} */
  const out = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line === '') continue
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line)
    if (heredoc && (!line.includes('=') || line.indexOf('<<') < line.indexOf('='))) {
      const [, name, delim] = heredoc
      const value = []
      i++
      while (i < lines.length && lines[i] !== delim) value.push(lines[i++])
      if (i >= lines.length) throw new Error(`unterminated heredoc for ${name} in command file`)
      out[name] = value.join('\n')
      continue
    }
    const eq = line.indexOf('=')
    if (eq < 0) throw new Error(`malformed command file line: ${line}`)
    out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

/**
 * Write a storage.conf for a vfs store under `dir` (idempotent) and return its path.
 * @param {string} dir
 */
function makeStorage(dir) {
  fs.mkdirSync(path.join(dir, 'graph'), { recursive: true })
  fs.mkdirSync(path.join(dir, 'run'), { recursive: true })
  const conf = path.join(dir, 'storage.conf')
  if (!fs.existsSync(conf)) {
    fs.writeFileSync(
      conf,
      ['[storage]', 'driver = "vfs"', `graphroot = "${path.join(dir, 'graph')}"`, `runroot = "${path.join(dir, 'run')}"`, ''].join('\n')
    )
  }
  return conf
}

/**
 * Names of the images / manifest lists in a storage.
 * @param {string} storageConf
 * @returns {{images: string[], lists: string[]}}
 */
function listLocal(storageConf) {
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: storageConf }
  let r = spawnSync('buildah', ['images', '--json'], { env, encoding: 'utf8', timeout: 60000 })
  // `buildah images` looks each listed ID up again; a run sharing the storage may remove one in
  // between ("image not known"). That is a race of the listing, not a result: list again.
  for (let tries = 1; r.status !== 0 && /image not known/.test(r.stderr) && tries < 10; tries++) {
    r = spawnSync('buildah', ['images', '--json'], { env, encoding: 'utf8', timeout: 60000 })
  }
  if (r.status !== 0) throw new Error(`buildah images failed: ${r.stderr || r.error}`)
  const text = r.stdout.trim()
  /** @type {Array<{names?: string[] | null, id: string}>} */
  const imgs = text ? (JSON.parse(text) ?? []) : []
  const images = []
  const lists = []
  for (const img of imgs) {
    const names = img.names && img.names.length ? img.names : [img.id]
    for (const name of names) {
      images.push(name)
      const ex = spawnSync('buildah', ['manifest', 'exists', name], { env, encoding: 'utf8', timeout: 60000 })
      if (ex.status === 0) lists.push(name)
    }
  }
  return { images, lists }
}

/**
 * Run one `node <script>` step.
 * @param {'pre' | 'main' | 'post'} step
 * @param {string} script
 * @param {NodeJS.ProcessEnv} env
 * @param {string} cwd
 * @param {number} timeoutMs
 * @param {AbortSignal} [kill]
 * @returns {Promise<StepResult & {timedOut: boolean}>}
 */
function runStep(step, script, env, cwd, timeoutMs, kill) {
  return new Promise((resolve, reject) => {
    // Own process group, so a timeout can kill buildah/skopeo children too.
    const child = spawn(process.execPath, [script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', d => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', d => {
      stderr += d
    })
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
    const onExit = () => killGroup()
    process.on('exit', onExit)
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, timeoutMs)
    if (kill?.aborted) killGroup()
    kill?.addEventListener('abort', killGroup)
    child.on('error', e => {
      clearTimeout(timer)
      kill?.removeEventListener('abort', killGroup)
      process.off('exit', onExit)
      reject(e)
    })
    child.on('close', code => {
      clearTimeout(timer)
      kill?.removeEventListener('abort', killGroup)
      process.off('exit', onExit)
      // Leave nothing of the group behind even if the action forgot a child.
      killGroup()
      resolve({ step, code, stdout, stderr, timedOut })
    })
  })
}

/**
 * @typedef {object} PreparedRun
 * @property {any} meta                action.yml
 * @property {string} actionDir
 * @property {string} tempDir
 * @property {string} runnerTemp
 * @property {Record<'GITHUB_OUTPUT' | 'GITHUB_STEP_SUMMARY' | 'GITHUB_STATE' | 'GITHUB_ENV' | 'GITHUB_PATH', string>} files
 * @property {string} storageConf
 * @property {string} cwd
 * @property {Record<string, string>} actionEnv  what the runner sets (inputs, command files, dirs)
 * @property {NodeJS.ProcessEnv} env   the whole environment of the main step
 */

/**
 * Everything a run needs before its steps: temp dirs, fresh command files, the storage, the
 * environment. Shared with the in-process runner (test/integration/inprocess.ts), so both see the same.
 * @param {Record<string, string | number | boolean | undefined>} inputs
 * @param {RunOptions} [opts]
 * @returns {PreparedRun}
 */
function prepareRun(inputs, opts = {}) {
  const actionDir = opts.actionDir ?? ROOT
  const meta = loadActionYml(actionDir)
  const declared = meta.inputs ?? {}
  for (const name of Object.keys(inputs)) {
    if (!(name in declared)) throw new Error(`runAction: "${name}" is not an input of action.yml`)
  }
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-run-'))
  const runnerTemp = path.join(tempDir, 'runner-temp')
  const home = path.join(tempDir, 'home')
  fs.mkdirSync(runnerTemp)
  fs.mkdirSync(home)
  const files = {
    GITHUB_OUTPUT: path.join(tempDir, 'output'),
    GITHUB_STEP_SUMMARY: path.join(tempDir, 'summary.md'),
    GITHUB_STATE: path.join(tempDir, 'state'),
    GITHUB_ENV: path.join(tempDir, 'env'),
    GITHUB_PATH: path.join(tempDir, 'path')
  }
  for (const f of Object.values(files)) fs.writeFileSync(f, '')
  const storageConf = makeStorage(opts.storageDir ?? path.join(tempDir, 'storage'))
  const cwd = opts.cwd ?? ROOT

  /** @type {Record<string, string>} */
  const actionEnv = {
    ...files,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: cwd,
    GITHUB_ACTION: 'multiarch-publish',
    GITHUB_ACTION_PATH: actionDir,
    CONTAINERS_STORAGE_CONF: storageConf
  }
  if (!opts.inheritHome) actionEnv.HOME = home
  for (const [name, spec] of Object.entries(declared)) {
    const given = inputs[name]
    const value =
      given !== undefined ? String(given) : spec && spec.default !== undefined && spec.default !== null ? String(spec.default) : ''
    actionEnv[inputEnvName(name)] = value
  }

  /** @type {NodeJS.ProcessEnv} */
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    // Nothing of an outer runner or login may leak in.
    if (/^(INPUT_|STATE_|GITHUB_|RUNNER_)/.test(k)) continue
    if (
      [
        'REGISTRY_AUTH_FILE',
        'DOCKER_CONFIG',
        'XDG_RUNTIME_DIR',
        'CONTAINERS_STORAGE_CONF',
        'STORAGE_DRIVER',
        'BUILDAH_ISOLATION',
        'NODE_OPTIONS'
      ].includes(k)
    )
      continue
    if (k.startsWith('JEST_') || k === 'NODE_ENV') continue
    env[k] = v
  }
  Object.assign(env, actionEnv)
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return { meta, actionDir, tempDir, runnerTemp, files, storageConf, cwd, actionEnv, env }
}

/**
 * The post step's environment: the main step's plus STATE_<name> from GITHUB_STATE, as the runner does.
 * @param {PreparedRun} prep
 * @param {Record<string, string>} stateValues
 * @returns {NodeJS.ProcessEnv}
 */
function postEnv(prep, stateValues) {
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...prep.env }
  for (const [k, v] of Object.entries(stateValues)) env[`STATE_${k}`] = v
  return env
}

/**
 * What a run left (outputs, summary, local storage) as a RunResult; removes its temp dir unless keepTemp.
 * @param {PreparedRun} prep
 * @param {StepResult[]} steps   the main step among them
 * @param {string} state         GITHUB_STATE as the main step left it
 * @param {boolean} timedOut
 * @param {boolean} [keepTemp]
 * @returns {RunResult}
 */
function finishRun(prep, steps, state, timedOut, keepTemp) {
  const main = steps.find(s => s.step === 'main')
  if (!main) throw new Error('finishRun: no main step')
  const outputs = parseCommandFile(fs.readFileSync(prep.files.GITHUB_OUTPUT, 'utf8'))
  const summary = fs.readFileSync(prep.files.GITHUB_STEP_SUMMARY, 'utf8')
  const local = listLocal(prep.storageConf)
  const all = steps.map(s => s.stdout + '\n' + s.stderr).join('\n')
  if (!keepTemp) fs.rmSync(prep.tempDir, { recursive: true, force: true })
  return {
    code: main.code,
    stdout: main.stdout,
    stderr: main.stderr,
    outputs,
    summary,
    state,
    stateValues: parseCommandFile(state),
    localLists: local.lists,
    localImages: local.images,
    steps,
    all,
    env: prep.actionEnv,
    tempDir: prep.tempDir,
    runnerTemp: prep.runnerTemp,
    timedOut
  }
}

/**
 * Run the action with `inputs` (names exactly as in action.yml).
 * @param {Record<string, string | number | boolean | undefined>} inputs
 * @param {RunOptions} [opts]
 * @returns {Promise<RunResult>}
 */
async function runAction(inputs, opts = {}) {
  const prep = prepareRun(inputs, opts)
  const { actionDir, env, cwd } = prep
  const runs = prep.meta.runs ?? {}
  const timeoutMs = opts.timeoutMs ?? 100000
  /** @type {StepResult[]} */
  const steps = []
  let timedOut = false
  if (runs.pre) {
    const r = await runStep('pre', path.join(actionDir, runs.pre), env, cwd, timeoutMs)
    timedOut ||= r.timedOut
    steps.push(r)
  }
  const main = await runStep('main', path.join(actionDir, runs.main), env, cwd, timeoutMs, opts.killMain)
  timedOut ||= main.timedOut
  steps.push(main)
  const state = fs.readFileSync(prep.files.GITHUB_STATE, 'utf8')
  if (runs.post) {
    const r = await runStep('post', path.join(actionDir, runs.post), postEnv(prep, parseCommandFile(state)), cwd, timeoutMs)
    timedOut ||= r.timedOut
    steps.push(r)
  }
  return finishRun(prep, steps, state, timedOut, opts.keepTemp)
}

/**
 * Parse a JSON-array output, failing with the raw text if it is not one.
 * @param {string | undefined} text
 * @returns {string[]}
 */
function jsonArray(text) {
  const v = JSON.parse(text ?? 'null')
  if (!Array.isArray(v)) throw new Error(`not a JSON array: ${text}`)
  return v
}

/**
 * Make a shared storage dir for several runs (caller removes it with fs.rmSync).
 * @returns {string}
 */
function makeSharedStorage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-storage-'))
  makeStorage(dir)
  return dir
}

module.exports = {
  runAction,
  prepareRun,
  postEnv,
  finishRun,
  loadActionYml,
  inputEnvName,
  parseCommandFile,
  listLocal,
  makeStorage,
  makeSharedStorage,
  jsonArray,
  ROOT
}
