import { SENTENCES } from '../../src/sentences'

describe('sentences: one test each', () => {
  test.each<[keyof typeof SENTENCES, string, string]>([
    [
      'unknownPlatform',
      SENTENCES.unknownPlatform('q.example/f:40', 'linux/mips64le'),
      'Refusing to publish: q.example/f:40 serves an image for platform linux/mips64le, which maps to no known arch; name it with input "arch-map" (e.g. {myarch: linux/mips64le}) so it can be kept, dropped or rebuilt deliberately.'
    ],
    [
      'lostFail',
      SENTENCES.lostFail('s390x (at every destination)', 1),
      'Refusing to publish: s390x (at every destination) is in the current list but has no new image, and missing-arch-policy is fail. Rebuild it, or set missing-arch-policy to hybrid (keep the previous image) or drop (publish without it).'
    ],
    [
      'lostFail',
      SENTENCES.lostFail('a (at x); b (at y)', 2),
      'Refusing to publish: a (at x); b (at y) are in the current list but have no new image, and missing-arch-policy is fail. Rebuild them, or set missing-arch-policy to hybrid (keep the previous image) or drop (publish without them).'
    ],
    [
      'lostSkip',
      SENTENCES.lostSkip(['s390x']),
      'Skipped: s390x would be lost (in the current list, no new image) and missing-arch-policy is skip; nothing was pushed.'
    ],
    [
      'hybridDisagree',
      SENTENCES.hybridDisagree('s390x', 'a has sha256:1, b has sha256:2'),
      'Refusing to publish: the destinations disagree on the previous s390x image (a has sha256:1, b has sha256:2), so there is no single image to keep.'
    ],
    ['emptyList', SENTENCES.emptyList(['x86_64'], []), 'Refusing to publish an empty list: no per-arch image was found for x86_64.'],
    [
      'emptyList',
      SENTENCES.emptyList(['x86_64'], ['s390x']),
      'Refusing to publish an empty list: no per-arch image was found for x86_64 and s390x would be dropped.'
    ],
    [
      'unchanged',
      SENTENCES.unchanged(['x86_64', 'aarch64']),
      'Every destination already serves this list (x86_64, aarch64); nothing was pushed.'
    ],
    ['publishing', SENTENCES.publishing(['x86_64'], 1, { kept: [], dropped: [], neverListed: [] }), 'Publishing x86_64 to 1 destination.'],
    [
      'publishing',
      SENTENCES.publishing(['x86_64', 's390x'], 4, { kept: ['s390x'], dropped: ['ppc64le'], neverListed: ['i686'] }),
      'Publishing x86_64, s390x to 4 destinations, keeping the previous image for s390x; dropping ppc64le; without i686 (asked for, no image, not in any current list).'
    ]
  ])('%s', (_, sentence, expected) => {
    expect(sentence).toBe(expected)
  })

  test('every sentence has a case above', () => {
    expect(Object.keys(SENTENCES).sort()).toEqual([
      'emptyList',
      'hybridDisagree',
      'lostFail',
      'lostSkip',
      'publishing',
      'unchanged',
      'unknownPlatform'
    ])
  })
})
