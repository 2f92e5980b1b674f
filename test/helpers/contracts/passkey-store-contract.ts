import type { Test } from 'tap'
import type { PasskeyStore, StoredPasskey } from '@qr-login/core'

/** What every PasskeyStore must do. Run by one test file per store. */
export interface PasskeyStoreUnderTest {
  store: PasskeyStore
  now(): number
  /** Moves time past `ms` so challenges whose keepUntil has passed are gone. */
  letTimePass(ms: number): Promise<void>
}

let counter = 0
const unique = (label: string) => `${label}-${process.pid}-${counter++}`

function passkey(overrides: Partial<StoredPasskey> = {}): StoredPasskey {
  return {
    id: unique('credential'),
    publicKey: 'pQECAyYgASFYIA',
    counter: 0,
    transports: ['internal'],
    rpId: 'localhost',
    deviceType: 'singleDevice',
    backedUp: false,
    label: 'Chrome 131 on Android 14',
    createdAt: 1_000 + counter,
    ...overrides,
  }
}

export function passkeyStoreContract(t: Test, open: () => Promise<PasskeyStoreUnderTest>) {
  t.test('a passkey is listed as added, oldest first, for its user only', async (t) => {
    const { store } = await open()
    const alice = unique('alice')
    const first = passkey({ createdAt: 1 })
    // Transports are optional: a passkey without them comes back without them.
    const { transports: _none, ...second } = passkey({ createdAt: 2 })
    t.equal(await store.addPasskey(alice, second, 10), 'added')
    t.equal(await store.addPasskey(alice, first, 10), 'added')
    t.same(await store.listPasskeys(alice), [first, second])
    t.same(await store.listPasskeys(unique('bob')), [])
  })

  t.test('a credential id is registered once, across every user', async (t) => {
    const { store } = await open()
    const alice = unique('alice')
    const bob = unique('bob')
    const shared = passkey()
    t.equal(await store.addPasskey(alice, shared, 10), 'added')
    t.equal(await store.addPasskey(bob, { ...shared, label: 'stolen' }, 10), 'taken')
    t.equal(await store.addPasskey(alice, { ...shared, label: 'again' }, 10), 'taken')
    t.same(await store.listPasskeys(bob), [])
    t.same(
      (await store.listPasskeys(alice)).map((each) => each.label),
      [shared.label],
      'the first stays as it was',
    )
  })

  t.test('a user holds at most maxPerUser; a refused id stays free for later', async (t) => {
    const { store } = await open()
    const alice = unique('alice')
    t.equal(await store.addPasskey(alice, passkey(), 2), 'added')
    t.equal(await store.addPasskey(alice, passkey(), 2), 'added')
    const third = passkey()
    t.equal(await store.addPasskey(alice, third, 2), 'full')
    t.equal((await store.listPasskeys(alice)).length, 2)
    t.equal(await store.addPasskey(unique('bob'), third, 2), 'added', 'the id was not kept by the refused add')
  })

  t.test('a use records the counter and the time; a removed passkey records nothing', async (t) => {
    const { store } = await open()
    const alice = unique('alice')
    const key = passkey()
    await store.addPasskey(alice, key, 10)
    t.equal(await store.recordPasskeyUse(alice, key.id, 7, 5_000), true)
    t.match(await store.listPasskeys(alice), [{ id: key.id, counter: 7, lastUsedAt: 5_000, label: key.label }])
    t.equal(await store.recordPasskeyUse(unique('bob'), key.id, 8, 6_000), false, 'not through another user')
    t.equal(await store.removePasskey(alice, key.id), true)
    t.equal(await store.recordPasskeyUse(alice, key.id, 9, 7_000), false)
    t.same(await store.listPasskeys(alice), [])
  })

  t.test('removing: only the owner’s own, once; the id is free again', async (t) => {
    const { store } = await open()
    const alice = unique('alice')
    const key = passkey()
    await store.addPasskey(alice, key, 10)
    t.equal(await store.removePasskey(unique('bob'), key.id), false)
    t.equal(await store.removePasskey(alice, key.id), true)
    t.equal(await store.removePasskey(alice, key.id), false)
    t.equal(await store.addPasskey(alice, key, 10), 'added')
    await store.recordPasskeyUse(alice, key.id, 3, 4_000)
    await store.removePasskey(alice, key.id)
    t.equal(await store.addPasskey(alice, key, 10), 'added')
    t.same(await store.listPasskeys(alice), [key], 'a passkey added again starts without its old uses')
  })

  t.test('a challenge is taken once, and a newer one replaces the last', async (t) => {
    const { store, now } = await open()
    const key = unique('confirm')
    await store.putChallenge(key, 'first', now() + 60_000)
    await store.putChallenge(key, 'second', now() + 60_000)
    const taken = await Promise.all([store.takeChallenge(key), store.takeChallenge(key), store.takeChallenge(key)])
    t.same(taken.filter(Boolean), ['second'], 'of racing takers, one gets it')
    t.equal(await store.takeChallenge(key), undefined)
    t.equal(await store.takeChallenge(unique('never')), undefined)
  })

  t.test('a challenge is forgotten once its time has passed', async (t) => {
    const { store, now, letTimePass } = await open()
    const key = unique('register')
    await store.putChallenge(key, 'soon gone', now() + 200)
    await letTimePass(300)
    t.equal(await store.takeChallenge(key), undefined)
  })
}
