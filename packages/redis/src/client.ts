import { Redis } from 'ioredis'

export interface RedisConnectionOptions {
  /** Milliseconds a command may take before it counts as a failure (and the request gets 503). */
  commandTimeoutMs?: number
}

/**
 * The connection for commands. No offline queue: while Redis is away a
 * command fails at once (the service answers 503) instead of hanging.
 * ioredis reconnects by itself with this backoff.
 */
export function commandConnection(url: string, options: RedisConnectionOptions = {}): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectionName: 'qr-login:commands',
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  })
}

/** The connection that only listens; its SUBSCRIBE waits for Redis and is renewed on every reconnect. */
export function subscriberConnection(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectionName: 'qr-login:subscriber',
    autoResubscribe: true,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  })
}
