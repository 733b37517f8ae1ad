/**
 * Run the action inside the test process instead of spawning `node dist/index.js`: same inputs,
 * options and RunResult as `runAction` (test/harness/action.js; both use its prepareRun/finishRun),
 * but it runs src/ directly, so coverage of src/ counts and a run needs no rebuilt bundle.
 *
 * For the duration of each step it sets process.env (see `realProcess`), the cwd and
 * process.exitCode, and captures process.stdout/stderr.write; all of it is put back afterwards,
 * also when the step throws. process.env is global, so only one in-process run can be going on at a
 * time: runs at once (concurrency tests), killMain, actionDir and timeoutMs need `runAction`.
 * While a step runs, whatever else in this process writes to process.stdout/stderr (jest's own
 * progress output, rarely) ends up in the step's output.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as vm from 'node:vm'
import { finishRun, parseCommandFile, postEnv, prepareRun, ROOT, RunOptions, RunResult, StepResult } from '../harness/action'
import { run } from '../../src/main'

let active = false

/**
 * Jest gives each test file a copy of `process.env`; child_process (so buildah and skopeo spawned
 * without an explicit env) reads the real one. The real process is what `process` is outside the
 * sandbox; outside jest both are the same object.
 */
function realProcess(): NodeJS.Process {
  return vm.runInThisContext('process') as NodeJS.Process
}

/** Make `target` hold exactly `next`. */
function replaceEnv(target: NodeJS.ProcessEnv, next: NodeJS.ProcessEnv): void {
  for (const k of Object.keys(target)) if (!(k in next) || next[k] === undefined) delete target[k]
  for (const [k, v] of Object.entries(next)) if (v !== undefined) target[k] = v
}

interface Capture {
  text: string
  restore: () => void
}

/** Collect what is written to `stream` instead of writing it, until restore(). */
function capture(stream: NodeJS.WriteStream): Capture {
  const own = Object.getOwnPropertyDescriptor(stream, 'write')
  const c: Capture = {
    text: '',
    restore: () => {
      // Usually `write` is the prototype's: leave no own property behind.
      if (own) Object.defineProperty(stream, 'write', own)
      else delete (stream as { write?: unknown }).write
    }
  }
  stream.write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean => {
    c.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    const done = typeof encoding === 'function' ? encoding : cb
    if (typeof done === 'function') process.nextTick(done as () => void)
    return true
  }) as typeof stream.write
  return c
}

/** One step (main or post) in this process, with `env` and `cwd`, like the runner's `node <script>`. */
async function runStep(step: 'main' | 'post', env: NodeJS.ProcessEnv, cwd: string, fn: () => Promise<void>): Promise<StepResult> {
  const envs = [...new Set([process.env, realProcess().env])]
  const savedEnvs = envs.map(e => ({ ...e }))
  const savedCwd = process.cwd()
  const savedExitCode = process.exitCode
  const out = capture(process.stdout)
  const err = capture(process.stderr)
  let code: number
  try {
    for (const e of envs) replaceEnv(e, env)
    process.chdir(cwd)
    process.exitCode = undefined
    try {
      await fn()
      code = Number(process.exitCode ?? 0)
    } catch (e) {
      // `void run()` in index.ts: a rejection is an unhandled one, which node prints and exits 1 on.
      err.text += `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`
      code = 1
    }
  } finally {
    out.restore()
    err.restore()
    process.exitCode = savedExitCode
    process.chdir(savedCwd)
    envs.forEach((e, i) => replaceEnv(e, savedEnvs[i]))
  }
  return { step, code, stdout: out.text, stderr: err.text }
}

/**
 * Like `runAction(inputs, opts)`, in this process: main is `run()` from src/main.ts, post is `post()`
 * from src/post.ts with STATE_<name> from GITHUB_STATE.
 */
export async function runInProcess(
  inputs: Record<string, string | number | boolean | undefined>,
  opts: RunOptions = {}
): Promise<RunResult> {
  for (const name of ['killMain', 'actionDir', 'timeoutMs'] as const) {
    if (opts[name] !== undefined) throw new Error(`runInProcess: ${name}: use runAction for this`)
  }
  if (active) throw new Error('runInProcess: another in-process run is going on (process.env is global): use runAction for runs at once')
  active = true
  let tempDir: string | undefined
  try {
    const prep = prepareRun(inputs, opts)
    tempDir = prep.tempDir
    const runs = prep.meta.runs ?? {}
    if (runs.pre) throw new Error('runInProcess: action.yml has a pre step, which runInProcess does not know: use runAction')
    const steps: StepResult[] = [await runStep('main', prep.env, prep.cwd, run)]
    const state = fs.readFileSync(prep.files.GITHUB_STATE, 'utf8')
    if (runs.post) {
      // TODO(lead): import { post } from '../../src/post' statically once post.ts is committed, and
      // drop this check. Until then a checkout without it runs no post step in process.
      const postFile = path.join(ROOT, 'src', 'post.ts')
      if (fs.existsSync(postFile)) {
        const { post } = (await import(postFile)) as { post: () => Promise<void> }
        steps.push(await runStep('post', postEnv(prep, parseCommandFile(state)), prep.cwd, post))
      }
    }
    const result = finishRun(prep, steps, state, false, opts.keepTemp)
    tempDir = undefined
    return result
  } finally {
    active = false
    if (tempDir && !opts.keepTemp) fs.rmSync(tempDir, { recursive: true, force: true })
  }
}
