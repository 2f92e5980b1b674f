import t from 'tap'
import { ManualClock, MemoryPasskeyStore } from '@qr-login/core'
import { passkeyStoreContract } from '../../helpers/contracts/passkey-store-contract.js'

passkeyStoreContract(t, async () => {
  const clock = new ManualClock()
  const store = new MemoryPasskeyStore(clock)
  t.teardown(() => store.close())
  return { store, now: () => clock.now(), letTimePass: (ms) => clock.advance(ms) }
})

t.test('closing the memory passkey store cancels every timer and forgets everything', async (t) => {
  const clock = new ManualClock()
  const store = new MemoryPasskeyStore(clock)
  await store.putChallenge('a', 'challenge', clock.now() + 1000)
  t.equal(clock.pendingTimers, 1)
  await store.close()
  t.equal(clock.pendingTimers, 0)
  t.same(store.stats(), { passkeys: 0, challenges: 0, timers: 0 })
})
