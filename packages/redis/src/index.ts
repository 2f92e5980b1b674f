import type { Cluster } from 'ioredis'
import type { Clock, LoginStatusView } from '@qr-login/core'
import { commandConnection, subscriberConnection, type RedisConnectionOptions, type RedisTarget } from './client.js'
import { RedisChangeFeed } from './feed.js'
import { ShardedRedisChangeFeed } from './sharded-feed.js'
import { RedisLoginStore, type LiveIndex } from './store.js'
import type { Durability } from './durability.js'
import { RedisPasskeyStore } from './passkey-store.js'
import { RedisOidcArtefactStore } from './oidc-store.js'

export { RedisLoginStore, type LiveIndex } from './store.js'
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
  reload: (store: RedisLoginStore) => (id: string) => Promise<LoginStatusView | undefined>
  onError?: (error: unknown, context: string) => void
}

/**
 * The stores and change feed over two connections (commands, and a subscriber),
 * to one Redis server or to a cluster (sharded pub/sub then, one channel per login).
 * Does not wait for Redis: while it is away requests get 503 and the
 * connections keep retrying; service resumes by itself.
 */
export function redisBackend(options: RedisBackendOptions) {
  const commands = commandConnection(options.target, options)
  const subscriber = subscriberConnection(options.target)
  const onError = options.onError ?? (() => {})
  commands.on('error', (error: unknown) => onError(error, 'redis commands'))
  const store = new RedisLoginStore(commands, options.clock, options.prefix, options.durability, options.liveIndex)
  const passkeys = new RedisPasskeyStore(commands, options.clock, options.prefix, options.durability)
  const oidc = new RedisOidcArtefactStore(commands, options.clock, options.prefix, options.durability)
  const feed =
    'cluster' in options.target
      ? new ShardedRedisChangeFeed(
          commands as Cluster,
          subscriber as Cluster,
          options.reload(store),
          onError,
          options.prefix,
        )
      : new RedisChangeFeed(commands, subscriber, options.reload(store), onError, options.prefix)
  const connected = Promise.all([commands.connect(), feed.start()]).then(() => undefined)
  return { store, passkeys, oidc, feed, commands, subscriber, connected }
}
