/**
 * Tests for mutants the mutation run (npm run mutate, Stryker) found alive in src/reference.ts:
 * Docker Hub's implicit `library/` only for docker.io itself, and a repository without a tag or
 * host kept whole.
 */
import { referenceKey, repositoryOf, sameReference } from '../../src/reference'

test('library/ is implied only on Docker Hub, not on a host or path that merely ends in docker.io', () => {
  expect(['mirror.example/docker.io/alpine', 'xdocker.io/alpine:1', 'docker.io/alpine:1'].map(referenceKey)).toEqual([
    'mirror.example/docker.io/alpine',
    'xdocker.io/alpine:1',
    'docker.io/library/alpine:1'
  ])
  expect(sameReference('mirror.example/docker.io/alpine', 'mirror.example/library/docker.io/alpine')).toBe(false)
})

test('repositoryOf a bare name (no host, tag or digest) is the name', () => {
  expect(['alpine', 'r.example/app', 'r.example:5000/app'].map(repositoryOf)).toEqual(['alpine', 'r.example/app', 'r.example:5000/app'])
})
