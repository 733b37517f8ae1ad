'use strict'
// jest's globalTeardown: the run's port claims go (ports-setup.js made them).

module.exports = async () => {
  const run = /** @type {{close: () => Promise<void>} | undefined} */ (globalThis.multiarchPortsRun)
  await run?.close()
}
