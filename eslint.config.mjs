import js from '@eslint/js'
import jest from 'eslint-plugin-jest'
import prettier from 'eslint-plugin-prettier/recommended'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const LOG =
  'Print through src/log.ts (info, warning, error, debug, notice, group, setOutput, setFailed, setSecret, appendSummary): it makes untrusted text inert.'
const CORE_PRINTING = 'info|warning|error|debug|notice|setOutput|setFailed|startGroup|endGroup|group|summary|setSecret'
const PRINTING_AROUND_LOG = [
  `MemberExpression[object.name='core'][property.name=/^(${CORE_PRINTING})$/]`,
  `ImportDeclaration[source.value=/^@actions\\/core|runner$/] > ImportSpecifier[imported.name=/^(${CORE_PRINTING})$/]`,
  "MemberExpression[object.name='console']",
  "MemberExpression[object.object.name='process'][object.property.name=/^(stdout|stderr)$/][property.name='write']"
].map(selector => ({ selector, message: LOG }))

/** Modules with no effect on the world: what they import is checked below. */
const PURE_MODULES = [
  'src/{plan,model,compare,manifest,arch,sentences,text,reference,summary}.ts',
  'src/inputs/{values,references,destinations,overwrites,annotations}.ts'
]
/** As imported from src/ (./exec) and from a folder of it (../exec). */
const IMPURE_MODULES = [
  './exec',
  './children',
  './log',
  './skopeo',
  './buildah',
  './registry/*',
  './observe',
  './verify',
  './stage',
  './commit',
  './publish',
  './auth',
  './pool',
  './timing',
  './retry',
  './state',
  './runner',
  './layout',
  './report',
  './main',
  './post',
  // The disk checks of inputs (auth-file, cert-dir), and what imports them.
  './inputs/files',
  './inputs/registry-auth'
].flatMap(module => [module, `.${module}`])

export default tseslint.config(
  { ignores: ['dist/', 'lib/', 'node_modules/', 'coverage/', '**/*.d.ts', '.stryker-tmp/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' }
  },
  {
    files: ['**/*.js', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  },
  {
    // Type-aware rules where types exist: a promise nobody awaits loses its error (and its order).
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error'
    }
  },
  {
    files: ['test/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      // Every expectation must run: an expect inside an if may never be reached.
      'jest/no-conditional-expect': 'error',
      // Tests here name their expectations through helpers (expectExit, expectServedList, ...).
      'jest/expect-expect': 'off',
      'jest/no-done-callback': 'off'
    }
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['child_process', 'node:child_process'].map(name => ({
            name,
            message: 'Run programs through src/exec.ts: argv arrays, no shell.'
          }))
        }
      ]
    }
  },
  {
    // Untrusted text must not reach the log raw: src/log.ts makes it inert, so nothing prints around it.
    files: ['src/**/*.ts'],
    // runner.ts is how log.ts reaches the runner.
    ignores: ['src/log.ts', 'src/runner.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...PRINTING_AROUND_LOG]
    }
  },
  // One formatter, run by eslint (and so by npm test): .prettierrc.json says how.
  prettier,
  {
    // The pure modules decide and describe; they never run a program, read a registry or log, so the
    // planner's table tests load none of that. (Later than the src/ rule above, so this list replaces it here.)
    files: PURE_MODULES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                ...IMPURE_MODULES,
                // From inside src/inputs/.
                './files',
                './registry-auth',
                'fs',
                'node:fs',
                'child_process',
                'node:child_process',
                'http',
                'https',
                'node:http',
                'node:https',
                '@actions/*'
              ],
              message:
                'A pure module (planner, model, comparisons, manifest, arch, sentences, text, reference, summary renderer, the grammar of inputs) must not run a process, read a registry or log.'
            }
          ]
        }
      ]
    }
  }
)
