/**
 * What a GitHub runner would take for workflow commands in a step's stdout, modelled on
 * actions/runner's ActionCommand: `::name props::data` once leading blanks are trimmed, and the
 * legacy `##[name props]data` anywhere in a line. Any command name counts (the runner only acts on
 * the ones it knows, which is less), so a test using this is stricter than a runner.
 */

export interface WorkflowCommand {
  /** 1-based line number in the text. */
  line: number
  form: '::' | '##['
  name: string
  properties: Record<string, string>
  /** The data, unescaped as the runner does (`%0A` → newline). */
  data: string
  raw: string
}

const unescape = (s: string, property: boolean): string => {
  let out = s.replace(/%0D/g, '\r').replace(/%0A/g, '\n')
  if (property) out = out.replace(/%3A/g, ':').replace(/%2C/g, ',')
  return out.replace(/%25/g, '%')
}

// .NET's TrimStart: Unicode white space (JS \s covers it, and a little more) and NEL.
const LEADING_BLANKS = /^[\s\u0085]*/

export function parseCommands(text: string): WorkflowCommand[] {
  const found: WorkflowCommand[] = []
  text.split(/\r\n|\n|\r/).forEach((raw, i) => {
    const line = raw.replace(LEADING_BLANKS, '')
    if (line.startsWith('::')) {
      const end = line.indexOf('::', 2)
      if (end > 2) {
        const info = line.slice(2, end)
        const space = info.indexOf(' ')
        const name = space < 0 ? info : info.slice(0, space)
        const properties: Record<string, string> = {}
        if (space > 0) {
          for (const pair of info.slice(space + 1).split(',')) {
            const eq = pair.indexOf('=')
            if (eq > 0) properties[pair.slice(0, eq).trim()] = unescape(pair.slice(eq + 1), true)
          }
        }
        found.push({ line: i + 1, form: '::', name, properties, data: unescape(line.slice(end + 2), false), raw })
      }
    }
    const v1 = raw.indexOf('##[')
    if (v1 >= 0) {
      const close = raw.indexOf(']', v1)
      if (close > 0) {
        const info = raw.slice(v1 + 3, close)
        found.push({ line: i + 1, form: '##[', name: info.split(' ')[0], properties: {}, data: raw.slice(close + 1), raw })
      }
    }
  })
  return found
}

/** The commands the action itself issues: masks, annotations, debug lines and groups, without properties. */
const OWN = new Set(['add-mask', 'error', 'warning', 'notice', 'debug', 'group', 'endgroup'])

/**
 * Commands in `text` the action did not mean to issue: any other command, any property, the legacy
 * form, or (except in a mask, which may be a multi-line secret) data that spans lines once unescaped.
 */
export function foreignCommands(text: string): WorkflowCommand[] {
  return parseCommands(text).filter(
    c => c.form !== '::' || !OWN.has(c.name) || Object.keys(c.properties).length > 0 || (c.name !== 'add-mask' && /[\r\n]/.test(c.data))
  )
}
