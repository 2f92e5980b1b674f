import { LoginError, type LoginStore } from '@qr-login/core'

/**
 * A store that can be made unreachable, as a Redis store is when Redis is down: while `down`,
 * every call but stats() and close() fails with STORE_UNAVAILABLE. A proxy, so every method a
 * store gains is switched too.
 */
export function switchableStore(inner: LoginStore): LoginStore & { down: boolean } {
  const state = { down: false }
  const alwaysAnswered = new Set<PropertyKey>(['stats', 'close'])
  return new Proxy(inner as LoginStore & { down: boolean }, {
    get(target, property) {
      if (property === 'down') return state.down
      const value = Reflect.get(target, property) as unknown
      if (typeof value !== 'function') return value
      if (alwaysAnswered.has(property)) return value.bind(target)
      return async (...args: unknown[]) => {
        if (state.down) throw new LoginError('STORE_UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:6379')
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
    set(_target, property, value) {
      if (property !== 'down') return false
      state.down = Boolean(value)
      return true
    },
  })
}
