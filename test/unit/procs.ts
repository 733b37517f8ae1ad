/** What the tests of the watchdog and of stopMarked check about a process, read from /proc themselves. */
import * as fs from 'fs'

/** Running, as opposed to gone or a zombie nobody has reaped yet (this container's pid 1 may not reap). */
export function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Waits until `pid` no longer runs, once a signal has been sent (the test's timeout bounds it). */
export async function gone(pid: number): Promise<void> {
  while (running(pid)) await new Promise(resolve => setTimeout(resolve, 20))
}
