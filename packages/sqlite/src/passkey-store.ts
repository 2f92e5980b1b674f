import type { StatementSync } from 'node:sqlite'
import type { AddPasskeyResult, Clock, PasskeyStore, StoredPasskey } from '@qr-login/core'
import { guarded, type SqliteDatabase } from './database.js'

/**
 * Passkeys in the service's database (account data: no expiry), their last use beside them, and the
 * prompts' challenges until their time. A credential id is one row, so it is registered once across
 * every user; the cap is checked in the transaction that adds.
 */
export class SqlitePasskeyStore implements PasskeyStore {
  private readonly statements: Record<string, StatementSync>

  constructor(
    private readonly database: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.statements = database.prepareAll({
      taken: 'SELECT 1 FROM passkeys WHERE id = ?',
      countOf: 'SELECT count(*) AS n FROM passkeys WHERE username = ?',
      add: 'INSERT INTO passkeys (id, username, passkey, added) VALUES (?, ?, ?, ?)',
      list: 'SELECT passkey, counter, last_used_at FROM passkeys WHERE username = ? ORDER BY added, rowid',
      use: 'UPDATE passkeys SET counter = ?, last_used_at = ? WHERE username = ? AND id = ?',
      remove: 'DELETE FROM passkeys WHERE username = ? AND id = ?',
      putChallenge: 'INSERT OR REPLACE INTO challenges (key, challenge, keep_until) VALUES (?, ?, ?)',
      takeChallenge: 'DELETE FROM challenges WHERE key = ? RETURNING challenge, keep_until',
      counts:
        'SELECT (SELECT count(*) FROM passkeys) AS passkeys, (SELECT count(*) FROM challenges WHERE keep_until > ?) AS challenges',
    })
  }

  async addPasskey(username: string, passkey: StoredPasskey, maxPerUser: number): Promise<AddPasskeyResult> {
    return this.database.write(() => {
      if (this.statements.taken.get(passkey.id)) return 'taken'
      if (Number((this.statements.countOf.get(username) as { n: number }).n) >= maxPerUser) return 'full'
      this.statements.add.run(passkey.id, username, JSON.stringify(passkey), passkey.createdAt)
      return 'added'
    })
  }

  async listPasskeys(username: string): Promise<StoredPasskey[]> {
    const rows = guarded(() => this.statements.list.all(username)) as {
      passkey: string
      counter: number | null
      last_used_at: number | null
    }[]
    return rows.map((row) => {
      const passkey = JSON.parse(row.passkey) as StoredPasskey
      return row.counter === null ? passkey : { ...passkey, counter: row.counter, lastUsedAt: Number(row.last_used_at) }
    })
  }

  async recordPasskeyUse(username: string, id: string, counter: number, at: number): Promise<boolean> {
    return this.database.write(() => this.statements.use.run(counter, at, username, id).changes === 1)
  }

  async removePasskey(username: string, id: string): Promise<boolean> {
    return this.database.write(() => this.statements.remove.run(username, id).changes === 1)
  }

  async putChallenge(key: string, challenge: string, keepUntil: number): Promise<void> {
    await this.database.write(() => this.statements.putChallenge.run(key, challenge, keepUntil))
  }

  async takeChallenge(key: string): Promise<string | undefined> {
    // Deleted as it is read, in one statement: of racing takers, one gets it.
    const row = (await this.database.write(() => this.statements.takeChallenge.get(key))) as
      { challenge: string; keep_until: number } | undefined
    return row && row.keep_until > this.clock.now() ? row.challenge : undefined
  }

  /** Timers are the database's (its one sweep), not this store's. */
  stats() {
    const counts = this.statements.counts.get(this.clock.now()) as { passkeys: number; challenges: number }
    return { passkeys: Number(counts.passkeys), challenges: Number(counts.challenges), timers: 0 }
  }
}
