import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import cookie from '@fastify/cookie'
import accepts from '@fastify/accepts'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import { deferredChildLogger } from './logging.js'
import { HttpError, toErrorBody } from './errors.js'
import { tlsMaterial, type TlsMaterial } from './lib/tls.js'
import { trustRule } from './lib/client-address.js'
import services, { type AppOverrides } from './plugins/services.js'
import errorHandling from './plugins/error-handling.js'
import shutdown from './plugins/shutdown.js'
import security from './plugins/security.js'
import validation from './plugins/validation.js'
import docs from './plugins/docs.js'
import limits from './plugins/limits.js'
import upgrades from './plugins/upgrades.js'
import connections from './plugins/connections.js'
import watchStreams from './plugins/watch-streams.js'
import metricsRoute from './plugins/metrics.js'
import healthRoutes from './routes/health.js'
import pcRoutes from './routes/pc.js'
import phoneRoutes from './routes/phone.js'
import passkeyRoutes from './routes/passkeys.js'
import pageRoutes from './routes/pages.js'
import oidcRoutes from './routes/oidc.js'
import { watchTransports } from './transports/index.js'

export type { AppOverrides } from './plugins/services.js'

export type App = FastifyInstance

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
  // A client that trickles its headers (slowloris) is cut off; Node's default waits a minute.
  app.server.headersTimeout = config.limits.headersTimeoutMs
  // Each plugin names what it needs (fastify-plugin's dependencies): a list in the wrong
  // order stops here, at start, naming the plugin, instead of a decorator being undefined on a request.
  await app.register(services, { config, overrides })
  for (const plugin of [errorHandling, shutdown, validation, security, cookie, accepts, upgrades, connections, docs])
    await app.register(plugin)
  await app.register(limits, { storage: app.backend.rateLimits })
  await app.register(watchStreams)
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
