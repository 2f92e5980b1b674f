import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { LoginError } from './errors.js'
import type { KeyStore } from './ports.js'

/** Signing keys held by this process only: a test's, or a throw-away demo's that needs none kept. */
export class MemoryKeyStore implements KeyStore {
  private kept: string | undefined

  async read(): Promise<string | undefined> {
    return this.kept
  }

  async keepFirst(keys: string): Promise<string> {
    this.kept ??= keys
    return this.kept
  }
}

/**
 * Signing keys in a private file (mode 0600): what STORE=memory keeps, so apps' tokens still verify
 * after a restart although every login is gone.
 */
export class FileKeyStore implements KeyStore {
  constructor(readonly path: string) {}

  async read(): Promise<string | undefined> {
    try {
      return readFileSync(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw unavailable(this.path, error)
    }
  }

  async keepFirst(keys: string): Promise<string> {
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 })
      // Written aside, then linked into place: a process starting at the same moment reads whole keys or
      // none, and the one that loses the race uses the winner's.
      const aside = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}`
      writeFileSync(aside, keys, { mode: 0o600 })
      try {
        linkSync(aside, this.path)
        return keys
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        return readFileSync(this.path, 'utf8')
      } finally {
        unlinkSync(aside)
      }
    } catch (error) {
      throw unavailable(this.path, error)
    }
  }
}

function unavailable(path: string, error: unknown): LoginError {
  return new LoginError('STORE_UNAVAILABLE', `${path}: ${(error as Error).message}`, { cause: error })
}
