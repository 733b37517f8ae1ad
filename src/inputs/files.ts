/** The files and directories inputs name, checked on disk: the one part of reading inputs that reads the disk. */
import * as fs from 'fs'
import { quote } from '../text'
import { InputError, isObject } from './values'

/** An auth file holds a few logins; a bigger "auth file" is some other file. */
const AUTH_FILE_MAX = 1 << 20

/**
 * A containers auth file or docker config.json: a readable regular file of JSON with an `auths` or
 * `credHelpers` object (or docker's `credsStore`). Its content is never quoted: it may be any file.
 */
export function checkAuthFile(file: string): void {
  const shown = quote(file)
  let text: string
  try {
    fs.accessSync(file, fs.constants.R_OK)
    if (!fs.statSync(file).isFile()) throw new Error('not a regular file')
    text = readAtMost(file, AUTH_FILE_MAX + 1)
  } catch {
    throw new InputError('auth-file', `${shown} is not a readable file`)
  }
  if (Buffer.byteLength(text) > AUTH_FILE_MAX)
    throw new InputError('auth-file', `${shown} is larger than ${AUTH_FILE_MAX} bytes; it is not an auth file`)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new InputError('auth-file', `${shown} does not hold JSON; it must be a containers auth file (auth.json) or docker config.json`)
  }
  if (!isObject(doc) || !(isObject(doc.auths) || isObject(doc.credHelpers) || typeof doc.credsStore === 'string')) {
    throw new InputError(
      'auth-file',
      `${shown} has no "auths" or "credHelpers" object; it must be a containers auth file (auth.json) or docker config.json`
    )
  }
}

/** Reads up to `max` bytes: /proc files claim size 0, so the size from stat cannot bound the read. */
function readAtMost(file: string, max: number): string {
  const fd = fs.openSync(file, 'r')
  try {
    const buffer = Buffer.alloc(max)
    let length = 0
    for (let n = -1; n !== 0 && length < max; length += n) n = fs.readSync(fd, buffer, length, max - length, null)
    return buffer.subarray(0, length).toString('utf8')
  } finally {
    fs.closeSync(fd)
  }
}

export function isDirectory(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory()
  } catch {
    return false
  }
}
