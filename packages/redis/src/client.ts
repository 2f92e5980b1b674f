import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'

/** One Redis server (a URL), or a Redis Cluster reached through some of its nodes. */
export type RedisTarget = { url: string } | { cluster: string[] }

/** What the stores and the feed talk to: a connection to one server, or to a whole cluster. */
export type RedisClient = Redis | Cluster

export interface RedisConnectionOptions {
  /** Milliseconds a command may take before it counts as a failure (and the request gets 503). */
  commandTimeoutMs?: number
}

const backoff = (attempt: number) => Math.min(50 * 2 ** attempt, 2000)

/** How long ioredis retries a cluster command whose master is gone: maxRedirections × retryDelayOnFailover. */
const failoverRetries = { delayMs: 100, times: 16 }
const failoverRetryBudgetMs = failoverRetries.delayMs * failoverRetries.times

/** Seed nodes as `host:port` or `redis[s]://[user:password@]host:port`; credentials and TLS come from the first. */
function clusterOptions(seeds: string[]): { nodes: { host: string; port: number }[]; redisOptions: RedisOptions } {
  const urls = seeds.map((seed) => new URL(/^rediss?:\/\//.test(seed) ? seed : `redis://${seed}`))
  const first = urls[0]
  return {
    nodes: urls.map((url) => ({ host: url.hostname, port: Number(url.port || 6379) })),
    redisOptions: {
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  }
}

function cluster(seeds: string[], options: ClusterOptions & { redisOptions: RedisOptions }): Cluster {
  const { nodes, redisOptions } = clusterOptions(seeds)
  return stopsRefreshingOnceEnded(
    new Cluster(nodes, {
      lazyConnect: true,
      clusterRetryStrategy: backoff,
      // While a replica takes over a failed master, the slot's commands are retried this often instead of failing.
      retryDelayOnFailover: failoverRetries.delayMs,
      retryDelayOnClusterDown: failoverRetries.delayMs,
      maxRedirections: failoverRetries.times,
      // Without an offline queue a command for a dead master fails at once until the slot map is read again; ioredis
      // reads it every 5 s by default, or on a MOVED reply, which an instance that sends nothing to the slot never gets.
      slotsRefreshInterval: 1000,
      ...options,
      redisOptions: { ...redisOptions, ...options.redisOptions },
    }),
  )
}

/**
 * ioredis 5.11 arms its slotsRefreshInterval timer again when a slot-map read that was under way at
 * disconnect() finishes (its failure calls back into the next round), so a closed cluster client reads
 * the slot map every second for ever, and keeps the process alive. Its status may even stay
 * "disconnecting": with no node connection left, nothing tells it the pool drained. So from a close
 * asked for until the next connect(), the slot map is read no more: the round in flight is the last.
 */
function stopsRefreshingOnceEnded(client: Cluster): Cluster {
  let closed = false
  const refresh = client.refreshSlotsCache.bind(client)
  client.refreshSlotsCache = (callback) => {
    if (closed) return
    refresh(callback)
  }
  const connect = client.connect.bind(client)
  client.connect = () => {
    closed = false
    return connect()
  }
  const disconnect = client.disconnect.bind(client)
  client.disconnect = (reconnect?: boolean) => {
    if (!reconnect) closed = true
    disconnect(reconnect)
  }
  const quit = client.quit.bind(client)
  client.quit = (callback?: Parameters<Cluster['quit']>[0]) => {
    closed = true
    return quit(callback)
  }
  return client
}

/**
 * The connection for commands. No offline queue: while Redis is away a
 * command fails at once (the service answers 503) instead of hanging.
 * ioredis reconnects by itself with this backoff.
 */
export function commandConnection(target: RedisTarget | string, options: RedisConnectionOptions = {}): RedisClient {
  if (typeof target === 'object' && 'cluster' in target)
    return cluster(target.cluster, {
      enableOfflineQueue: false,
      redisOptions: {
        connectionName: 'qr-login:commands',
        // A command for a master that just died is retried by ioredis (every 100 ms, 16 times) until a replica
        // has its slots; a timeout that fired meanwhile would report a write as failed that is then made after
        // all (a consumed login whose session was thrown away). So the timeout outlasts those retries.
        commandTimeout: options.commandTimeoutMs ?? failoverRetryBudgetMs + 3000,
        maxRetriesPerRequest: 1,
        connectTimeout: 1000,
      },
    })
  return new Redis(typeof target === 'string' ? target : target.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectionName: 'qr-login:commands',
    retryStrategy: backoff,
  })
}

/**
 * The connection that only listens; its subscriptions wait for Redis and are
 * renewed on every reconnect. On a cluster it keeps one connection per master
 * for sharded pub/sub, moved along when a replica takes over.
 */
export function subscriberConnection(target: RedisTarget | string): RedisClient {
  if (typeof target === 'object' && 'cluster' in target)
    return cluster(target.cluster, {
      shardedSubscribers: true,
      redisOptions: { connectionName: 'qr-login:subscriber', maxRetriesPerRequest: null },
    })
  return new Redis(typeof target === 'string' ? target : target.url, {
    lazyConnect: true,
    connectionName: 'qr-login:subscriber',
    autoResubscribe: true,
    maxRetriesPerRequest: null,
    retryStrategy: backoff,
  })
}
