import type { LoginStore } from '@qr-login/core'

/**
 * A store whose reads can be held: the test learns when a read arrived, does
 * something while it waits (drops the client), then lets it answer. Puts the
 * moment "during the store round trip" under the test's control, whatever
 * the store's real latency.
 */
export function gatedStore(inner: LoginStore) {
  let holding = false
  let arrived: (() => void) | undefined
  const held: (() => void)[] = []
  const get: LoginStore['get'] = async (id) => {
    if (holding) {
      arrived?.()
      await new Promise<void>((resolve) => held.push(resolve))
    }
    return inner.get(id)
  }
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === 'get') return get
      const value = Reflect.get(target, property) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {
    store,
    /** Holds the next reads; resolves once one has arrived. */
    hold(): Promise<void> {
      holding = true
      return new Promise((resolve) => (arrived = resolve))
    },
    release(): void {
      holding = false
      arrived = undefined
      for (const resolve of held.splice(0)) resolve()
    },
  }
}
