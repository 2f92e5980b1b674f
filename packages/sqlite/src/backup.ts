import { existsSync } from 'node:fs'
import type { DatabaseSync } from 'node:sqlite'
import { applicationId, DatabaseRefused } from './database.js'

export interface BackupReport {
  source: string
  target: string
  /** The copy's schema version (PRAGMA user_version). */
  schemaVersion: number
  /** Rows of each table in the copy. */
  rows: Record<string, number>
}

/**
 * A consistent copy of the service's database at `target`, taken while the service runs: SQLite's
 * online backup API (Node 22.16 and later; VACUUM INTO before it) over a connection of its own that
 * never writes, so the service's file is not migrated or changed whatever build takes the copy. The
 * copy is checked (integrity_check) before it is reported. Refuses a source that is not this
 * service's database, and a target that exists (a backup never overwrites).
 */
export async function backupDatabase(source: string, target: string): Promise<BackupReport> {
  if (!existsSync(source)) throw new DatabaseRefused(`${source} does not exist: is DATA_DIR right?`)
  if (existsSync(target)) throw new DatabaseRefused(`${target} exists already: a backup never overwrites a file`)
  const sqlite = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite') & {
    backup?: (db: DatabaseSync, path: string, options?: { rate?: number }) => Promise<number>
  }
  const db = new sqlite.DatabaseSync(source, { readOnly: true })
  try {
    const id = Number((db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id)
    if (id !== applicationId)
      throw new DatabaseRefused(`${source} is not this service's database (application_id ${id})`)
    if (sqlite.backup) await sqlite.backup(db, target, { rate: 256 })
    else db.prepare('VACUUM INTO ?').run(target)
  } finally {
    db.close()
  }
  const copy = new sqlite.DatabaseSync(target, { readOnly: true })
  try {
    const integrity = copy.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]
    if (integrity.length !== 1 || integrity[0].integrity_check !== 'ok')
      throw new DatabaseRefused(`${target}: the copy failed its integrity check`)
    const tables = copy
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[]
    const rows = Object.fromEntries(
      tables.map(({ name }) => [
        name,
        Number((copy.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n),
      ]),
    )
    const schemaVersion = Number((copy.prepare('PRAGMA user_version').get() as { user_version: number }).user_version)
    return { source, target, schemaVersion, rows }
  } finally {
    copy.close()
  }
}
