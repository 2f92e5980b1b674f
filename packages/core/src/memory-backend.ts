import { MemoryKeyStore } from './key-stores.js'
import { MemoryChangeFeed } from './memory-feed.js'
import { MemoryOidcArtefactStore } from './memory-oidc-store.js'
import { MemoryPasskeyStore } from './memory-passkey-store.js'
import { MemoryHistoryStore, MemoryLoginStore, MemorySessionStore } from './memory-store.js'
import type { Backend, Clock, KeyStore } from './ports.js'

export interface MemoryBackendOptions {
  clock: Clock
  /** Where the signing keys are kept: in this process unless given (STORE=memory gives a file). */
  keys?: KeyStore
  /** A watcher's listener that throws: reported, never passed on to the other watchers. */
  onListenerError?: (error: unknown) => void
}

/** STORE=memory: everything in this process, gone with it (tests and throw-away demos). */
export function memoryBackend(options: MemoryBackendOptions): Backend & {
  logins: MemoryLoginStore
  sessions: MemorySessionStore
  history: MemoryHistoryStore
  passkeys: MemoryPasskeyStore
  oidc: MemoryOidcArtefactStore
} {
  const logins = new MemoryLoginStore(options.clock)
  const sessions = new MemorySessionStore(options.clock)
  const history = new MemoryHistoryStore(options.clock)
  const passkeys = new MemoryPasskeyStore(options.clock)
  const oidc = new MemoryOidcArtefactStore(options.clock)
  const feed = new MemoryChangeFeed(options.onListenerError)
  return {
    name: 'memory',
    logins,
    sessions,
    history,
    passkeys,
    oidc,
    keys: options.keys ?? new MemoryKeyStore(),
    feed,
    // Held in this process: it answers whenever the process does.
    ping: async () => {},
    close: async () => {
      await feed.close()
      logins.close()
      sessions.close()
      history.close()
      await passkeys.close()
      await oidc.close()
    },
  }
}
