/**
 * unit: fast, fakes nothing but @actions/exec.
 * integration: real buildah, skopeo and docker-registry on loopback.
 * dist: the committed bundles in dist/: rebuilt (scripts/build) and compared byte for byte, and run on
 * Node.js 20, 22 and 24 (binaries from the npm registry, cached under node_modules/.cache).
 */
// The mutation run's sandbox (.stryker-tmp, a copy of the project) is not part of this one.
const common = { preset: 'ts-jest', testEnvironment: 'node', modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'] }
module.exports = {
  // Jest's default on 2 cores is one worker; the integration tests spend much of their time waiting
  // on registries and retry delays, so two keep both cores busy (about 5 min instead of 6).
  maxWorkers: 2,
  // Each port a test server listens on is handed out once per run (test/harness/ports.js).
  globalSetup: '<rootDir>/test/harness/ports-setup.js',
  globalTeardown: '<rootDir>/test/harness/ports-teardown.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'dist', testMatch: ['<rootDir>/test/dist/**/*.test.ts'] }
  ],
  // `npm run coverage`. Integration tests count only where they run src/ in process (runInProcess),
  // not the dist/ bundle they spawn.
  collectCoverageFrom: ['<rootDir>/src/**/*.ts']
}
