import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import cookie from '@fastify/cookie'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  LoginService,
  MemoryChangeFeed,
  MemoryLoginStore,
  MemoryPasskeyStore,
  MemoryOidcArtefactStore,
  createDemoAccounts,
  createFileAccounts,
  cryptoSecrets,
  systemClock,
  type Clock,
  type ChangeFeed,
  type LoginStore,
  type PasskeyStore,
  type OidcArtefactStore,
  type Secrets,
  toStatusView,
  isLoginError,
} from '@qr-login/core'
import {
  DatabaseRefused,
  SqliteDatabase,
  SqliteLoginStore,
  SqliteOidcArtefactStore,
  SqlitePasskeyStore,
} from '@qr-login/sqlite'
import { readPersistence, redisBackend, type PersistenceReading, type RedisClient } from '@qr-login/redis'
import type { Config } from './config.js'
import { ConfigError } from './config-error.js'
import { deferredChildLogger } from './logging.js'
import { HttpError, toErrorBody } from './errors.js'
import { LiveConnections } from './lib/live-connections.js'
import { tlsMaterial, type TlsMaterial } from './lib/tls.js'
import errorHandling from './plugins/error-handling.js'
import shutdown from './plugins/shutdown.js'
import healthRoutes from './routes/health.js'
import security from './plugins/security.js'
import validation from './plugins/validation.js'
import docs from './plugins/docs.js'
import limits from './plugins/limits.js'
import upgrades from './plugins/upgrades.js'
import connections from './plugins/connections.js'
import metricsRoute, { createMetrics } from './plugins/metrics.js'
import { WatchStreams } from './lib/watch-stream.js'
import { Passkeys } from './lib/passkeys.js'
import { OidcService } from './oidc/service.js'
import oidcRoutes from './routes/oidc.js'
import pcRoutes from './routes/pc.js'
import { watchTransports, type WatchTransportName } from './transports/index.js'
import phoneRoutes from './routes/phone.js'
import passkeyRoutes from './routes/passkeys.js'
import pageRoutes from './routes/pages.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    logins: LoginService
    live: LiveConnections<WatchTransportName>
    watchStreams: WatchStreams
    passkeys: Passkeys
    oidc: OidcService
  }
}

/** Ports a test or a deployment may replace; everything else comes from the config. */
export interface AppOverrides {
  store?: LoginStore
  passkeyStore?: PasskeyStore
  oidcStore?: OidcArtefactStore
  feed?: ChangeFeed
  clock?: Clock
  secrets?: Secrets
}

export type App = FastifyInstance

/** STORE=memory: one process holds everything. STORE=redis: every instance shares logins, sessions and changes. */
async function storage(
  app: FastifyInstance,
  config: Config,
  clock: Clock,
  overrides: AppOverrides,
): Promise<{
  store: LoginStore
  passkeyStore: PasskeyStore
  oidcStore: OidcArtefactStore
  feed: ChangeFeed
  redis?: RedisClient
}> {
  if (config.store === 'sqlite' && !(overrides.store && overrides.feed))
    return sqliteStorage(app, config, clock, overrides)
  if (config.store === 'memory' || (overrides.store && overrides.feed)) {
    return {
      store: overrides.store ?? new MemoryLoginStore(clock),
      passkeyStore: overrides.passkeyStore ?? new MemoryPasskeyStore(clock),
      oidcStore: overrides.oidcStore ?? new MemoryOidcArtefactStore(clock),
      feed: overrides.feed ?? inProcessFeed(app),
    }
  }
  let shortfallReportedAt = -Infinity
  const backend = redisBackend({
    target: config.redisCluster ? { cluster: config.redisCluster } : { url: config.redisUrl },
    prefix: config.redisPrefix,
    clock,
    liveIndex: config.redisLiveIndex,
    durability: {
      ...config.redisWait,
      // A master without its replica (one failed over, until a new replica joins) falls short on every write:
      // say so once every 10 s, not once a write.
      onShortfall: (acknowledged, wanted) => {
        const now = clock.now()
        if (now - shortfallReportedAt < 10_000) return
        shortfallReportedAt = now
        app.log.warn({ acknowledged, wanted }, 'writes reach fewer Redis replicas than REDIS_WAIT_REPLICAS')
      },
    },
    reload: (store) => async (id) => {
      const record = await store.get(id)
      return record && toStatusView(record)
    },
    onError: (error, context) => app.log.warn({ err: error, context }, 'redis'),
  })
  // Start even if Redis is away: requests answer 503 until it is back, then everything resumes by itself.
  const reachable = await backend.connected.then(
    () => true,
    (error: unknown) => {
      app.log.error({ err: error }, 'Redis is not reachable yet; answering 503 until it is')
      return false
    },
  )
  try {
    await checkPersistence(app, config, reachable ? await readPersistence(backend.commands) : undefined)
  } catch (error) {
    // Refused to start: nothing may keep the process alive after it says why.
    backend.commands.disconnect()
    backend.subscriber.disconnect()
    throw error
  }
  return {
    store: overrides.store ?? backend.store,
    passkeyStore: overrides.passkeyStore ?? backend.passkeys,
    oidcStore: overrides.oidcStore ?? backend.oidc,
    feed: overrides.feed ?? backend.feed,
    redis: backend.commands,
  }
}

/** Status changes for watchers of this process only (STORE=memory and sqlite: one process). */
function inProcessFeed(app: FastifyInstance): ChangeFeed {
  return new MemoryChangeFeed((error) => app.log.error({ err: error }, 'status listener failed'))
}

/**
 * STORE=sqlite: one database file in DATA_DIR holds logins, sessions, history, passkeys and the OpenID
 * provider's artefacts; status changes stay in this process (one process: WORKERS is refused). A
 * DATA_DIR or file that cannot be used stops the start, naming the path.
 */
function sqliteStorage(app: FastifyInstance, config: Config, clock: Clock, overrides: AppOverrides) {
  const path = join(config.dataDir, 'qr-login.db')
  let database: SqliteDatabase
  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
    database = new SqliteDatabase(path, clock)
  } catch (error) {
    const reason = error instanceof DatabaseRefused ? error.message : `${path}: ${(error as Error).message}`
    throw new ConfigError(`DATA_DIR ${config.dataDir} cannot hold the database: ${reason}`)
  }
  app.addHook('onClose', async () => database.close())
  return {
    store: overrides.store ?? new SqliteLoginStore(database, clock),
    passkeyStore: overrides.passkeyStore ?? new SqlitePasskeyStore(database, clock),
    oidcStore: overrides.oidcStore ?? new SqliteOidcArtefactStore(database, clock),
    feed: overrides.feed ?? inProcessFeed(app),
  }
}

/**
 * What Redis would lose, read at start: each risk is a warning naming its setting, or with
 * REDIS_REQUIRE_DURABLE=1 a refusal to start (as is a Redis that cannot be read or reached then).
 */
async function checkPersistence(app: FastifyInstance, config: Config, reading: PersistenceReading | undefined) {
  const where = config.redisCluster ? `the Redis Cluster (${config.redisCluster.join(', ')})` : config.redisUrl
  if (!reading || 'unreadable' in reading) {
    const why = reading ? `CONFIG GET was refused (${reading.unreadable})` : 'Redis could not be reached'
    if (config.redisRequireDurable)
      throw new ConfigError(`REDIS_REQUIRE_DURABLE=1, but what ${where} keeps cannot be checked: ${why}`)
    app.log.warn(`Redis persistence not checked: ${why}; docs/scaling.md says what it must keep`)
    return
  }
  for (const risk of reading.risks)
    app.log.warn(
      { node: risk.node, setting: risk.setting, value: risk.value },
      `Redis ${risk.setting} is ${risk.value}: ${risk.loses} (set REDIS_REQUIRE_DURABLE=1 to refuse to start)`,
    )
  if (config.redisRequireDurable && reading.risks.length > 0)
    throw new ConfigError(
      `REDIS_REQUIRE_DURABLE=1, and ${where} would lose data: ` +
        reading.risks.map((risk) => `${risk.setting} is ${risk.value} on ${risk.node} (${risk.loses})`).join('; '),
    )
}

/** Options that Fastify only takes at construction; process concerns (logger) come from the caller. */
export function serverOptions(
  config: Config,
  logger: FastifyServerOptions['logger'] = false,
  tls?: TlsMaterial,
): FastifyServerOptions {
  const connectionsCheckingInterval = Math.min(1000, config.limits.headersTimeoutMs / 2)
  return {
    // Node checks header and request timeouts every 30 s by default: a slow client could outstay its timeout by that much.
    ...(tls ? { https: { ...tls, connectionsCheckingInterval } } : { http: { connectionsCheckingInterval } }),
    logger,
    childLoggerFactory: deferredChildLogger,
    // The contract answers 400 to a malformed id of any length, so ids longer than the default 100 must reach validation.
    routerOptions: { maxParamLength: 2048 },
    bodyLimit: config.bodyLimitBytes,
    // Fastify also takes a hop count, which its types do not list.
    trustProxy: config.trustProxy as boolean | string[],
    requestTimeout: config.limits.requestTimeoutMs,
    connectionTimeout: config.limits.idleTimeoutMs,
    keepAliveTimeout: config.limits.keepAliveTimeoutMs,
    // Answered by plugins/shutdown.ts instead: 503 SHUTTING_DOWN in the contract's error shape.
    return503OnClosing: false,
    // URLs the router itself refuses (bad percent-encoding, a segment over maxParamLength): the contract's 400, in its shape.
    frameworkErrors: (error, request, reply) => {
      const problem =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is too long' : 'the URL is not validly encoded'
      const body = toErrorBody(new HttpError('VALIDATION_ERROR', `Malformed request path: ${problem}`))
      request.log.info({ code: error.code }, 'request refused by the router')
      void (reply as FastifyReply)
        .code(body.statusCode)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .send(body)
    },
    forceCloseConnections: 'idle',
  }
}

/** Builds the whole service as a plugin tree. Never listens: server.ts and the tests decide that. */
export async function buildApp(
  config: Config,
  overrides: AppOverrides = {},
  logger?: FastifyServerOptions['logger'],
): Promise<App> {
  const app = Fastify(serverOptions(config, logger, await tlsMaterial(config))).withTypeProvider<TypeBoxTypeProvider>()
  const clock = overrides.clock ?? systemClock
  // A client that trickles its headers (slowloris) is cut off; Node's default waits a minute.
  app.server.headersTimeout = config.limits.headersTimeoutMs
  const { store, passkeyStore, oidcStore, feed, redis } = await storage(app, config, clock, overrides)
  const live = new LiveConnections(
    watchTransports.map(({ name, heartbeatMs }) => ({ kind: name, heartbeatMs: heartbeatMs?.(config) })),
  )
  const metrics = createMetrics(
    () => Object.fromEntries(watchTransports.map(({ name }) => [name, live.count(name)])),
    () => feed.stats().messages ?? 0,
  )
  const logins = new LoginService({
    store,
    feed,
    clock,
    secrets: overrides.secrets ?? cryptoSecrets,
    accounts: config.users ? createFileAccounts(config.users) : createDemoAccounts(config.demoAccounts),
    settings: {
      qrTtlMs: config.qrTtlSeconds * 1000,
      confirmWindowMs: config.confirmWindowSeconds * 1000,
      exchangeWindowMs: config.exchangeWindowSeconds * 1000,
      retentionMs: config.retentionSeconds * 1000,
      sessionTtlMs: config.sessionTtlSeconds * 1000,
      maxLiveLogins: config.limits.liveLogins,
      matchCode: config.matchCode,
      historyRetentionMs: config.historyRetentionSeconds * 1000,
      requirePasskey: config.passkeys.required,
    },
    onBackgroundError: (error, context) => {
      if (isLoginError(error, 'STORE_UNAVAILABLE')) metrics.storeError()
      app.log.error({ err: error, context }, 'background task failed')
    },
    onTransition: (status) => metrics.transition(status),
  })

  app.decorate('config', config)
  app.decorate('logins', logins)
  app.decorate('live', live)
  app.decorate('metrics', metrics)
  app.decorate('passkeys', new Passkeys({ store: passkeyStore, clock, config: config.passkeys }))
  app.decorate(
    'oidc',
    new OidcService({ config, logins, store: oidcStore, redis, redisKeysKey: `${config.redisPrefix}oidc-keys` }),
  )

  // Streams and long polls would keep close() waiting; end them first, telling clients to reconnect.
  app.addHook('preClose', async () => live.shutdown())
  app.addHook('onClose', async () => {
    await logins.close()
    await app.passkeys.close()
    await app.oidc.close()
    // The connection is the store's to close, unless a replacement store was given (tests): then it is still ours.
    redis?.disconnect()
  })

  await app.register(errorHandling)
  await app.register(shutdown)
  await app.register(validation)
  await app.register(security)
  await app.register(cookie)
  await app.register(upgrades)
  await app.register(connections)
  await app.register(docs)
  await app.register(limits, { redis })
  app.decorate(
    'watchStreams',
    new WatchStreams({ logins, live, clock, admit: app.limits.admitWatcher, delivered: metrics.delivered }),
  )
  await app.register(metricsRoute)
  await app.register(healthRoutes)
  await app.register(pcRoutes)
  for (const transport of watchTransports) await app.register(transport.plugin)
  await app.register(phoneRoutes)
  await app.register(passkeyRoutes)
  await app.register(pageRoutes)
  await app.register(oidcRoutes)
  return app
}
