'use strict'
// jest's globalSetup: this run's directory for port claims (ports.js); ports-teardown.js removes it.
const { DIR_VAR, startRun } = require('./ports')

module.exports = async () => {
  const run = await startRun()
  process.env[DIR_VAR] = run.dir
  // Read by globalTeardown, which runs in this process.
  const holder = /** @type {{multiarchPortsRun?: unknown}} */ (/** @type {unknown} */ (globalThis))
  holder.multiarchPortsRun = run
}
