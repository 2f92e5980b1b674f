import { LoginError, type Backend } from '@qr-login/core'

/**
 * A backend that can be made unreachable, as a Redis backend is when Redis is down: while `down`,
 * every call to its stores and its ping fails with STORE_UNAVAILABLE (stats and close still answer).
 * Proxies, so every method a store gains is switched too. The feed is left as it is: it carries what
 * was written, and with nothing written it has nothing to carry.
 */
export function switchableBackend(inner: Backend): Backend & { down: boolean } {
  const state = { down: false }
  const refuse = () => new LoginError('STORE_UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:6379')
  const switched = <T extends object>(store: T): T =>
    new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property) as unknown
        if (typeof value !== 'function') return value
        if (property === 'stats' || property === 'close') return value.bind(target)
        return async (...args: unknown[]) => {
          if (state.down) throw refuse()
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      },
    })
  return {
    name: inner.name,
    logins: switched(inner.logins),
    sessions: switched(inner.sessions),
    history: switched(inner.history),
    passkeys: switched(inner.passkeys),
    oidc: switched(inner.oidc),
    keys: switched(inner.keys),
    feed: inner.feed,
    ping: async () => {
      if (state.down) throw refuse()
      return inner.ping()
    },
    close: () => inner.close(),
    get down() {
      return state.down
    },
    set down(value: boolean) {
      state.down = value
    },
  }
}
