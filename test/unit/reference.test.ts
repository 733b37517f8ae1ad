import { prefixKey, qualifyPrefix, qualifyReference, referenceKey, repositoryOf, sameReference, underPrefix } from '../../src/reference'

describe('referenceKey: one form for every spelling of a place', () => {
  test.each<[string, string]>([
    ['LOCALHOST:5000/app:1', 'localhost:5000/app:1'],
    ['Quay.IO/fedora/fedora:40', 'quay.io/fedora/fedora:40'],
    ['index.docker.io/user/app:1', 'docker.io/user/app:1'],
    ['registry-1.docker.io/user/app:1', 'docker.io/user/app:1'],
    ['docker.io/alpine:3', 'docker.io/library/alpine:3'],
    ['index.docker.io/alpine@sha256:aa', 'docker.io/library/alpine@sha256:aa'],
    ['docker.io/library/alpine:3', 'docker.io/library/alpine:3'],
    // Only the host has other spellings: paths and tags are case-sensitive.
    ['quay.io/fedora/fedora:Latest', 'quay.io/fedora/fedora:Latest'],
    // Official images are a Docker Hub rule only: not on a host or a path that merely ends in docker.io.
    ['quay.io/alpine:3', 'quay.io/alpine:3'],
    ['xdocker.io/alpine:1', 'xdocker.io/alpine:1'],
    ['mirror.example/docker.io/alpine', 'mirror.example/docker.io/alpine']
  ])('%s → %s', (ref, key) => {
    expect(referenceKey(ref)).toBe(key)
  })

  test('a namespace prefix gets no library/', () => {
    expect(prefixKey('Docker.io/myorg')).toBe('docker.io/myorg')
    expect(prefixKey('INDEX.docker.io')).toBe('docker.io')
  })

  test('sameReference and underPrefix compare keys', () => {
    expect(sameReference('LOCALHOST:5000/a:1', 'localhost:5000/a:1')).toBe(true)
    expect(sameReference('localhost:5000/a:1', 'localhost:5000/a:2')).toBe(false)
    expect(sameReference('mirror.example/docker.io/alpine', 'mirror.example/library/docker.io/alpine')).toBe(false)
    expect(underPrefix('Quay.io/fedora/fedora:40', 'quay.IO/fedora')).toBe(true)
    expect(underPrefix('quay.io/fedora-mirror/x:1', 'quay.io/fedora')).toBe(false)
    expect(underPrefix('index.docker.io/myorg/app:1', 'docker.io/myorg')).toBe(true)
  })

  test.each<[string, string]>([
    ['host:5000/ns/repo:tag', 'host:5000/ns/repo'],
    ['host:5000/repo@sha256:ab', 'host:5000/repo'],
    ['host:5000/repo', 'host:5000/repo'],
    // A bare name (no host, tag or digest) is kept whole.
    ['alpine', 'alpine'],
    ['r.example/app', 'r.example/app']
  ])('repositoryOf(%s) = %s', (ref, repository) => {
    expect(repositoryOf(ref)).toBe(repository)
  })
})

describe("Docker Hub short names, qualified as Docker's reference package does", () => {
  test.each<[string, string]>([
    ['user/app:1.2.3', 'docker.io/user/app:1.2.3'],
    ['app:1.2.3', 'docker.io/library/app:1.2.3'],
    ['app@sha256:aa', 'docker.io/library/app@sha256:aa'],
    ['user/app@sha256:aa', 'docker.io/user/app@sha256:aa'],
    ['org/team/app:1', 'docker.io/org/team/app:1'],
    ['localhost/app:1', 'localhost/app:1'],
    ['Localhost/app:1', 'Localhost/app:1'],
    ['localhost:5000/app:1', 'localhost:5000/app:1'],
    ['quay.io/app:1', 'quay.io/app:1'],
    ['[::1]:5000/app:1', '[::1]:5000/app:1'],
    ['docker.io/app:1', 'docker.io/app:1']
  ])('reference %s → %s', (ref, qualified) => {
    expect(qualifyReference(ref)).toBe(qualified)
  })

  test.each<[string, string]>([
    ['myorg', 'docker.io/myorg'],
    ['myorg/team', 'docker.io/myorg/team'],
    ['localhost', 'localhost'],
    ['localhost:5000/ns', 'localhost:5000/ns'],
    ['quay.io/fedora', 'quay.io/fedora'],
    ['docker.io', 'docker.io']
  ])('prefix %s → %s', (prefix, qualified) => {
    expect(qualifyPrefix(prefix)).toBe(qualified)
  })

  test('a short name and its full spellings are one reference', () => {
    expect(sameReference(qualifyReference('app:1'), 'index.docker.io/app:1')).toBe(true)
    expect(sameReference(qualifyReference('user/app:1'), 'registry-1.docker.io/user/app:1')).toBe(true)
    expect(underPrefix(qualifyReference('user/app:1'), qualifyPrefix('user'))).toBe(true)
  })
})
