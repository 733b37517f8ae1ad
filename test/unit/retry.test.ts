import * as core from '../../src/runner'
import { CommandError } from '../../src/exec'
import { backoffMs, classify, ERROR_PHRASES, ErrorKind, errorText, explain, MAX_ATTEMPTS, withRetry } from '../../src/retry'

beforeEach(() => {
  jest.spyOn(core, 'warning').mockImplementation(() => undefined)
  jest.spyOn(core, 'info').mockImplementation(() => undefined)
})
afterEach(() => jest.restoreAllMocks())

/**
 * One realistic message per phrase (buildah / skopeo / registry wording). Each holds its phrase and
 * no other phrase of the table, so the test proves that this very entry is what classifies it.
 */
const MESSAGES: Record<string, string> = {
  unauthorized: 'Error: reading manifest 40 in quay.io/fedora/fedora: Unauthorized: access to the requested resource is not authorized',
  'authentication required': 'Error: checking whether a base image exists: Authentication Required',
  'invalid username/password': 'Error: authenticating creds for "quay.io": Invalid Username/Password',
  denied: 'Error: writing manifest: uploading manifest 40 to quay.io/fedora/fedora: DENIED: requested access to the resource is Denied',
  'x509:':
    'Error: pinging container registry registry.example.org: Get "https://registry.example.org/v2/": X509: cannot verify signature: insecure algorithm SHA1-RSA',
  certificate:
    'Error: pinging container registry registry.fedoraproject.org: Get "https://registry.fedoraproject.org/v2/": remote error: tls: bad Certificate',
  'server gave http response to https client':
    'Error: pinging container registry localhost:5000: Get "https://localhost:5000/v2/": http: server gave HTTP response to HTTPS client',
  'invalid reference format': 'Error: parsing reference "docker://Quay.io/X": Invalid Reference Format: repository name must be lowercase',
  'manifest unknown':
    'time="2024-05-01T10:00:00Z" level=fatal msg="Error parsing image name \\"docker://localhost:5000/f:40-x86_64\\": reading manifest 40-x86_64 in localhost:5000/f: MANIFEST_UNKNOWN: Manifest Unknown"',
  'name unknown':
    'Error: reading manifest 40 in 123.dkr.ecr.example.com/x: NAME_UNKNOWN: The repository with name x does not exist'.replace(
      'NAME_UNKNOWN',
      'Name Unknown'
    ),
  'repository name not known': 'Error: fetching tags for localhost:5000/nothing: Repository name not known to registry',
  '404 (not found)': 'Error: initializing source docker://example.org/x:40: invalid status code from registry 404 (Not Found)',
  'connection refused':
    'Error: pinging container registry localhost:5000: Get "http://localhost:5000/v2/": dial tcp 127.0.0.1:5000: connect: Connection Refused',
  'connection reset':
    'Error: writing blob: Patch "http://localhost:5000/v2/x/blobs/uploads/1": read tcp 127.0.0.1:41234->127.0.0.1:5000: read: CONNECTION RESET by peer',
  'broken pipe': 'Error: writing blob: write tcp 127.0.0.1:41234->127.0.0.1:5000: write: Broken Pipe',
  ': eof': 'Error: writing manifest: uploading manifest 40 to localhost:5000/x: Put "http://localhost:5000/v2/x/manifests/40": EOF',
  'unexpected eof': 'Error: reading blob sha256:0123456789abcdef: fetching blob: Unexpected EOF',
  'connection timed out':
    'Error: pinging container registry quay.io: Get "https://quay.io/v2/": dial tcp 10.0.0.1:443: connect: Connection Timed Out',
  'client.timeout exceeded':
    'Error: reading manifest 40 in quay.io/x: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
  'no route to host':
    'Error: pinging container registry quay.io: Get "https://quay.io/v2/": dial tcp 10.0.0.1:443: connect: No Route To Host',
  'server closed idle connection':
    'Error: reading manifest 40 in localhost:5000/x: Get "http://localhost:5000/v2/x/manifests/40": http: Server Closed Idle Connection',
  'transport connection broken':
    'Error: writing blob: Put "http://localhost:5000/v2/x/blobs/uploads/1": net/http: HTTP/1.x Transport Connection Broken: write tcp 127.0.0.1:1->127.0.0.1:5000: write: bad file descriptor',
  'use of closed network connection':
    'Error: reading blob sha256:0123: read tcp 127.0.0.1:1->127.0.0.1:5000: Use Of Closed Network Connection',
  'http2: client connection lost':
    'Error: reading manifest 40 in quay.io/x: Get "https://quay.io/v2/x/manifests/40": HTTP2: Client Connection Lost',
  'no progress for': 'Error: No Progress For 90 s: the registry stopped answering (killed)',
  'http2: server sent goaway':
    'Error: writing blob: Patch "https://quay.io/v2/x/blobs/uploads/1": http2: server sent GOAWAY and closed the connection',
  'i/o timeout': 'Error: pinging container registry quay.io: Get "https://quay.io/v2/": dial tcp 10.0.0.1:443: I/O Timeout',
  'tls handshake timeout': 'Error: pinging container registry quay.io: Get "https://quay.io/v2/": net/http: TLS Handshake Timeout',
  'timeout awaiting response headers': 'Error: reading manifest 40 in quay.io/x: net/http: Timeout Awaiting Response Headers',
  'context deadline exceeded':
    'Error: reading manifest 40 in quay.io/x: Get "https://quay.io/v2/x/manifests/40": Context Deadline Exceeded',
  'temporary failure in name resolution':
    'Error: pinging container registry quay.io: dial tcp: lookup quay.io on 127.0.0.53:53: Temporary failure in name resolution',
  toomanyrequests: 'Error: reading manifest 40 in docker.io/library/fedora: TOOMANYREQUESTS: You have reached your pull rate limit',
  'too many requests': 'Error: reading manifest 40 in ghcr.io/x: Too Many Requests (HAP429)',
  'status: 429': 'Error: writing manifest: uploading manifest 40 to localhost:5000/x: received unexpected HTTP Status: 429',
  'bad gateway': 'Error: reading manifest 40 in localhost:5000/x: StatusCode: 502, "<html><title>502 Bad Gateway</title></html>"',
  'service unavailable': 'Error: reading manifest 40 in localhost:5000/x: StatusCode: 503, "503 Service Unavailable"',
  'gateway timeout': 'Error: reading manifest 40 in localhost:5000/x: StatusCode: 504, "<h1>504 GATEWAY TIMEOUT</h1>"',
  'manifest blob unknown':
    'Error: writing manifest: uploading manifest sha256:0288fbd3 to 127.0.0.1:43681/conc/same: errors:\\ndigest invalid\\nMANIFEST_BLOB_UNKNOWN: Manifest Blob Unknown: blob unknown to registry',
  'internal server error':
    'Error: writing manifest: uploading manifest 40 to localhost:5000/x: received unexpected HTTP status: 500 Internal Server Error',
  'status: 502': 'Error: writing blob: received unexpected HTTP STATUS: 502 Proxy Error',
  'status: 503': 'Error: writing blob: received unexpected HTTP Status: 503 Backend fetch failed',
  'status: 504': 'Error: writing blob: received unexpected HTTP Status: 504 GATEWAY_TIMEOUT',
  'registry 502': 'Error: initializing source docker://localhost:5000/x:40: invalid status code from Registry 502 (Proxy Error)',
  'registry 503': 'Error: initializing source docker://localhost:5000/x:40: invalid status code from Registry 503 (Backend fetch failed)',
  'registry 504': 'Error: initializing source docker://localhost:5000/x:40: invalid status code from REGISTRY 504 (Timed out)',
  'registry 429': 'Error: initializing source docker://docker.io/library/x:40: invalid status code from Registry 429 (Rate Limited)'
}

const swapCase = (s: string): string => [...s].map(c => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('')

describe('classify, one test per ERROR_PHRASES entry', () => {
  test('every message above belongs to an entry', () => {
    expect(Object.keys(MESSAGES).sort()).toEqual(ERROR_PHRASES.map(p => p.phrase).sort())
  })

  test('phrases are lowercase (they are compared with a lowercased message)', () => {
    for (const { phrase } of ERROR_PHRASES) expect(phrase).toBe(phrase.toLowerCase())
  })

  test.each(ERROR_PHRASES.map(entry => [entry.phrase, entry.kind, entry] as const))('%j → %s', (phrase, kind, entry) => {
    const message = MESSAGES[phrase]
    expect(message).toBeDefined()
    // The phrase is there, in another case than the table's, and no other phrase is.
    expect(message.toLowerCase()).toContain(phrase)
    expect(/[a-z]/.test(phrase) && message.includes(phrase)).toBe(false)
    expect(ERROR_PHRASES.filter(p => message.toLowerCase().includes(p.phrase)).map(p => p.phrase)).toEqual([phrase])
    for (const variant of [message, message.toLowerCase(), message.toUpperCase(), swapCase(message)]) {
      expect(classify(variant)).toEqual({ kind, hint: entry.hint })
    }
    // Without the phrase the message means nothing known, which is permanent.
    const escaped = phrase.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    const without = message.replace(new RegExp(escaped, 'gi'), 'something odd')
    expect(without.toLowerCase()).not.toContain(phrase)
    expect(classify(without)).toEqual({ kind: 'permanent' })
  })
})

describe('classify, the rest', () => {
  test.each([
    '',
    'Error: something unexpected happened',
    'Error: creating build container: no space left on device',
    'Error: reading manifest sha256:4290429502503504aaaa in localhost:5000/x: checksum mismatch',
    'Error: pushing sha256:0429cafe502ba5e503 to localhost:5000/x: 429 in the digest is not a status'
  ])('unknown %j → permanent, no hint', message => {
    expect(classify(message)).toEqual({ kind: 'permanent' })
  })

  test('a digest holding 429/502/503/504 is not a transient failure', () => {
    const digest = 'sha256:429502503504429502503504429502503504429502503504429502503504abcd'
    expect(classify(`Error: reading manifest ${digest} in localhost:5000/x: something odd`).kind).toBe('permanent')
    expect(classify(`Error: reading manifest ${digest} in localhost:5000/x: manifest unknown`).kind).toBe('not-found')
  })

  test.each<[string, ErrorKind]>([
    ['Error: Get "https://quay.io/v2/token": EOF; unauthorized: authentication required', 'permanent'],
    ['Error: reading blob: connection reset by peer; retrying failed: denied: requested access to the resource is denied', 'permanent'],
    ['Error: 503 Service Unavailable from the token server: invalid username/password', 'permanent'],
    ['Error: x509: certificate has expired or is not yet valid (i/o timeout while fetching the CRL)', 'permanent'],
    ['Error: tls: bad certificate after TLS handshake timeout', 'permanent'],
    ['Error: toomanyrequests: rate limit; unauthorized', 'permanent']
  ])('permanent wins over transient: %j', (message, kind) => {
    expect(classify(message).kind).toBe(kind)
  })

  // Timeouts as Go words them (ETIMEDOUT, http.Client.Timeout): transient, as the issue asks.
  test.each([
    'Error: pinging container registry quay.io: Get "https://quay.io/v2/": dial tcp 10.0.0.1:443: connect: connection timed out',
    'Error: pinging container registry quay.io: Get "https://quay.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)'
  ])('the timeout %j is transient', message => {
    expect(classify(message).kind).toBe('transient')
  })

  test('not-found wins over transient', () => {
    expect(classify('Error: reading manifest 40 in x: manifest unknown (after 502 Bad Gateway)').kind).toBe('not-found')
  })
})

describe('errorText and explain', () => {
  const stderr =
    'Getting image source signatures\nCopying blob 123 done\nError: reading manifest 40 in quay.io/x: unauthorized: access to the requested resource is not authorized\n'

  test('errorText of a CommandError is its stderr; of an Error its message; else String()', () => {
    expect(errorText(new CommandError('skopeo inspect', 1, stderr))).toBe(stderr)
    expect(errorText(new CommandError('skopeo inspect', 1, ''))).toBe('skopeo inspect exited with 1: (no error output)')
    expect(errorText(new Error('plain'))).toBe('plain')
    expect(errorText('a string')).toBe('a string')
  })

  test('explain gives the error line and the hint of the phrase', () => {
    expect(explain(new CommandError('skopeo inspect', 1, stderr))).toBe(
      'reading manifest 40 in quay.io/x: unauthorized: access to the requested resource is not authorized (check the credentials (username/password, auth-file or a prior login))'
    )
  })

  test('explain without a hint is the line alone', () => {
    expect(explain(new CommandError('buildah manifest', 125, 'Error: dial tcp 127.0.0.1:5000: connect: connection refused'))).toBe(
      'dial tcp 127.0.0.1:5000: connect: connection refused'
    )
    expect(explain(new Error('plain failure'))).toBe('plain failure')
  })
})

describe('backoffMs', () => {
  test.each<[number, number, number, number]>([
    [0, 1000, 0.5, 1000],
    [1, 1000, 0.5, 2000],
    [2, 1000, 0.5, 4000],
    [3, 1000, 0.5, 8000],
    [0, 1000, 0, 500],
    [0, 1000, 0.999, 1499],
    [2, 1000, 0, 2000],
    [2, 1000, 0.999, 5996],
    [4, 1000, 0.5, 16000],
    [5, 1000, 0.5, 30000],
    [10, 1000, 0.5, 30000],
    [10, 1000, 0, 15000],
    [1, 250, 0.5, 500]
  ])('attempt %d, base %d, random %d → %d ms', (attempt, base, random, expected) => {
    expect(backoffMs(attempt, base, () => random)).toBe(expected)
  })
})

describe('withRetry', () => {
  const transient = (): CommandError =>
    new CommandError('buildah manifest', 125, 'Error: Put "http://localhost:5000/v2/x/manifests/40": EOF')
  const permanent = (): CommandError =>
    new CommandError('buildah manifest', 125, 'Error: denied: requested access to the resource is denied')
  const notFound = (): CommandError => new CommandError('skopeo inspect', 1, 'Error: reading manifest 40 in x: manifest unknown')

  /** An op that fails with the given errors in turn, then returns 'ok'. */
  function flaky(errors: Error[]): jest.Mock<Promise<string>, []> {
    let call = 0
    return jest.fn(async () => {
      const e = errors[call++]
      if (e) throw e
      return 'ok'
    })
  }

  function fakes(): { sleep: jest.Mock<Promise<void>, [number]>; random: () => number } {
    return { sleep: jest.fn<Promise<void>, [number]>(async () => undefined), random: () => 0.5 }
  }

  test('returns at once when the op succeeds', async () => {
    const { sleep, random } = fakes()
    const op = flaky([])
    await expect(withRetry('read x', op, { retries: 3, sleep, random })).resolves.toBe('ok')
    expect(op).toHaveBeenCalledTimes(1)
    expect(sleep).not.toHaveBeenCalled()
  })

  test('retries transient failures, backing off 1s, 2s, 4s', async () => {
    const { sleep, random } = fakes()
    const op = flaky([transient(), transient(), transient()])
    await expect(withRetry('push x', op, { retries: 3, sleep, random })).resolves.toBe('ok')
    expect(op).toHaveBeenCalledTimes(4)
    expect(sleep.mock.calls.map(c => c[0])).toEqual([1000, 2000, 4000])
    // Each attempt at info level; one warning for the operation, with the count.
    expect(core.info).toHaveBeenCalledTimes(3)
    expect(core.info).toHaveBeenNthCalledWith(
      1,
      expect.stringMatching(/^push x: transient failure \(Put ".*": EOF\); attempt 2 in 1000 ms$/)
    )
    expect(core.info).toHaveBeenNthCalledWith(3, expect.stringMatching(/attempt 4 in 4000 ms$/))
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(core.warning).toHaveBeenCalledWith(expect.stringMatching(/^push x: succeeded after 4 attempts \(Put ".*": EOF\)$/))
  })

  test('attempts that make progress do not count against `retries`', async () => {
    const { sleep, random } = fakes()
    const op = flaky([transient(), transient(), transient(), transient()])
    const progress = [true, true, true, false]
    const madeProgress = jest.fn(() => progress.shift() ?? false)
    await expect(withRetry('copy x', op, { retries: 1, sleep, random, madeProgress })).resolves.toBe('ok')
    expect(op).toHaveBeenCalledTimes(5)
    // Progress retries at once after the base delay; the backoff grows only with attempts without progress.
    expect(sleep.mock.calls.map(c => c[0])).toEqual([1000, 1000, 1000, 1000])
  })

  test('`retries` counts attempts in a row without progress: progress starts the count again', async () => {
    const { sleep, random } = fakes()
    const op = flaky([transient(), transient(), transient()])
    const progress = [false, true, false]
    await expect(withRetry('copy x', op, { retries: 1, sleep, random, madeProgress: () => progress.shift() ?? false })).resolves.toBe('ok')
    expect(op).toHaveBeenCalledTimes(4)
  })

  test('without progress, `retries` bounds the attempts', async () => {
    const { sleep, random } = fakes()
    const errors = [transient(), transient(), transient()]
    const op = flaky(errors)
    await expect(withRetry('copy x', op, { retries: 1, sleep, random, madeProgress: () => false })).rejects.toBe(errors[1])
    expect(op).toHaveBeenCalledTimes(2)
  })

  test(`progress forever still ends after ${MAX_ATTEMPTS} attempts`, async () => {
    const { sleep, random } = fakes()
    const op = jest.fn(async () => {
      throw transient()
    })
    await expect(withRetry('copy x', op, { retries: 1, sleep, random, madeProgress: () => true })).rejects.toBeInstanceOf(CommandError)
    expect(op).toHaveBeenCalledTimes(MAX_ATTEMPTS)
  })

  test('gives up after `retries` retries and throws the last error', async () => {
    const { sleep, random } = fakes()
    const errors = [transient(), transient(), transient()]
    const op = flaky(errors)
    await expect(withRetry('push x', op, { retries: 2, sleep, random })).rejects.toBe(errors[2])
    expect(op).toHaveBeenCalledTimes(3)
    expect(sleep.mock.calls.map(c => c[0])).toEqual([1000, 2000])
  })

  test('retries 0 means one attempt', async () => {
    const { sleep, random } = fakes()
    const op = flaky([transient()])
    await expect(withRetry('push x', op, { retries: 0, sleep, random })).rejects.toBeInstanceOf(CommandError)
    expect(op).toHaveBeenCalledTimes(1)
    expect(sleep).not.toHaveBeenCalled()
  })

  test.each<[string, () => Error]>([
    ['permanent', permanent],
    ['not-found', notFound],
    ['unknown', () => new Error('something odd')]
  ])('does not retry a %s error', async (_, make) => {
    const { sleep, random } = fakes()
    const error = make()
    const op = flaky([error])
    await expect(withRetry('push x', op, { retries: 5, sleep, random })).rejects.toBe(error)
    expect(op).toHaveBeenCalledTimes(1)
    expect(sleep).not.toHaveBeenCalled()
  })

  test('a permanent error after transient ones stops the retries', async () => {
    const { sleep, random } = fakes()
    const error = permanent()
    const op = flaky([transient(), error, transient()])
    await expect(withRetry('push x', op, { retries: 5, sleep, random })).rejects.toBe(error)
    expect(op).toHaveBeenCalledTimes(2)
    expect(sleep).toHaveBeenCalledTimes(1)
  })

  test('uses baseDelayMs and the jitter of random()', async () => {
    const sleep = jest.fn<Promise<void>, [number]>(async () => undefined)
    const randoms = [0, 0.999]
    const op = flaky([transient(), transient()])
    await withRetry('push x', op, { retries: 3, baseDelayMs: 100, sleep, random: () => randoms.shift() as number })
    expect(sleep.mock.calls.map(c => c[0])).toEqual([50, 300])
  })

  test('the default sleep really waits', async () => {
    const op = flaky([transient()])
    const started = Date.now()
    await expect(withRetry('push x', op, { retries: 1, baseDelayMs: 20, random: () => 0.5 })).resolves.toBe('ok')
    expect(Date.now() - started).toBeGreaterThanOrEqual(15)
  })
})
