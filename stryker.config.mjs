// Mutation run (README, "Mutation run"): Stryker generates the mutants of the files below and runs
// each against every test that covers it (coverageAnalysis perTest). On demand only (`npm run
// mutate`), never in CI.
//
//   MUTATE_TESTS=unit (default) | unit,integration   which jest projects kill mutants
//   MUTATE_CONCURRENCY=1 (default)                   test runner processes; on a free machine, the cores
//   MUTATE_STATIC=1                                  also the static mutants (module-level values; slow)
//   MUTATE_TEST_FILES=test/unit/**/*.test.ts,...      only these test files (globs) kill, instead of the projects' files
//   npm run mutate -- --mutate src/plan.ts           some files only (Stryker's own options go after --)
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { projects } = require('./jest.config.js')

const wanted = (process.env.MUTATE_TESTS ?? 'unit').split(',').map(name => name.trim())
const chosen = projects.filter(p => wanted.includes(p.displayName))
if (chosen.length !== wanted.length || wanted.includes('dist'))
  throw new Error(`MUTATE_TESTS=${process.env.MUTATE_TESTS}: name jest projects among unit, integration`)

// A file that imports half of src/ (main, publish) makes every mutant there rerun a whole publish: for a
// low-level module, naming its own test files keeps a run to minutes per hundred mutants.
const testFiles = (process.env.MUTATE_TEST_FILES ?? '')
  .split(',')
  .map(name => name.trim())
  .filter(name => name !== '')
const testMatch = testFiles.length === 0 ? chosen.flatMap(p => p.testMatch) : testFiles.map(name => `<rootDir>/${name}`)

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'src/commit.ts',
    'src/stage.ts',
    'src/verify.ts',
    'src/compare.ts',
    'src/plan.ts',
    'src/observe.ts',
    'src/inputs/*.ts',
    'src/manifest.ts',
    'src/text.ts',
    'src/summary.ts',
    'src/env.ts',
    'src/layout.ts',
    'src/reference.ts',
    'src/registry/*.ts',
    // The safety checks the hand-written mutants used to guard: the empty-list trap and the create
    // retry (buildah), the watchdog's tree kill (exec, children), the cancel (main), the re-plan bound (publish).
    'src/buildah.ts',
    'src/exec.ts',
    'src/children.ts',
    'src/main.ts',
    'src/publish.ts'
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // One flat jest config of the chosen projects: Stryker's per-test coverage needs its own test
    // environment at the top level, which jest's `projects` would hide.
    config: {
      preset: chosen[0].preset,
      testEnvironment: chosen[0].testEnvironment,
      testMatch,
      projects: undefined,
      maxWorkers: undefined
    },
    enableFindRelatedTests: true
  },
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
  // A static mutant (in a value computed once, at module load: a constant table, a regex) cannot be
  // switched per test, so it runs every test of every related file: minutes each on 2 cores. Left out
  // unless MUTATE_STATIC=1 (reported as Ignored, not in the score).
  ignoreStatic: process.env.MUTATE_STATIC !== '1',
  // A rerun after a small change tests only the mutants whose code or covering tests changed.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false },
  tempDirName: '.stryker-tmp',
  // Integration tests wait on registries and retries: a mutant that makes one hang is a timeout (killed).
  timeoutMS: 10000,
  thresholds: { high: 95, low: 90, break: null }
}
