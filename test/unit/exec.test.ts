import { CommandError, errorLine } from '../../src/exec'

describe('errorLine: the line that says what went wrong', () => {
  test.each([
    [
      'buildah: the last Error: line, after progress noise',
      'Getting image source signatures\nCopying blob sha256:ab\nError: writing manifest: denied: access denied\n',
      'writing manifest: denied: access denied'
    ],
    [
      'skopeo < 1.10: logrus fatal, quotes unescaped, the misleading prefix gone',
      'time="2026-11-23T21:23:27Z" level=fatal msg="Error parsing image name \\"docker://127.0.0.1:5000/x:1\\": pinging container registry 127.0.0.1:5000: invalid status code from registry 503 (Service Unavailable)"\n',
      'pinging container registry 127.0.0.1:5000: invalid status code from registry 503 (Service Unavailable)'
    ],
    [
      'a 1.28 warning before the error is not the error',
      'level=warning msg="falling back"\nError: reading manifest 40 in x: manifest unknown\n',
      'reading manifest 40 in x: manifest unknown'
    ],
    ['no Error: line: the last line', 'something odd happened\nand then this\n', 'and then this'],
    ['nothing', '', ''],
    // A registry's text inside logrus quotes: its escapes stay escapes, never real line breaks.
    [
      'logrus escapes stay as they are',
      'level=fatal msg="reading manifest: denied: x\\n::set-output name=a::b"\n',
      'reading manifest: denied: x\\n::set-output name=a::b'
    ],
    // Issue 19 survivors: each case below fails with one mutant of errorLine.
    ['lines are trimmed before the Error: test', '  Error: boom  \n', 'boom'],
    ['an Error: line that is not the last still wins', 'Error: denied\nprogress after it\n', 'denied'],
    ['the last Error: line, not the first', 'Error: first\nError: second\n', 'second'],
    ['Error: only at the start of a line', 'warning: no error: here\nthe last line\n', 'the last line'],
    ['the Error: prefix is cut only at the start', 'failed: error: inner\n', 'failed: error: inner'],
    ['all spaces after Error: are cut', 'Error:   spaced\n', 'spaced'],
    ['the image-name prefix is cut only at the start', 'Error: x: error parsing image name "y": z\n', 'x: error parsing image name "y": z'],
    ['all spaces after the image-name prefix are cut', 'Error: Error parsing image name "a":   b\n', 'b']
  ])('%s', (_name, stderr, line) => {
    expect(errorLine(stderr)).toBe(line)
  })
})

describe('CommandError', () => {
  test('a command killed by a signal says so; no stderr says so too', () => {
    const e = new CommandError('skopeo copy', null, '')
    expect(e.message).toBe('skopeo copy exited with a signal: (no error output)')
    expect(e.name).toBe('CommandError')
  })
})
