import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Clock, LoginStatusView } from '@qr-login/core'

export interface Metrics {
  registry: Registry
  /** A status handed to a client: observe how long after the change it left. */
  delivered(transport: string, changedAt: number | undefined): void
  transition(status: LoginStatusView): void
  storeError(): void
  /** A request refused with a 4xx: rate limits, caps, binding and origin refusals show up here first under attack. */
  refused(code: string): void
}

/** Prometheus metrics at /metrics: logins by final state, watchers by transport, change → delivery delay, store errors, process. */
export function createMetrics({
  clock,
  watchers,
  messagesHeard = () => 0,
}: {
  /** The service's clock: a change's time was read from it, so its delivery delay is too. */
  clock: Clock
  watchers: () => Record<string, number>
  /** Status messages this instance's change feed has heard from Redis (none on the embedded store). */
  messagesHeard?: () => number
}): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 })
  const created = new Counter({
    name: 'qr_logins_created_total',
    help: 'QR logins created on this instance',
    registers: [registry],
  })
  const finished = new Counter({
    name: 'qr_logins_finished_total',
    help: 'QR logins that reached a final state on this instance, by state',
    labelNames: ['state'],
    registers: [registry],
  })
  for (const state of ['consumed', 'cancelled', 'expired']) finished.inc({ state }, 0)
  const confirmed = new Counter({
    name: 'qr_logins_confirmed_total',
    help: 'QR logins confirmed on this instance',
    registers: [registry],
  })
  new Gauge({
    name: 'qr_watchers',
    help: 'Open watch connections on this instance, by transport',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      for (const [transport, count] of Object.entries(watchers())) this.set({ transport }, count)
    },
  })
  new Gauge({
    name: 'qr_status_messages_heard',
    help: 'Status-change messages this instance has received from Redis pub/sub since it started: with one Redis every instance hears every change, on a cluster only those watching the login',
    registers: [registry],
    collect() {
      this.set(messagesHeard())
    },
  })
  const delay = new Histogram({
    name: 'qr_notify_delay_seconds',
    help: 'From a status change being written to its delivery to a watcher, by transport',
    labelNames: ['transport'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const storeErrors = new Counter({
    name: 'qr_store_errors_total',
    help: 'Store operations that failed (answered 503)',
    registers: [registry],
  })
  const refusals = new Counter({
    name: 'qr_refusals_total',
    help: 'Requests refused with a 4xx, by error code (RATE_LIMITED, WATCH_TOKEN_INVALID, ORIGIN_REJECTED...)',
    labelNames: ['code'],
    registers: [registry],
  })
  // One child per transport, made on first use: observing through labels hashes them on every delivery.
  const delayOf = new Map<string, { observe(seconds: number): void }>()
  return {
    registry,
    delivered(transport, changedAt) {
      if (changedAt === undefined) return
      let observer = delayOf.get(transport)
      if (!observer) delayOf.set(transport, (observer = delay.labels({ transport })))
      observer.observe(Math.max(0, clock.now() - changedAt) / 1000)
    },
    transition(status) {
      if (status.version === 1) created.inc()
      if (status.status === 'confirmed') confirmed.inc()
      if (status.status === 'consumed' || status.status === 'cancelled' || status.status === 'expired')
        finished.inc({ state: status.status })
    },
    storeError: () => storeErrors.inc(),
    refused: (code) => refusals.inc({ code }),
  }
}

/** GET /metrics: the registry the services plugin made. */
export default fp(
  async function metricsRoute(app) {
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      return reply
        .type(app.metrics.registry.contentType)
        .header('cache-control', 'no-store')
        .send(await app.metrics.registry.metrics())
    })
  },
  { name: 'metrics-route', dependencies: ['services'] },
)
