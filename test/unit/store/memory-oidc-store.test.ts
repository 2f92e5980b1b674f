import t from 'tap'
import { ManualClock, MemoryOidcArtefactStore } from '@qr-login/core'
import { oidcStoreContract } from '../../helpers/contracts/oidc-store-contract.js'

oidcStoreContract(t, async () => {
  const clock = new ManualClock(Date.now())
  const store = new MemoryOidcArtefactStore(clock)
  t.teardown(() => store.close())
  return { store, letTimePass: (ms) => clock.advance(ms) }
})

t.test('the memory OIDC store holds no timer once its artefacts are gone or it is closed', async (t) => {
  const clock = new ManualClock()
  const store = new MemoryOidcArtefactStore(clock)
  await store.upsert('Interaction', 'a', { jti: 'a' }, 10)
  await store.upsert('Interaction', 'b', { jti: 'b' }, 10)
  await store.destroy('Interaction', 'a')
  t.equal(clock.pendingTimers, 1)
  await store.close()
  t.equal(clock.pendingTimers, 0)
  t.same(store.stats(), { artefacts: 0, timers: 0 })
})
