import type { Cluster } from 'ioredis'
import type { Backend, Clock, LoginStatusView } from '@qr-login/core'
import {
  commandConnection,
  subscriberConnection,
  type RedisClient,
  type RedisConnectionOptions,
  type RedisTarget,
} from './client.js'
import { RedisChangeFeed } from './feed.js'
import { ShardedRedisChangeFeed } from './sharded-feed.js'
import { RedisHistoryStore, RedisLoginStore, RedisSessionStore, type LiveIndex } from './store.js'
import { RedisKeyStore } from './key-store.js'
import type { Durability } from './durability.js'
import { guard } from './guard.js'
import { RedisPasskeyStore } from './passkey-store.js'
import { RedisOidcArtefactStore } from './oidc-store.js'

export { RedisLoginStore, RedisSessionStore, RedisHistoryStore, type LiveIndex } from './store.js'
export { RedisKeyStore } from './key-store.js'
export { RedisPasskeyStore } from './passkey-store.js'
export { RedisOidcArtefactStore } from './oidc-store.js'
export { RedisChangeFeed } from './feed.js'
export { ShardedRedisChangeFeed } from './sharded-feed.js'
export { commandConnection, subscriberConnection, type RedisClient, type RedisTarget } from './client.js'
export { keys } from './keys.js'
export { replicated, type Durability } from './durability.js'
export { readPersistence, type PersistenceReading, type PersistenceRisk } from './persistence.js'
export type { Redis, Cluster } from 'ioredis'

export interface RedisBackendOptions extends RedisConnectionOptions {
  target: RedisTarget
  clock: Clock
  prefix?: string
  durability?: Durability
  liveIndex?: LiveIndex
  /** What a watcher is told when its feed resubscribes: the login as the store holds it now. */
  reload: (logins: RedisLoginStore) => (id: string) => Promise<LoginStatusView | undefined>
  onError?: (error: unknown, context: string) => void
}

export interface RedisBackend extends Backend {
  logins: RedisLoginStore
  /** The command connection every store shares (the rate limits use it too). */
  commands: RedisClient
  subscriber: RedisClient
  /** Settles once both connections are up; rejects if Redis cannot be reached then (they keep retrying). */
  connected: Promise<void>
}

/**
 * The stores and change feed over two connections (commands, and a subscriber),
 * to one Redis server or to a cluster (sharded pub/sub then, one channel per login).
 * Does not wait for Redis: while it is away requests get 503 and the
 * connections keep retrying; service resumes by itself.
 */
export function redisBackend(options: RedisBackendOptions): RedisBackend {
  const prefix = options.prefix ?? 'qr:'
  const commands = commandConnection(options.target, options)
  const subscriber = subscriberConnection(options.target)
  const onError = options.onError ?? (() => {})
  commands.on('error', (error: unknown) => onError(error, 'redis commands'))
  const logins = new RedisLoginStore(commands, options.clock, prefix, options.durability, options.liveIndex)
  const feed =
    'cluster' in options.target
      ? new ShardedRedisChangeFeed(commands as Cluster, subscriber as Cluster, options.reload(logins), onError, prefix)
      : new RedisChangeFeed(commands, subscriber, options.reload(logins), onError, prefix)
  const connected = Promise.all([commands.connect(), feed.start()]).then(() => undefined)
  let closed: Promise<void> | undefined
  return {
    name: 'redis',
    logins,
    sessions: new RedisSessionStore(commands, options.clock, prefix, options.durability),
    history: new RedisHistoryStore(commands, options.clock, prefix),
    passkeys: new RedisPasskeyStore(commands, options.clock, prefix, options.durability),
    oidc: new RedisOidcArtefactStore(commands, options.clock, prefix, options.durability),
    keys: new RedisKeyStore(commands, `${prefix}oidc-keys`, options.durability),
    feed,
    commands,
    subscriber,
    connected,
    ping: () =>
      guard(async () => {
        await commands.ping()
      }),
    close: () =>
      (closed ??= (async () => {
        await feed.close()
        commands.disconnect()
        subscriber.disconnect()
      })()),
  }
}
