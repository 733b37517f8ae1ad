import * as fs from 'fs'

/**
 * The child processes of this run, found through /proc. @actions/exec does not hand out the
 * ChildProcess, and buildah may re-exec itself, so a hung command is found by a marker in its
 * environment and stopped together with everything it started. Linux only, like buildah.
 */

export interface Proc {
  pid: number
  ppid: number
}

function readProcs(): Proc[] {
  let names: string[]
  try {
    names = fs.readdirSync('/proc')
  } catch {
    return []
  }
  const procs: Proc[] = []
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue
    try {
      procs.push({ pid: Number(name), ppid: Number(statFields(fs.readFileSync(`/proc/${name}/stat`, 'utf8'))[1]) })
    } catch {
      // Gone since readdir.
    }
  }
  return procs
}

/**
 * The fields of a /proc/<pid>/stat after the command name: state, ppid, …. The name may hold spaces and
 * parentheses; the fields after its last ')' are fixed.
 */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** `root` and every process below it. */
function subtree(procs: Proc[], root: number): number[] {
  const out = [root]
  for (let i = 0; i < out.length; i++) for (const p of procs) if (p.ppid === out[i]) out.push(p.pid)
  return out
}

/** The direct child of this process whose environment holds `marker` (NAME=value). */
export function findChild(marker: string, procs: Proc[] = readProcs()): number | undefined {
  for (const p of procs) {
    if (p.ppid !== process.pid) continue
    try {
      if (fs.readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0').includes(marker)) return p.pid
    } catch {
      // Gone, or not ours to read.
    }
  }
  return undefined
}

/** Bytes read and written by `pid` and its descendants, sockets included: it moves while a transfer runs. */
export function ioOf(pid: number, procs: Proc[] = readProcs()): number {
  let total = 0
  for (const p of subtree(procs, pid)) {
    try {
      const io = fs.readFileSync(`/proc/${p}/io`, 'utf8')
      total += Number(/rchar: (\d+)/.exec(io)?.[1] ?? 0) + Number(/wchar: (\d+)/.exec(io)?.[1] ?? 0)
    } catch {
      // Gone.
    }
  }
  return total
}

/** Not gone, and not a zombie: one whose parent (a container's pid 1, say) does not reap it waits forever. */
function running(pid: number): boolean {
  try {
    return statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))[0] !== 'Z'
  } catch {
    return false
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // Already gone.
    }
  }
}

/**
 * Kills `pid` and everything below it, parents first: a parent that outlived its child by a moment
 * could start another one (a retry), which the list taken before would miss.
 */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  signalAll(subtree(readProcs(), pid), signal)
}

/** The direct children whose environment holds a marker starting with `prefix`, with their descendants. */
function markedTrees(prefix: string): number[] {
  const procs = readProcs()
  const roots = procs.filter(p => {
    if (p.ppid !== process.pid) return false
    try {
      return fs
        .readFileSync(`/proc/${p.pid}/environ`, 'utf8')
        .split('\0')
        .some(v => v.startsWith(prefix))
    } catch {
      return false
    }
  })
  return treesWithin(
    procs,
    roots.map(r => r.pid),
    process.pid
  )
}

/**
 * The trees of `roots`, each process once, kept to the descendants of `self`: whatever chose the
 * roots, a wrong choice cannot signal the runner's other processes, nor `self` (as root, a mutation
 * run of markedTrees stopped every process on the machine).
 */
export function treesWithin(procs: Proc[], roots: number[], self: number): number[] {
  const own = new Set(subtree(procs, self))
  own.delete(self)
  return [...new Set(roots.flatMap(r => subtree(procs, r)))].filter(pid => own.has(pid))
}

/**
 * Stops every process this run started (found by the marker prefix, so a test runner's own children
 * are left alone): SIGTERM, then SIGKILL for what is still there after `graceMs`.
 */
export async function stopMarked(prefix: string, graceMs = 1000): Promise<number> {
  const first = markedTrees(prefix)
  if (first.length === 0) return 0
  signalAll(first, 'SIGTERM')
  const alive = (): number[] => first.filter(running)
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && alive().length > 0) await new Promise(r => setTimeout(r, 50))
  signalAll(alive(), 'SIGKILL')
  return first.length
}

export function procsNow(): Proc[] {
  return readProcs()
}
