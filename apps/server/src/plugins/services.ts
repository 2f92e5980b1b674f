import fp from 'fastify-plugin'
import {
  LoginService,
  createDemoAccounts,
  createFileAccounts,
  cryptoSecrets,
  systemClock,
  isLoginError,
  type Backend,
  type Clock,
  type Secrets,
} from '@qr-login/core'
import { inProcessRateLimits, openBackend, type BackendParts, type ServiceBackend } from '../backend.js'
import type { Config } from '../config.js'
import { LiveConnections } from '../lib/live-connections.js'
import { networkTest } from '../lib/network.js'
import { Passkeys } from '../lib/passkeys.js'
import { OidcService } from '../oidc/service.js'
import { AppLogos } from '../oidc/logos.js'
import { watchTransports, type WatchTransportName } from '../transports/index.js'
import { createMetrics, type Metrics } from './metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    clock: Clock
    backend: ServiceBackend
    logins: LoginService
    live: LiveConnections<WatchTransportName>
    metrics: Metrics
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

/**
 * The composition root of the service's parts: each made here once, from the config and the overrides,
 * handed to the routes as a decorator, and ended here in the reverse order (live watches before close()
 * waits on them, then the expiry timers, then the store they write to). Nothing else closes what it was given.
 */
export default fp<{ config: Config; overrides: AppOverrides }>(
  async function services(app, { config, overrides }) {
    const clock = overrides.clock ?? systemClock
    const opened: ServiceBackend = overrides.backend
      ? { ...overrides.backend, rateLimits: inProcessRateLimits }
      : await openBackend(config, clock, app.log)
    const backend: ServiceBackend = { ...opened, ...overrides.stores }
    const { feed } = backend
    const live = new LiveConnections(
      clock,
      watchTransports.map(({ name, heartbeatMs }) => ({ kind: name, heartbeatMs: heartbeatMs?.(config) })),
    )
    const metrics = createMetrics({
      clock,
      watchers: () => Object.fromEntries(watchTransports.map(({ name }) => [name, live.count(name)])),
      messagesHeard: () => feed.stats().messages ?? 0,
    })
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
    const passkeys = new Passkeys({ store: backend.passkeys, clock, config: config.passkeys })
    const appLogos = new AppLogos(config.oidc.clients, app.log)
    const oidc = new OidcService({
      config,
      clock,
      logins,
      store: backend.oidc,
      keys: backend.keys,
      passkeys,
      logos: appLogos,
    })

    app.decorate('config', config)
    app.decorate('clock', clock)
    app.decorate('backend', backend)
    app.decorate('logins', logins)
    app.decorate('live', live)
    app.decorate('metrics', metrics)
    app.decorate('passkeys', passkeys)
    app.decorate('appLogos', appLogos)
    app.decorate('oidc', oidc)

    // Streams and long polls would keep close() waiting; end them first, telling clients to reconnect.
    app.addHook('preClose', async () => live.shutdown())
    app.addHook('onClose', async () => {
      logins.close()
      await backend.close()
    })
  },
  { name: 'services', fastify: '5.x' },
)
