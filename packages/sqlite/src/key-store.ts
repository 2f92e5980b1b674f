import type { StatementSync } from 'node:sqlite'
import type { KeyStore } from '@qr-login/core'
import { guarded, type SqliteDatabase } from './database.js'

/** The OpenID provider's signing keys, a row of the service's database: kept for good, written once. */
export class SqliteKeyStore implements KeyStore {
  private readonly statements: Record<string, StatementSync>

  constructor(
    private readonly database: SqliteDatabase,
    private readonly name = 'oidc',
  ) {
    this.statements = database.prepareAll({
      read: 'SELECT value FROM provider_keys WHERE name = ?',
      keep: 'INSERT OR IGNORE INTO provider_keys (name, value) VALUES (?, ?)',
    })
  }

  async read(): Promise<string | undefined> {
    const row = guarded(() => this.statements.read.get(this.name)) as { value: string } | undefined
    return row?.value
  }

  async keepFirst(keys: string): Promise<string> {
    return this.database.write(() => {
      this.statements.keep.run(this.name, keys)
      return (this.statements.read.get(this.name) as { value: string }).value
    })
  }
}
