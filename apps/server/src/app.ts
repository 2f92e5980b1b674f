import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import cookie from '@fastify/cookie'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  LoginService,
  createDemoAccounts,
  createFileAccounts,
  cryptoSecrets,
  systemClock,
  type Backend,
  type Clock,
  type Secrets,
  isLoginError,
} from '@qr-login/core'
import { inProcessRateLimits, openBackend, type BackendParts, type ServiceBackend } from './backend.js'
import type { Config } from './config.js'
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
import { AppLogos } from './oidc/logos.js'
import oidcRoutes from './routes/oidc.js'
import pcRoutes from './routes/pc.js'
import { watchTransports, type WatchTransportName } from './transports/index.js'
import phoneRoutes from './routes/phone.js'
import passkeyRoutes from './routes/passkeys.js'
import pageRoutes from './routes/pages.js'
import { trustRule } from './lib/client-address.js'
import { networkTest } from './lib/network.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    backend: ServiceBackend
    logins: LoginService
    live: LiveConnections<WatchTransportName>
    watchStreams: WatchStreams
    passkeys: Passkeys
    oidc: OidcService
    appLogos: AppLogos
  }
}

/** Ports a test or a deployment may replace; everything else comes from the config. */
export interface AppOverrides {
  /** Used instead of the one STORE names; the app closes it as its own. */
  backend?: Backend
  /** Parts of the backend swapped for these (a store a test holds up or takes away); the caller owns them. */
  stores?: BackendParts
  clock?: Clock
  secrets?: Secrets
}

export type App = FastifyInstance

/** The backend STORE names (or the one given), with any parts a test swapped in. */
async function backendFor(app: FastifyInstance, config: Config, clock: Clock, overrides: AppOverrides) {
  const opened: ServiceBackend = overrides.backend
    ? { ...overrides.backend, rateLimits: inProcessRateLimits }
    : await openBackend(config, clock, app.log)
  return { ...opened, ...overrides.stores }
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
    // One rule for every part of the service (lib/client-address.ts): Fastify's own reading of a bare hop count differs.
    trustProxy: config.trustProxy === false ? false : trustRule(config.trustProxy),
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
  const backend = await backendFor(app, config, clock, overrides)
  const { feed } = backend
  const live = new LiveConnections(
    watchTransports.map(({ name, heartbeatMs }) => ({ kind: name, heartbeatMs: heartbeatMs?.(config) })),
  )
  const metrics = createMetrics(
    () => Object.fromEntries(watchTransports.map(({ name }) => [name, live.count(name)])),
    () => feed.stats().messages ?? 0,
  )
  const logins = new LoginService({
    stores: backend,
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
      ...(config.network.requireSame ? { requireSameNetwork: networkTest(config.network) } : {}),
    },
    onBackgroundError: (error, context) => {
      if (isLoginError(error, 'STORE_UNAVAILABLE')) metrics.storeError()
      app.log.error({ err: error, context }, 'background task failed')
    },
    onTransition: (status) => metrics.transition(status),
  })

  app.decorate('config', config)
  app.decorate('backend', backend)
  app.decorate('logins', logins)
  app.decorate('live', live)
  app.decorate('metrics', metrics)
  const passkeys = new Passkeys({ store: backend.passkeys, clock, config: config.passkeys })
  app.decorate('passkeys', passkeys)
  const appLogos = new AppLogos(config.oidc.clients, app.log)
  app.decorate('appLogos', appLogos)
  app.decorate(
    'oidc',
    new OidcService({ config, logins, store: backend.oidc, keys: backend.keys, passkeys, logos: appLogos }),
  )

  // Streams and long polls would keep close() waiting; end them first, telling clients to reconnect.
  app.addHook('preClose', async () => live.shutdown())
  app.addHook('onClose', async () => {
    logins.close()
    await backend.close()
  })

  await app.register(errorHandling)
  await app.register(shutdown)
  await app.register(validation)
  await app.register(security)
  await app.register(cookie)
  await app.register(upgrades)
  await app.register(connections)
  await app.register(docs)
  await app.register(limits, { storage: backend.rateLimits })
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
