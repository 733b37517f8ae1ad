'use strict'
// jest's globalTeardown: the run's port claims go (ports-setup.js made them).

module.exports = async () => {
  const holder = /** @type {{multiarchPortsRun?: {close: () => Promise<void>}}} */ (/** @type {unknown} */ (globalThis))
  const run = holder.multiarchPortsRun
  await run?.close()
}
