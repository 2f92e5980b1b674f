import { LoginError, type Backend } from '@qr-login/core'

/**
 * A backend that can be made unreachable, as a Redis backend is when Redis is down: while `down`,
 * every call to its stores and its ping fails with STORE_UNAVAILABLE (stats and close still answer).
 * Proxies, so every method a store gains is switched too. The feed is left as it is: it carries what
 * was written, and with nothing written it has nothing to carry.
 */
export type BackendPart = 'logins' | 'sessions' | 'history' | 'passkeys' | 'oidc' | 'keys'

/**
 * `down` takes every part away; `downParts` only those named (a cluster master away holds some keys,
 * not all: a phone's session may answer while the user codes do not).
 */
export function switchableBackend(inner: Backend): Backend & { down: boolean; downParts: Set<BackendPart> } {
  const state = { down: false, parts: new Set<BackendPart>() }
  const refuse = () => new LoginError('STORE_UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:6379')
  const switched = <T extends object>(store: T, part: BackendPart): T =>
    new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property) as unknown
        if (typeof value !== 'function') return value
        if (property === 'stats' || property === 'close') return value.bind(target)
        return async (...args: unknown[]) => {
          if (state.down || state.parts.has(part)) throw refuse()
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      },
    })
  return {
    name: inner.name,
    logins: switched(inner.logins, 'logins'),
    sessions: switched(inner.sessions, 'sessions'),
    history: switched(inner.history, 'history'),
    passkeys: switched(inner.passkeys, 'passkeys'),
    oidc: switched(inner.oidc, 'oidc'),
    keys: switched(inner.keys, 'keys'),
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
    downParts: state.parts,
  }
}
