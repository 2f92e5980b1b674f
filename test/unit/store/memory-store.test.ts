import t from 'tap'
import { ManualClock, MemoryLoginStore } from '@qr-login/core'
import { storeContract } from '../../helpers/contracts/store-contract.js'

storeContract(t, async () => {
  const clock = new ManualClock()
  const store = new MemoryLoginStore(clock)
  t.teardown(() => store.close())
  return { store, now: () => clock.now(), letTimePass: (ms) => clock.advance(ms) }
})

t.test('closing the memory store cancels every timer', async (t) => {
  const clock = new ManualClock()
  const store = new MemoryLoginStore(clock)
  await store.putSession({ tokenHash: 'x', kind: 'pc', username: 'a', createdAt: 0, expiresAt: 1 }, clock.now() + 1000)
  t.equal(clock.pendingTimers, 1)
  await store.close()
  t.equal(clock.pendingTimers, 0)
  t.same(store.stats(), { logins: 0, sessions: 0, timers: 0 })
})
