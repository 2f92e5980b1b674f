import { MemoryChangeFeed, type Backend, type Clock } from '@qr-login/core'
import { SqliteDatabase } from './database.js'
import { SqliteKeyStore } from './key-store.js'
import { SqliteOidcArtefactStore } from './oidc-store.js'
import { SqlitePasskeyStore } from './passkey-store.js'
import { SqliteHistoryStore, SqliteLoginStore, SqliteSessionStore } from './store.js'

export interface SqliteBackendOptions {
  /** The database file: made, with its schema, when missing. */
  path: string
  clock: Clock
  /** A watcher's listener that throws: reported, never passed on to the other watchers. */
  onListenerError?: (error: unknown) => void
}

/**
 * STORE=sqlite: one database file holds every store; status changes reach this process's watchers
 * straight from the write (one process: WORKERS is refused). Throws DatabaseRefused, naming the path,
 * when the file cannot be this service's database.
 */
export function sqliteBackend(options: SqliteBackendOptions): Backend & { database: SqliteDatabase } {
  const database = new SqliteDatabase(options.path, options.clock)
  const feed = new MemoryChangeFeed(options.onListenerError)
  return {
    name: 'sqlite',
    database,
    logins: new SqliteLoginStore(database, options.clock),
    sessions: new SqliteSessionStore(database, options.clock),
    history: new SqliteHistoryStore(database, options.clock),
    passkeys: new SqlitePasskeyStore(database, options.clock),
    oidc: new SqliteOidcArtefactStore(database, options.clock),
    keys: new SqliteKeyStore(database),
    feed,
    ping: async () => database.ping(),
    close: async () => {
      await feed.close()
      database.close()
    },
  }
}
