'use strict'
// jest's globalSetup: a directory for this run's port claims (ports.js); ports-teardown.js removes it.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { DIR_VAR } = require('./ports')

module.exports = async () => {
  process.env[DIR_VAR] = fs.mkdtempSync(path.join(os.tmpdir(), 'multiarch-publish-ports-'))
}
