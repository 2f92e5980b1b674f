import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { LoginError, type Clock, type TimerHandle } from '@qr-login/core'

/** "QRLG": what PRAGMA application_id holds in a database this service made, so it never adopts another's. */
export const applicationId = 0x51524c47

/** Each migration once, in order; the database's PRAGMA user_version is how many have run. */
const migrations: string[] = [
  `
  CREATE TABLE logins (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    record TEXT NOT NULL,
    live INTEGER NOT NULL,
    keep_until INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX logins_keep_until ON logins (keep_until);
  CREATE INDEX logins_live ON logins (keep_until) WHERE live = 1;
  CREATE TABLE user_codes (
    code TEXT PRIMARY KEY,
    login_id TEXT NOT NULL,
    keep_until INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX user_codes_keep_until ON user_codes (keep_until);
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    record TEXT NOT NULL,
    keep_until INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX sessions_username ON sessions (username, keep_until);
  CREATE INDEX sessions_keep_until ON sessions (keep_until);
  CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    entry TEXT NOT NULL,
    keep_until INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX history_username ON history (username, id);
  CREATE INDEX history_keep_until ON history (keep_until);
  `,
  `
  CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    passkey TEXT NOT NULL,
    counter INTEGER,
    last_used_at INTEGER,
    added INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX passkeys_username ON passkeys (username, added);
  CREATE TABLE challenges (
    key TEXT PRIMARY KEY,
    challenge TEXT NOT NULL,
    keep_until INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX challenges_keep_until ON challenges (keep_until);
  CREATE TABLE oidc_artefacts (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,
    consumed INTEGER,
    grant_id TEXT,
    user_code TEXT,
    uid TEXT,
    keep_until INTEGER,
    PRIMARY KEY (kind, id)
  ) STRICT;
  CREATE INDEX oidc_artefacts_grant ON oidc_artefacts (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX oidc_artefacts_user_code ON oidc_artefacts (kind, user_code) WHERE user_code IS NOT NULL;
  CREATE INDEX oidc_artefacts_uid ON oidc_artefacts (kind, uid) WHERE uid IS NOT NULL;
  CREATE INDEX oidc_artefacts_keep_until ON oidc_artefacts (keep_until) WHERE keep_until IS NOT NULL;
  `,
  `
  CREATE TABLE provider_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
]

/** The migrations this build knows; the schema version a database it made carries is their count. */
export const schemaMigrations: readonly string[] = migrations

/** The database cannot be used as this service's: not its, or made by a newer build. Names the path. */
export class DatabaseRefused extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DatabaseRefused'
  }
}

/**
 * Opens (or creates) the service's database: WAL, and every commit on disk before it returns
 * (synchronous=FULL), so a 2xx sent after it survives a SIGKILL and a power cut alike. Applies the
 * migrations this build knows, in one transaction; refuses a database of another application or
 * of a newer schema, naming the path.
 */
export function openDatabase(path: string): DatabaseSync {
  // Loaded when a database is opened, not when this module is: Node 22 prints an ExperimentalWarning as
  // node:sqlite loads, which a service on another store should not.
  const { DatabaseSync: Database } = process.getBuiltinModule('node:sqlite')
  const db = new Database(path)
  try {
    const id = Number((db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id)
    const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version)
    const empty = (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n === 0
    if (!empty && id !== applicationId)
      throw new DatabaseRefused(`${path} is not this service's database (application_id ${id}); move it aside`)
    if (version > migrations.length)
      throw new DatabaseRefused(
        `${path} has schema version ${version}, newer than this build's ${migrations.length}: run the newer build, or restore a backup`,
      )
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('PRAGMA synchronous = FULL')
    db.exec('PRAGMA busy_timeout = 5000')
    if (version < migrations.length) {
      db.exec('BEGIN IMMEDIATE')
      try {
        for (let next = version; next < migrations.length; next++) db.exec(migrations[next])
        db.exec(`PRAGMA application_id = ${applicationId}`)
        db.exec(`PRAGMA user_version = ${migrations.length}`)
        db.exec('COMMIT')
      } catch (error) {
        db.exec('ROLLBACK')
        throw error
      }
    }
    return db
  } catch (error) {
    db.close()
    if (error instanceof DatabaseRefused) throw error
    throw new DatabaseRefused(`${path} cannot be opened as this service's database: ${(error as Error).message}`)
  }
}

/** Runs a statement's work; SQLite's own failures (a full or read-only disk, I/O) become STORE_UNAVAILABLE. */
export function guarded<T>(work: () => T): T {
  try {
    return work()
  } catch (error) {
    if (error instanceof LoginError) throw error
    throw new LoginError('STORE_UNAVAILABLE', `SQLite: ${(error as Error)?.message ?? error}`, { cause: error })
  }
}

/** A transaction of its own: all of `work` is committed, or none of it. */
export function transaction<T>(db: DatabaseSync, work: () => T): T {
  return guarded(() => {
    db.exec('BEGIN IMMEDIATE')
    try {
      const result = work()
      db.exec('COMMIT')
      return result
    } catch (error) {
      // A failed COMMIT may have ended the transaction already; what matters is that none of it stands.
      try {
        db.exec('ROLLBACK')
      } catch {
        // nothing to roll back
      }
      throw error
    }
  })
}

/** How often rows past their keepUntil are deleted; reads never see them meanwhile (each read checks the time). */
const sweepEveryMs = 60_000
const expiring = ['logins', 'user_codes', 'sessions', 'history', 'challenges', 'oidc_artefacts']

interface QueuedWrite {
  work: () => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * The service's database and its one sweep: every store of it reads through `db` and writes through
 * `write()`, and rows that outlived their keepUntil are deleted once a minute, through each table's
 * keep_until index. Closing it stops the sweep and closes the file; the stores own nothing of their own.
 */
export class SqliteDatabase {
  readonly db: DatabaseSync
  private readonly sweeps: StatementSync[]
  private sweepTimer: TimerHandle | undefined
  private closed = false
  private queued: QueuedWrite[] = []
  private commits = 0
  private grouped = 0
  /** BEGIN, COMMIT and the savepoints, prepared once: a group commit runs them hundreds of times a second. */
  private pingStatement?: StatementSync
  private control?: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'undo', StatementSync>

  constructor(
    readonly path: string,
    private readonly clock: Clock,
  ) {
    this.db = openDatabase(path)
    this.sweeps = expiring.map((table) => this.db.prepare(`DELETE FROM ${table} WHERE keep_until <= ?`))
    this.scheduleSweep()
  }

  sweep(): void {
    const now = this.clock.now()
    transaction(this.db, () => {
      for (const statement of this.sweeps) statement.run(now)
    })
  }

  /**
   * Runs `work` (its statements: all of them stand, or none) in the next group commit, and resolves
   * with what it returned once that commit is on disk; STORE_UNAVAILABLE when the disk refuses it.
   *
   * Why grouped: with synchronous=FULL each commit waits for the disk (an fsync, 0.7 ms on this
   * machine), and node:sqlite waits on the event loop's thread. The writes of every request that
   * arrived in one turn of the event loop share one transaction and one fsync instead, each in a
   * savepoint of its own, so one that fails leaves the others standing. Nothing is answered before
   * its commit, and no read sees a write before it is committed: the whole group runs, and commits,
   * without yielding.
   */
  write<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queued.push({ work, resolve: resolve as (value: unknown) => void, reject }) === 1)
        setImmediate(() => this.commitQueued())
    })
  }

  /** Commits made, and the writes they carried: how well writes are grouped. */
  get writeStats(): { commits: number; writes: number } {
    return { commits: this.commits, writes: this.grouped }
  }

  /** Prepares a store's statements once, by name. */
  prepareAll<Name extends string>(sql: Record<Name, string>): Record<Name, StatementSync> {
    const prepared = {} as Record<Name, StatementSync>
    for (const name of Object.keys(sql) as Name[]) prepared[name] = this.db.prepare(sql[name])
    return prepared
  }

  /** A round trip to the file (what /readyz asks): STORE_UNAVAILABLE once it cannot be read. */
  ping(): void {
    guarded(() => (this.pingStatement ??= this.db.prepare('SELECT count(*) FROM sqlite_schema')).get())
  }

  get timers(): number {
    return this.sweepTimer ? 1 : 0
  }

  close(): void {
    this.sweepTimer?.cancel()
    this.sweepTimer = undefined
    if (this.closed) return
    // Writes already asked for are committed (or refused) before the file closes, never left hanging.
    this.commitQueued()
    this.closed = true
    this.db.close()
  }

  private commitQueued(): void {
    const group = this.queued
    if (group.length === 0) return
    this.queued = []
    const outcomes: { ok: boolean; value: unknown }[] = []
    try {
      guarded(() => {
        if (this.closed) throw new Error(`${this.path} is closed`)
        const control = (this.control ??= this.prepareAll({
          begin: 'BEGIN IMMEDIATE',
          commit: 'COMMIT',
          rollback: 'ROLLBACK',
          savepoint: 'SAVEPOINT write',
          release: 'RELEASE write',
          undo: 'ROLLBACK TO write',
        }))
        control.begin.run()
        try {
          // One write alone needs no savepoint: if it fails, the whole transaction is undone.
          if (group.length === 1) outcomes.push(this.attempt(group[0].work))
          else
            for (const { work } of group) {
              control.savepoint.run()
              const outcome = this.attempt(work)
              if (!outcome.ok) control.undo.run()
              control.release.run()
              outcomes.push(outcome)
            }
          if (group.length === 1 && !outcomes[0].ok) control.rollback.run()
          else control.commit.run()
        } catch (error) {
          // A failed COMMIT may have ended the transaction already; what matters is that none of it stands.
          try {
            control.rollback.run()
          } catch {
            // nothing to roll back
          }
          throw error
        }
      })
    } catch (error) {
      for (const { reject } of group) reject(error)
      return
    }
    this.commits++
    this.grouped += group.length
    group.forEach(({ resolve, reject }, index) => {
      const { ok, value } = outcomes[index]
      if (ok) resolve(value)
      else
        reject(
          value instanceof LoginError
            ? value
            : new LoginError('STORE_UNAVAILABLE', `SQLite: ${(value as Error)?.message ?? value}`, { cause: value }),
        )
    })
  }

  private attempt(work: () => unknown): { ok: boolean; value: unknown } {
    try {
      return { ok: true, value: work() }
    } catch (error) {
      return { ok: false, value: error }
    }
  }

  private scheduleSweep(): void {
    this.sweepTimer = this.clock.setTimer(sweepEveryMs, () => {
      try {
        this.sweep()
      } catch {
        // A full or read-only disk: the rows stay until a later sweep can delete them; reads skip them anyway.
      }
      if (this.sweepTimer) this.scheduleSweep()
    })
  }
}
