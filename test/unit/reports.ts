import { parseReference } from '../../src/inputs/references'
import type { Plan } from '../../src/model'
import type { Report } from '../../src/summary'
import { amd64, arm64, entry, fakeDigest, s390x } from './builders'

/** The reports of a run as publish fills them in, for summary.test.ts (what they say) and report.test.ts (where it goes). */

export const D1 = fakeDigest('1')
export const D2 = fakeDigest('2')
export const D3 = fakeDigest('3')
export const LIST = fakeDigest('f')

const fedora = { repository: 'quay.io/fedora/fedora' }

/** Published with policy hybrid: two new images, ppc64le missing, s390x kept; one destination pushed, one up to date. */
export function publishedReport(): Report {
  const plan: Plan = {
    decision: 'publish',
    reason: 'Publishing x86_64, aarch64, s390x to 1 destination, keeping the previous image for s390x.',
    entries: [
      entry('x86_64', amd64, D1, fedora),
      entry('aarch64', arm64, D2, fedora),
      entry('s390x', s390x, D3, { ...fedora, kept: true })
    ],
    missing: ['ppc64le', 's390x'],
    lost: ['s390x'],
    kept: ['s390x'],
    dropped: [],
    push: ['quay.io/fedora/fedora:40'],
    upToDate: ['quay.io/fedora/fedora:latest'],
    attestations: [],
    rows: [
      { arch: 'x86_64', newDigest: D1, inCurrent: 2, outcome: 'new' },
      { arch: 'aarch64', newDigest: D2, inCurrent: 0, outcome: 'new' },
      { arch: 'ppc64le', inCurrent: 0, outcome: 'missing' },
      { arch: 's390x', inCurrent: 2, outcome: 'kept' }
    ]
  }
  return {
    result: 'published',
    name: 'fedora:40',
    digest: LIST,
    buildah: '1.35.0',
    format: 'oci',
    policy: 'hybrid',
    plan,
    rolledBack: [],
    destinations: [
      { ref: 'quay.io/fedora/fedora:40', status: 'published' },
      { ref: 'quay.io/fedora/fedora:latest', status: 'up to date' }
    ]
  }
}

/** A refusal: s390x would be lost and missing-arch-policy is fail; nothing pushed. */
export function refusedReport(): Report {
  const reason =
    'Refusing to publish: s390x (at every destination) is in the current list but has no new image, and missing-arch-policy is fail. Rebuild it, or set missing-arch-policy to hybrid (keep the previous image) or drop (publish without it).'
  return {
    result: 'failed',
    name: 'fedora:40',
    digest: '',
    buildah: '1.28.2',
    format: 'oci',
    policy: 'fail',
    error: reason,
    plan: {
      decision: 'refuse',
      reason,
      entries: [],
      missing: ['s390x'],
      lost: ['s390x'],
      kept: [],
      dropped: [],
      push: [],
      upToDate: [],
      attestations: [],
      rows: [
        { arch: 'x86_64', newDigest: D1, inCurrent: 2, outcome: 'new' },
        { arch: 's390x', inCurrent: 2, outcome: 'lost' }
      ]
    },
    rolledBack: [],
    destinations: [
      { ref: 'a.example/fedora:40', status: 'not pushed' },
      { ref: 'b.example/fedora:40', status: 'not pushed' }
    ]
  }
}

/** Published to 1 of 3 destinations; the errors hold pipes, newlines and HTML. */
export function failedReport(): Report {
  const r = publishedReport()
  r.result = 'failed'
  r.digest = LIST
  r.plan = { ...(r.plan as Plan), reason: 'Publishing x86_64, aarch64 to 3 destinations.', rows: (r.plan as Plan).rows.slice(0, 2) }
  r.destinations = [
    { ref: 'a.example/fedora:40', status: 'published' },
    {
      ref: 'b.example/fedora:40',
      status: 'failed',
      detail: 'writing manifest: StatusCode: 503, "a | b"\n  <html>down</html> (retried 3 times)'
    },
    {
      ref: 'c.example/fedora:40',
      status: 'failed',
      detail: 'after the push it lists platforms [linux/amd64], planned [linux/amd64, linux/arm64]'
    }
  ]
  r.error = 'Published to 1 of 3 destinations; failed: b.example/fedora:40 (x | y)'
  return r
}

/** The references as getInputs makes them from metadata-action's tags for `images: user/app` and `images: app`. */
export const userAppRefs = ['user/app:1.2.3', 'app:1.2.3'].map(
  r => parseReference('references', r, { tag: 'required', digest: 'never' }).text
)

/** publishedReport as the user wrote it: arches named by platform, destinations from short names (userAppRefs). */
export function platformReport(): Report {
  const r = publishedReport()
  const plan = r.plan as Plan
  const byName: Record<string, string> = { x86_64: 'linux/amd64', aarch64: 'linux/arm64', s390x: 'linux/s390x', ppc64le: 'linux/ppc64le' }
  return {
    ...r,
    // As publish names a report: the repository path of the references, and the tag.
    name: 'user/app:1.2.3',
    plan: {
      ...plan,
      entries: plan.entries.map(e => ({ ...e, arch: byName[e.arch] })),
      missing: plan.missing.map(a => byName[a]),
      lost: plan.lost.map(a => byName[a]),
      kept: plan.kept.map(a => byName[a]),
      rows: plan.rows.map(row => ({ ...row, arch: byName[row.arch] }))
    },
    destinations: userAppRefs.map(ref => ({ ref, status: 'published', previous: null }))
  }
}
