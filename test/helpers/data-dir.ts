import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

/** A DATA_DIR of its own for one app or process on the default store (SQLite), removed when the test ends. */
export function freshDataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'qr-data-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * The environment a test's service runs with: on the default store, a DATA_DIR of its own unless the
 * test names a store or a directory, so no two tests (nor the developer's own `npm start`) share a file.
 */
export function withOwnDataDir(t: Test, env: Record<string, string | undefined>): Record<string, string> {
  const own = env.STORE || env.DATA_DIR ? {} : { DATA_DIR: freshDataDir(t) }
  return { ...own, ...env } as Record<string, string>
}
