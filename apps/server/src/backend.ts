import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { FileKeyStore, memoryBackend, toStatusView, type Backend, type Clock } from '@qr-login/core'
import { DatabaseRefused, sqliteBackend } from '@qr-login/sqlite'
import { readPersistence, redisBackend, type PersistenceReading, type RedisClient } from '@qr-login/redis'
import type { Config } from './config.js'
import { ConfigError } from './config-error.js'

/** Where @fastify/rate-limit keeps its counters: in this process, or in Redis shared by every instance. */
export type RateLimitStorage = { redis: RedisClient; nameSpace: string } | { cache: number }

/** A backend as the service uses it: the stores, feed and keys, and where the rate limits count. */
export interface ServiceBackend extends Backend {
  rateLimits: RateLimitStorage
}

/** The parts of a backend a test may swap for its own (a store it holds up, or takes away). */
export type BackendParts = Partial<Omit<Backend, 'name' | 'ping' | 'close'>>

interface Opening {
  config: Config
  clock: Clock
  log: FastifyBaseLogger
}

/** @fastify/rate-limit's own in-process store, as large as a busy instance needs. */
export const inProcessRateLimits: RateLimitStorage = { cache: 100_000 }

/** One opener per STORE: each makes its backend, which owns every connection or file it opens. */
const backends: Record<Config['store'], (opening: Opening) => Promise<ServiceBackend>> = {
  /** Everything in this process; only the provider's signing keys are kept, in a private file. */
  memory: async ({ config, clock, log }) => ({
    ...memoryBackend({
      clock,
      keys: new FileKeyStore(config.oidc.keysFile),
      onListenerError: (error) => log.error({ err: error }, 'status listener failed'),
    }),
    rateLimits: inProcessRateLimits,
  }),

  /**
   * One database file in DATA_DIR holds every store and the signing keys. A DATA_DIR or file that cannot
   * be used stops the start, naming the path.
   */
  sqlite: async ({ config, clock, log }) => {
    const path = join(config.dataDir, 'qr-login.db')
    try {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
      const backend = sqliteBackend({
        path,
        clock,
        onListenerError: (error) => log.error({ err: error }, 'status listener failed'),
      })
      return { ...backend, rateLimits: inProcessRateLimits }
    } catch (error) {
      const reason = error instanceof DatabaseRefused ? error.message : `${path}: ${(error as Error).message}`
      throw new ConfigError(`DATA_DIR ${config.dataDir} cannot hold the database: ${reason}`)
    }
  },

  /**
   * Every instance shares logins, sessions, changes and rate limits. Starts even if Redis is away:
   * requests answer 503 until it is back, then everything resumes by itself. What Redis would lose is
   * read at start and said (or, with REDIS_REQUIRE_DURABLE=1, refused).
   */
  redis: async ({ config, clock, log }) => {
    let shortfallReportedAt = -Infinity
    const backend = redisBackend({
      target: config.redisCluster ? { cluster: config.redisCluster } : { url: config.redisUrl },
      prefix: config.redisPrefix,
      clock,
      liveIndex: config.redisLiveIndex,
      durability: {
        ...config.redisWait,
        // A master without its replica (one failed over, until a new replica joins) falls short on every
        // write: say so once every 10 s, not once a write.
        onShortfall: (acknowledged, wanted) => {
          const now = clock.now()
          if (now - shortfallReportedAt < 10_000) return
          shortfallReportedAt = now
          log.warn({ acknowledged, wanted }, 'writes reach fewer Redis replicas than REDIS_WAIT_REPLICAS')
        },
      },
      reload: (logins) => async (id) => {
        const record = await logins.get(id)
        return record && toStatusView(record)
      },
      onError: (error, context) => log.warn({ err: error, context }, 'redis'),
    })
    const reachable = await backend.connected.then(
      () => true,
      (error: unknown) => {
        log.error({ err: error }, 'Redis is not reachable yet; answering 503 until it is')
        return false
      },
    )
    try {
      checkPersistence(log, config, reachable ? await readPersistence(backend.commands) : undefined)
    } catch (error) {
      // Refused to start: nothing may keep the process alive after it says why.
      await backend.close()
      throw error
    }
    return { ...backend, rateLimits: { redis: backend.commands, nameSpace: `${config.redisPrefix}rate:` } }
  },
}

/** The backend STORE names, open and ready to serve (or, for Redis, retrying until it is). */
export function openBackend(config: Config, clock: Clock, log: FastifyBaseLogger): Promise<ServiceBackend> {
  return backends[config.store]({ config, clock, log })
}

/**
 * What Redis would lose, read at start: each risk is a warning naming its setting, or with
 * REDIS_REQUIRE_DURABLE=1 a refusal to start (as is a Redis that cannot be read or reached then).
 */
function checkPersistence(log: FastifyBaseLogger, config: Config, reading: PersistenceReading | undefined): void {
  const where = config.redisCluster ? `the Redis Cluster (${config.redisCluster.join(', ')})` : config.redisUrl
  if (!reading || 'unreadable' in reading) {
    const why = reading ? `CONFIG GET was refused (${reading.unreadable})` : 'Redis could not be reached'
    if (config.redisRequireDurable)
      throw new ConfigError(`REDIS_REQUIRE_DURABLE=1, but what ${where} keeps cannot be checked: ${why}`)
    log.warn(`Redis persistence not checked: ${why}; docs/scaling.md says what it must keep`)
    return
  }
  for (const risk of reading.risks)
    log.warn(
      { node: risk.node, setting: risk.setting, value: risk.value },
      `Redis ${risk.setting} is ${risk.value}: ${risk.loses} (set REDIS_REQUIRE_DURABLE=1 to refuse to start)`,
    )
  if (config.redisRequireDurable && reading.risks.length > 0)
    throw new ConfigError(
      `REDIS_REQUIRE_DURABLE=1, and ${where} would lose data: ` +
        reading.risks.map((risk) => `${risk.setting} is ${risk.value} on ${risk.node} (${risk.loses})`).join('; '),
    )
}
