export type RunOptions = {
    /**
     * extra environment (undefined deletes a variable)
     */
    env?: Record<string, string | undefined> | undefined;
    /**
     * working directory (default: the repository root); also GITHUB_WORKSPACE
     */
    cwd?: string | undefined;
    /**
     * shared storage dir (created if missing; not removed)
     */
    storageDir?: string | undefined;
    /**
     * dir holding action.yml and dist/ (default: repository root)
     */
    actionDir?: string | undefined;
    /**
     * kill the run (whole process group) after this long; default 100 s
     */
    timeoutMs?: number | undefined;
    /**
     * keep the temp dir (for debugging); its path is in the result
     */
    keepTemp?: boolean | undefined;
    /**
     * keep this machine's HOME instead of an empty temp one
     */
    inheritHome?: boolean | undefined;
    /**
     * when aborted, SIGKILL the main step and its children (a crash or a
     *    cancelled job); the post step still runs, as on a runner
     */
    killMain?: AbortSignal | undefined;
};
export type StepResult = {
    step: "pre" | "main" | "post";
    code: number | null;
    stdout: string;
    stderr: string;
};
export type RunResult = {
    /**
     * exit code of the main step (null if killed)
     */
    code: number | null;
    /**
     * main step stdout
     */
    stdout: string;
    /**
     * main step stderr
     */
    stderr: string;
    /**
     * parsed GITHUB_OUTPUT
     */
    outputs: Record<string, string>;
    /**
     * GITHUB_STEP_SUMMARY contents
     */
    summary: string;
    /**
     * GITHUB_STATE contents (raw)
     */
    state: string;
    /**
     * parsed GITHUB_STATE
     */
    stateValues: Record<string, string>;
    /**
     * manifest lists left in the run's storage
     */
    localLists: string[];
    /**
     * every image name left in the run's storage
     */
    localImages: string[];
    /**
     * pre/main/post results
     */
    steps: StepResult[];
    /**
     * stdout + stderr of every step, for "never appears" checks
     */
    all: string;
    /**
     * the environment the action saw (without the inherited one)
     */
    env: Record<string, string>;
    /**
     * removed unless keepTemp
     */
    tempDir: string;
    runnerTemp: string;
    timedOut: boolean;
};
export type PreparedRun = {
    /**
     * action.yml
     */
    meta: any;
    actionDir: string;
    tempDir: string;
    runnerTemp: string;
    files: Record<"GITHUB_OUTPUT" | "GITHUB_STEP_SUMMARY" | "GITHUB_STATE" | "GITHUB_ENV" | "GITHUB_PATH", string>;
    storageConf: string;
    cwd: string;
    /**
     * what the runner sets (inputs, command files, dirs)
     */
    actionEnv: Record<string, string>;
    /**
     * the whole environment of the main step
     */
    env: NodeJS.ProcessEnv;
};
/**
 * Run the action with `inputs` (names exactly as in action.yml).
 * @param {Record<string, string | number | boolean | undefined>} inputs
 * @param {RunOptions} [opts]
 * @returns {Promise<RunResult>}
 */
export function runAction(inputs: Record<string, string | number | boolean | undefined>, opts?: RunOptions): Promise<RunResult>;
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
export function prepareRun(inputs: Record<string, string | number | boolean | undefined>, opts?: RunOptions): PreparedRun;
/**
 * The post step's environment: the main step's plus STATE_<name> from GITHUB_STATE, as the runner does.
 * @param {PreparedRun} prep
 * @param {Record<string, string>} stateValues
 * @returns {NodeJS.ProcessEnv}
 */
export function postEnv(prep: PreparedRun, stateValues: Record<string, string>): NodeJS.ProcessEnv;
/**
 * What a run left (outputs, summary, local storage) as a RunResult; removes its temp dir unless keepTemp.
 * @param {PreparedRun} prep
 * @param {StepResult[]} steps   the main step among them
 * @param {string} state         GITHUB_STATE as the main step left it
 * @param {boolean} timedOut
 * @param {boolean} [keepTemp]
 * @returns {RunResult}
 */
export function finishRun(prep: PreparedRun, steps: StepResult[], state: string, timedOut: boolean, keepTemp?: boolean): RunResult;
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
export function loadActionYml(actionDir?: string): any;
/**
 * The env name the runner uses for an input.
 * @param {string} name
 */
export function inputEnvName(name: string): string;
/**
 * Parse GITHUB_OUTPUT / GITHUB_STATE file contents (`name=value` and `name<<DELIM` heredocs).
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseCommandFile(text: string): Record<string, string>;
/**
 * Names of the images / manifest lists in a storage.
 * @param {string} storageConf
 * @returns {{images: string[], lists: string[]}}
 */
export function listLocal(storageConf: string): {
    images: string[];
    lists: string[];
};
/**
 * Write a storage.conf for a vfs store under `dir` (idempotent) and return its path.
 * @param {string} dir
 */
export function makeStorage(dir: string): string;
/**
 * Make a shared storage dir for several runs (caller removes it with fs.rmSync).
 * @returns {string}
 */
export function makeSharedStorage(): string;
/**
 * Parse a JSON-array output, failing with the raw text if it is not one.
 * @param {string | undefined} text
 * @returns {string[]}
 */
export function jsonArray(text: string | undefined): string[];
export const ROOT: string;
