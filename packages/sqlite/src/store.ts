import type { StatementSync } from 'node:sqlite'
import {
  historyLimit,
  isTerminal,
  type Clock,
  type HistoryEntry,
  type HistoryStore,
  type LoginRecord,
  type LoginStore,
  type SessionRecord,
  type SessionStore,
} from '@qr-login/core'
import { guarded, type SqliteDatabase } from './database.js'

// Each write is one transaction, committed before its promise resolves; a row past its keepUntil is as
// good as gone for every read, and the database's indexed sweep deletes such rows once a minute. One
// process only: SQLite's own locking keeps a second one from corrupting anything, but change
// notifications do not cross processes.

/** Logins and the user codes reserved for them. */
export class SqliteLoginStore implements LoginStore {
  private readonly statements: Record<string, StatementSync>

  constructor(
    private readonly database: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.statements = database.prepareAll({
      forgetLogin: 'DELETE FROM logins WHERE id = ? AND keep_until <= ?',
      insertLogin: 'INSERT OR IGNORE INTO logins (id, version, record, live, keep_until) VALUES (?, ?, ?, ?, ?)',
      getLogin: 'SELECT record FROM logins WHERE id = ? AND keep_until > ?',
      setLogin:
        'UPDATE logins SET version = ?, record = ?, live = ?, keep_until = ? WHERE id = ? AND version = ? AND keep_until > ?',
      countLive: 'SELECT count(*) AS n FROM logins WHERE live = 1 AND keep_until > ?',
      forgetCode: 'DELETE FROM user_codes WHERE code = ? AND keep_until <= ?',
      reserveCode: 'INSERT OR IGNORE INTO user_codes (code, login_id, keep_until) VALUES (?, ?, ?)',
      findCode: 'SELECT login_id FROM user_codes WHERE code = ? AND keep_until > ?',
      releaseCode: 'DELETE FROM user_codes WHERE code = ? AND login_id = ?',
      count: 'SELECT count(*) AS n FROM logins WHERE keep_until > ?',
    })
  }

  async insert(record: LoginRecord, keepUntil: number): Promise<boolean> {
    const now = this.clock.now()
    return this.database.write(() => {
      this.statements.forgetLogin.run(record.id, now)
      const live = isTerminal(record.status) ? 0 : 1
      return (
        this.statements.insertLogin.run(record.id, record.version, JSON.stringify(record), live, keepUntil).changes ===
        1
      )
    })
  }

  async reserveUserCode(code: string, loginId: string, keepUntil: number): Promise<boolean> {
    const now = this.clock.now()
    return this.database.write(() => {
      this.statements.forgetCode.run(code, now)
      return this.statements.reserveCode.run(code, loginId, keepUntil).changes === 1
    })
  }

  async findByUserCode(code: string): Promise<string | undefined> {
    const row = guarded(() => this.statements.findCode.get(code, this.clock.now())) as { login_id: string } | undefined
    return row?.login_id
  }

  async releaseUserCode(code: string, loginId: string): Promise<void> {
    await this.database.write(() => this.statements.releaseCode.run(code, loginId))
  }

  async get(id: string): Promise<LoginRecord | undefined> {
    const row = guarded(() => this.statements.getLogin.get(id, this.clock.now())) as { record: string } | undefined
    return row && (JSON.parse(row.record) as LoginRecord)
  }

  async compareAndSet(next: LoginRecord, expectedVersion: number, keepUntil: number): Promise<boolean> {
    const live = isTerminal(next.status) ? 0 : 1
    const changed = await this.database.write(() =>
      this.statements.setLogin.run(
        next.version,
        JSON.stringify(next),
        live,
        keepUntil,
        next.id,
        expectedVersion,
        this.clock.now(),
      ),
    )
    return changed.changes === 1
  }

  async countLive(): Promise<number> {
    return Number((guarded(() => this.statements.countLive.get(this.clock.now())) as { n: number }).n)
  }

  stats() {
    const { n } = this.statements.count.get(this.clock.now()) as { n: number }
    return { logins: Number(n), timers: this.database.timers }
  }
}

/** PC and phone sessions, indexed by user. */
export class SqliteSessionStore implements SessionStore {
  private readonly statements: Record<string, StatementSync>

  constructor(
    private readonly database: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.statements = database.prepareAll({
      putSession: 'INSERT OR REPLACE INTO sessions (token_hash, username, record, keep_until) VALUES (?, ?, ?, ?)',
      getSession: 'SELECT record FROM sessions WHERE token_hash = ? AND keep_until > ?',
      deleteSession: 'DELETE FROM sessions WHERE token_hash = ?',
      listSessions: 'SELECT record FROM sessions WHERE username = ? AND keep_until > ?',
      count: 'SELECT count(*) AS n FROM sessions WHERE keep_until > ?',
    })
  }

  async putSession(session: SessionRecord, keepUntil: number): Promise<void> {
    await this.database.write(() =>
      this.statements.putSession.run(session.tokenHash, session.username, JSON.stringify(session), keepUntil),
    )
  }

  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const row = guarded(() => this.statements.getSession.get(tokenHash, this.clock.now())) as
      { record: string } | undefined
    return row && (JSON.parse(row.record) as SessionRecord)
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.database.write(() => this.statements.deleteSession.run(tokenHash))
  }

  async listSessions(username: string): Promise<SessionRecord[]> {
    const rows = guarded(() => this.statements.listSessions.all(username, this.clock.now())) as { record: string }[]
    return rows.map((row) => JSON.parse(row.record) as SessionRecord)
  }

  stats() {
    const { n } = this.statements.count.get(this.clock.now()) as { n: number }
    return { sessions: Number(n), timers: this.database.timers }
  }
}

/** Each user's history, trimmed to historyLimit in the transaction that adds to it. */
export class SqliteHistoryStore implements HistoryStore {
  private readonly statements: Record<string, StatementSync>

  constructor(
    private readonly database: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.statements = database.prepareAll({
      addHistory: 'INSERT INTO history (username, entry, keep_until) VALUES (?, ?, ?)',
      trimHistory:
        'DELETE FROM history WHERE username = ? AND id NOT IN (SELECT id FROM history WHERE username = ? ORDER BY id DESC LIMIT ?)',
      listHistory: 'SELECT entry FROM history WHERE username = ? AND keep_until > ? ORDER BY id DESC',
    })
  }

  async addHistory(username: string, entry: HistoryEntry, keepUntil: number): Promise<void> {
    await this.database.write(() => {
      this.statements.addHistory.run(username, JSON.stringify(entry), keepUntil)
      this.statements.trimHistory.run(username, username, historyLimit)
    })
  }

  async listHistory(username: string): Promise<HistoryEntry[]> {
    const rows = guarded(() => this.statements.listHistory.all(username, this.clock.now())) as { entry: string }[]
    return rows.map((row) => JSON.parse(row.entry) as HistoryEntry)
  }
}
