import type { Clock, LoginStatusView } from '@qr-login/core'
import { commandConnection, subscriberConnection, type RedisConnectionOptions } from './client.js'
import { RedisChangeFeed } from './feed.js'
import { RedisLoginStore } from './store.js'
import { RedisPasskeyStore } from './passkey-store.js'
import { RedisOidcArtefactStore } from './oidc-store.js'

export { RedisLoginStore } from './store.js'
export { RedisPasskeyStore } from './passkey-store.js'
export { RedisOidcArtefactStore } from './oidc-store.js'
export { RedisChangeFeed } from './feed.js'
export { commandConnection, subscriberConnection } from './client.js'
export { keys } from './keys.js'
export type { Redis } from 'ioredis'

export interface RedisBackendOptions extends RedisConnectionOptions {
  url: string
  clock: Clock
  prefix?: string
  reload: (store: RedisLoginStore) => (id: string) => Promise<LoginStatusView | undefined>
  onError?: (error: unknown, context: string) => void
}

/**
 * The stores and change feed over two connections (commands, and a subscriber).
 * Does not wait for Redis: while it is away requests get 503 and the
 * connections keep retrying; service resumes by itself.
 */
export function redisBackend(options: RedisBackendOptions) {
  const commands = commandConnection(options.url, options)
  const subscriber = subscriberConnection(options.url)
  const onError = options.onError ?? (() => {})
  commands.on('error', (error: unknown) => onError(error, 'redis commands'))
  const store = new RedisLoginStore(commands, options.clock, options.prefix)
  const passkeys = new RedisPasskeyStore(commands, options.clock, options.prefix)
  const oidc = new RedisOidcArtefactStore(commands, options.clock, options.prefix)
  const feed = new RedisChangeFeed(commands, subscriber, options.reload(store), onError, options.prefix)
  const connected = Promise.all([commands.connect(), feed.start()]).then(() => undefined)
  return { store, passkeys, oidc, feed, commands, subscriber, connected }
}
