/** Unit tests are fast and fake nothing but @actions/exec; integration tests need buildah, skopeo and docker-registry. */
const common = { preset: 'ts-jest', testEnvironment: 'node' }
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] }
  ],
  // `npm run coverage`. Integration tests count only where they run src/ in process (runInProcess),
  // not the dist/ bundle they spawn.
  collectCoverageFrom: ['<rootDir>/src/**/*.ts']
}
