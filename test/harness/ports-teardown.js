'use strict'
// jest's globalTeardown: the run's port claims go (ports-setup.js made them).
const fs = require('node:fs')
const { DIR_VAR } = require('./ports')

module.exports = async () => {
  const dir = process.env[DIR_VAR]
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
}
