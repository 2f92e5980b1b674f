import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { FileKeyStore, ManualClock, memoryBackend } from '@qr-login/core'
import { storeContract } from '../../helpers/contracts/store-contract.js'
import { keyStoreContract } from '../../helpers/contracts/key-store-contract.js'

storeContract(t, async () => {
  const clock = new ManualClock()
  const backend = memoryBackend({ clock })
  t.teardown(() => backend.close())
  return { stores: backend, ping: backend.ping, now: () => clock.now(), letTimePass: (ms) => clock.advance(ms) }
})

// STORE=memory keeps the signing keys in a private file, so apps' tokens outlive a restart.
t.test('key store (a file)', async (t) => {
  keyStoreContract(t, async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'qr-keys-')), 'oidc', 'keys.json')
    return { keys: new FileKeyStore(path), reopen: async () => new FileKeyStore(path) }
  })
})

t.test('closing the memory backend cancels every timer and forgets every entry', async (t) => {
  const clock = new ManualClock()
  const backend = memoryBackend({ clock })
  await backend.sessions.putSession(
    { tokenHash: 'x', kind: 'pc', username: 'a', createdAt: 0, expiresAt: 1 },
    clock.now() + 1000,
  )
  await backend.passkeys.putChallenge('confirm:x', 'c', clock.now() + 1000)
  t.equal(clock.pendingTimers, 2)
  await backend.close()
  t.equal(clock.pendingTimers, 0)
  t.same(backend.logins.stats(), { logins: 0, timers: 0 })
  t.same(backend.sessions.stats(), { sessions: 0, timers: 0 })
  t.same(backend.passkeys.stats(), { passkeys: 0, challenges: 0, timers: 0 })
})
