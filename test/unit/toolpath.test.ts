import * as actionsExec from '@actions/exec'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { execute } from '../../src/exec'

jest.mock('@actions/exec')

const execMock = actionsExec.exec as jest.MockedFunction<typeof actionsExec.exec>

describe('execute: where the program comes from', () => {
  let dir: string
  let savedPath: string | undefined

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-toolpath-'))
    savedPath = process.env.PATH
    execMock.mockReset()
    execMock.mockResolvedValue(0)
  })

  afterEach(() => {
    process.env.PATH = savedPath
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const tools = (): string[] => execMock.mock.calls.map(c => c[0])

  test('the first executable of that name in PATH, by its full path', async () => {
    fs.mkdirSync(path.join(dir, 'a'))
    fs.mkdirSync(path.join(dir, 'b'))
    fs.mkdirSync(path.join(dir, 'a', 'faketool')) // a directory is not a program
    fs.writeFileSync(path.join(dir, 'b', 'faketool'), '', { mode: 0o644 }) // nor is a file without x
    fs.mkdirSync(path.join(dir, 'c'))
    fs.writeFileSync(path.join(dir, 'c', 'faketool'), '#!/bin/sh\n', { mode: 0o755 })
    process.env.PATH = ['a', 'b', 'c'].map(d => path.join(dir, d)).join(path.delimiter)
    await execute('faketool', ['one'], { env: {} })
    await execute('faketool', ['two'], { env: {} })
    expect(tools()).toEqual([path.join(dir, 'c', 'faketool'), path.join(dir, 'c', 'faketool')])
  })

  test('another PATH is looked up afresh', async () => {
    for (const d of ['x', 'y']) {
      fs.mkdirSync(path.join(dir, d))
      fs.writeFileSync(path.join(dir, d, 'othertool'), '#!/bin/sh\n', { mode: 0o755 })
    }
    process.env.PATH = path.join(dir, 'x')
    await execute('othertool', [], { env: {} })
    process.env.PATH = path.join(dir, 'y')
    await execute('othertool', [], { env: {} })
    expect(tools()).toEqual([path.join(dir, 'x', 'othertool'), path.join(dir, 'y', 'othertool')])
  })

  test('an empty PATH entry is not the working directory: a program lying there is not run', async () => {
    fs.writeFileSync(path.join(dir, 'cwdtool'), '#!/bin/sh\n', { mode: 0o755 })
    fs.mkdirSync(path.join(dir, 'bin'))
    fs.writeFileSync(path.join(dir, 'bin', 'cwdtool'), '#!/bin/sh\n', { mode: 0o755 })
    const cwd = process.cwd()
    process.chdir(dir)
    try {
      process.env.PATH = `${path.delimiter}${path.join(dir, 'bin')}`
      await execute('cwdtool', [], { env: {} })
    } finally {
      process.chdir(cwd)
    }
    expect(tools()).toEqual([path.join(dir, 'bin', 'cwdtool')])
  })

  test('not in PATH: the bare name, and @actions/exec says it is missing', async () => {
    process.env.PATH = dir
    execMock.mockRejectedValue(new Error('Unable to locate executable file: nosuchtool. Please verify'))
    await expect(execute('nosuchtool', [], { env: {} })).rejects.toThrow(
      'nosuchtool is not installed or not on PATH (Unable to locate executable file: nosuchtool); install it, e.g. apt-get install nosuchtool'
    )
    expect(tools()).toEqual(['nosuchtool'])
  })
})
