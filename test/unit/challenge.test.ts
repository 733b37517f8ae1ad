import { parseChallenges, pickChallenge, type Challenge } from '../../src/registry/challenge'

/** `scheme k=v,k=v` per challenge, for compact expectations. */
const show = (cs: Challenge[]): string[] => cs.map(c => [c.scheme, Object.entries(c.params).map(([k, v]) => `${k}=${v}`)].flat().join(' '))

describe('parseChallenges', () => {
  test.each<[string, string[], string[]]>([
    [
      'Docker Hub',
      ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'],
      ['bearer realm=https://auth.docker.io/token service=registry.docker.io']
    ],
    [
      'Docker Hub with error (a HEAD has no body: the reason is here)',
      [
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/x:pull",error="insufficient_scope"'
      ],
      ['bearer realm=https://auth.docker.io/token service=registry.docker.io scope=repository:library/x:pull error=insufficient_scope']
    ],
    [
      'GHCR',
      ['Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"'],
      ['bearer realm=https://ghcr.io/token service=ghcr.io scope=repository:user/image:pull']
    ],
    [
      'Forgejo/Gitea: Bearer and Basic on one line',
      ['Bearer realm="https://codeberg.org/v2/token",service="container_registry",scope="*", Basic realm="Forgejo Package API"'],
      ['bearer realm=https://codeberg.org/v2/token service=container_registry scope=*', 'basic realm=Forgejo Package API']
    ],
    [
      'several lines, each with several challenges, in header order',
      ['Negotiate, Basic realm="a"', 'Bearer realm="https://t/x", Basic realm="b"'],
      ['negotiate', 'basic realm=a', 'bearer realm=https://t/x', 'basic realm=b']
    ],
    [
      'quoted values with commas, escaped quotes and backslashes',
      ['Bearer realm="https://t/token?a=1,b=2",service="s \\"q\\" \\\\ x", Basic realm="r, still r"'],
      ['bearer realm=https://t/token?a=1,b=2 service=s "q" \\ x', 'basic realm=r, still r']
    ],
    [
      'scheme and parameter names in any case, tokens unquoted, spaces around =',
      ['BASIC Realm = plain , Charset="UTF-8"'],
      ['basic realm=plain charset=UTF-8']
    ],
    [
      'several spaces on either side of = (the grammar allows any amount)',
      ['Bearer realm  =  "https://t/x" ,service=\t"s"'],
      ['bearer realm=https://t/x service=s']
    ],
    ['an escaped quote just before the closing one stays in the value', ['Basic realm="say \\"hi\\""'], ['basic realm=say "hi"']],
    ['an unterminated quote ends the line; what came before stays', ['Basic realm="a", Bearer realm="open'], ['basic realm=a', 'bearer']],
    ['an empty line, and only separators', ['', ' , ,'], []]
  ])('%s', (_name, lines, expected) => {
    expect(show(parseChallenges(lines))).toEqual(expected)
  })

  test('a value that looks like a scheme stays a value: only a token followed by a space starts a challenge', () => {
    expect(show(parseChallenges(['Bearer realm="https://t/x",service=Basic, Basic realm=y']))).toEqual([
      'bearer realm=https://t/x service=Basic',
      'basic realm=y'
    ])
  })
})

test('a token68 (with its = padding) after a challenge is not read as a parameter, so the parameters before it stay', () => {
  // `Negotiate YII==`: the token before `==` is no parameter name; `realm="…"` is still Bearer's.
  expect(pickChallenge(parseChallenges(['Bearer realm="https://t/x", Negotiate YII==']))).toEqual({
    scheme: 'bearer',
    params: { realm: 'https://t/x' }
  })
})

describe('pickChallenge', () => {
  const pick = (lines: string[]): string | undefined => {
    const c = pickChallenge(parseChallenges(lines))
    return c && show([c])[0]
  }

  test.each<[string, string[], string | undefined]>([
    [
      'Forgejo: Bearer first, with its own realm (not the Basic one a naive parser keeps)',
      ['Bearer realm="https://codeberg.org/v2/token",service="container_registry",scope="*", Basic realm="Forgejo Package API"'],
      'bearer realm=https://codeberg.org/v2/token service=container_registry scope=*'
    ],
    ['Basic first on one line: Basic, as containers/image', ['Basic realm="b", Bearer realm="https://t/x"'], 'basic realm=b'],
    ['Basic first on its own line', ['Basic realm="b"', 'Bearer realm="https://t/x"'], 'basic realm=b'],
    [
      'schemes no registry client speaks are passed over',
      ['Negotiate', 'Digest realm="d", Bearer realm="https://t/x"'],
      'bearer realm=https://t/x'
    ],
    ['nothing usable', ['Negotiate, NTLM'], undefined],
    ['no challenge at all', [], undefined]
  ])('%s', (_name, lines, expected) => {
    expect(pick(lines)).toBe(expected)
  })
})
