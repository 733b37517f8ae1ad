/**
 * Tests for mutants the mutation run (npm run mutate, Stryker) found alive in src/text.ts: only
 * `##[` (combining marks between allowed) is defused, Markdown escapes only a leading list or heading
 * marker, a number of several digits too, and a code span pads a backtick at either end.
 */
import { inert, markdown, markdownCode } from '../../src/text'

test('inert: # and # with other text between is not the legacy ##[ command and stays', () => {
  expect([inert('#a#[x]'), inert('#1#['), inert('##[x]')]).toEqual(['#a#[x]', '#1#[', '##\\u005bx]'])
})

test('markdown: a -, + or = after other text is not a list marker and stays', () => {
  expect([markdown('a-b'), markdown('x+y=z'), markdown('  - item')]).toEqual(['a-b', 'x+y=z', '  \\- item'])
})

test('markdown: a numbered-list marker of several digits is escaped', () => {
  expect([markdown('12. item'), markdown('345) item'), markdown('1.5 GB')]).toEqual(['12\\. item', '345\\) item', '1\\.5 GB'])
})

test('markdownCode: a backtick at only the start, or only the end, is padded', () => {
  expect([markdownCode('`a'), markdownCode('a`'), markdownCode('a')]).toEqual(['`` `a ``', '`` a` ``', '`a`'])
})
