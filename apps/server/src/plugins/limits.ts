import fp from 'fastify-plugin'
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import type { RateLimitStorage } from '../backend.js'
import { HttpError } from '../errors.js'
import { WatcherCaps } from '../lib/watcher-caps.js'
import { presentedToken } from '../lib/request-auth.js'
import { cryptoSecrets } from '@qr-login/core'

declare module 'fastify' {
  interface FastifyInstance {
    limits: RequestLimits
  }
}

export interface RequestLimits {
  /** Route config for POST /api/qr: logins per IP per minute. */
  readonly createLoginRoute: { rateLimit: { max: number; timeWindow: number } }
  /** Counts one read of the login in the request's path (short or long poll) by this client; throws RATE_LIMITED past the allowance. */
  countPoll(request: FastifyRequest): Promise<void>
  /** Throws RATE_LIMITED while this IP or the account named in the body has used up its failed sign-ins. Counts nothing. */
  checkSignIn(request: FastifyRequest): Promise<void>
  recordSignInFailure(request: FastifyRequest): Promise<void>
  /** Throws RATE_LIMITED while this phone session or IP has used up its failed user-code look-ups. Counts nothing. */
  checkCodeLookup(request: FastifyRequest): Promise<void>
  recordCodeLookupFailure(request: FastifyRequest): Promise<void>
  /** A held watcher (SSE, WebSocket, long poll): throws RATE_LIMITED past a cap, else returns its release. */
  admitWatcher(loginId: string, ip: string): () => void
  /** Logins and client addresses holding watcher slots (both 0 when every watcher has gone). */
  watcherStats(): { logins: number; ips: number }
}

const watcherRetrySeconds = 5

/** A client as the limits see it: an IPv6 client is its /64, as it could rotate through all of it. */
const clientKey = (ip: string) => normalizeIP(ip, 64)

function rateLimited(message: string, ttlMs: number): HttpError {
  return new HttpError('RATE_LIMITED', message, Math.max(1, Math.ceil(ttlMs / 1000)))
}

/**
 * Rate limits and caps. Counters live in @fastify/rate-limit's store: in this
 * process on the embedded store, in Redis (shared by every instance) with
 * STORE=redis. Watcher caps count this instance's own open connections.
 */
export default fp<{ storage: RateLimitStorage }>(
  async function limits(app, options) {
    const { limits: settings, pollIntervalMs } = app.config
    await app.register(rateLimit, {
      global: false,
      ...options.storage,
      // A rate limiter must not turn a Redis hiccup into refusals of its own: the store answers 503 anyway.
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        rateLimited(`Too many requests, retry in ${context.after}`, context.ttl),
    })

    const pollWindowMs = pollIntervalMs * 10
    const pollLimiter = app.createRateLimit({
      max: settings.pollsPerInterval * 10,
      timeWindow: pollWindowMs,
      keyGenerator: (request) => `poll:${(request.params as { id: string }).id}:${clientKey(request.ip)}`,
    })
    /**
     * Limits that count failures only: `check` peeks (a client that used them up is refused before
     * anything is tried), `record` counts one failure against every key.
     */
    const failureLimit = (
      what: string,
      windowSeconds: number,
      rules: { max: number; key: (request: FastifyRequest) => string; who: string }[],
    ) => {
      const limiters = rules.map((rule) => ({
        who: rule.who,
        limiter: app.createRateLimit({ max: rule.max, timeWindow: windowSeconds * 1000, keyGenerator: rule.key }),
      }))
      return {
        async check(request: FastifyRequest) {
          for (const { limiter, who } of limiters) {
            const state = await limiter(request, { increment: false })
            // A peek reports the failures so far: the limit is reached once they equal max.
            if (!state.isAllowed && state.remaining === 0) {
              throw rateLimited(`Too many failed ${what} ${who}; try again later`, state.ttl)
            }
          }
        },
        async record(request: FastifyRequest) {
          await Promise.all(limiters.map(({ limiter }) => limiter(request)))
        },
      }
    }
    const usernameOf = (request: FastifyRequest) =>
      String((request.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase()
    const signIns = failureLimit('sign-ins', settings.signInWindowSeconds, [
      {
        max: settings.signInFailuresPerIp,
        key: (request) => `signin-ip:${clientKey(request.ip)}`,
        who: 'from this address',
      },
      {
        max: settings.signInFailuresPerAccount,
        key: (request) => `signin-account:${usernameOf(request)}`,
        who: 'for this account',
      },
    ])
    // Per phone session: the hash of its token, so the counter key reveals nothing.
    const sessionOf = (request: FastifyRequest) => cryptoSecrets.hash(presentedToken(request, 'm_session').token ?? '')
    const codeLookups = failureLimit('code look-ups', settings.codeLookupWindowSeconds, [
      {
        max: settings.codeLookupFailuresPerSession,
        key: (request) => `code-session:${sessionOf(request)}`,
        who: 'from this phone',
      },
      {
        max: settings.codeLookupFailuresPerIp,
        key: (request) => `code-ip:${clientKey(request.ip)}`,
        who: 'from this address',
      },
    ])
    const caps = new WatcherCaps(settings.watchersPerLogin, settings.watchersPerIp)

    const requestLimits: RequestLimits = {
      createLoginRoute: { rateLimit: { max: settings.createPerMinute, timeWindow: 60_000 } },

      async countPoll(request) {
        const state = await pollLimiter(request)
        if (!state.isAllowed && state.isExceeded) {
          throw rateLimited(`Poll this login at most every ${pollIntervalMs} ms`, state.ttl)
        }
      },

      checkSignIn: signIns.check,
      recordSignInFailure: signIns.record,
      checkCodeLookup: codeLookups.check,
      recordCodeLookupFailure: codeLookups.record,

      admitWatcher(loginId, ip) {
        const admitted = caps.admit(loginId, clientKey(ip))
        if (typeof admitted === 'string') throw new HttpError('RATE_LIMITED', admitted, watcherRetrySeconds)
        return admitted
      },

      watcherStats: () => caps.size,
    }
    app.decorate('limits', requestLimits)
  },
  { name: 'limits', dependencies: ['services'] },
)
