import t from 'tap'
import { systemClock } from '@qr-login/core'
import { RedisPasskeyStore, commandConnection } from '@qr-login/redis'
import { passkeyStoreContract } from '../../helpers/contracts/passkey-store-contract.js'
import { cleanUpPrefix, sharedRedisUrl, uniquePrefix } from '../../helpers/redis.js'

// The same suite as the memory store. Redis forgets by its own clock, so time passes for real here.
passkeyStoreContract(t, async () => {
  const prefix = uniquePrefix('passkeys')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  const store = new RedisPasskeyStore(redis, systemClock, prefix)
  t.teardown(() => redis.disconnect())
  return { store, now: () => Date.now(), letTimePass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }
})

t.test('passkeys are account data (no TTL); challenges carry one; keys carry a cluster hash tag', async (t) => {
  const prefix = uniquePrefix('passkey-keys')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  const store = new RedisPasskeyStore(redis, systemClock, prefix)
  t.teardown(() => redis.disconnect())
  const passkey = {
    id: 'Y3JlZA',
    publicKey: 'a2V5',
    counter: 0,
    rpId: 'localhost',
    deviceType: 'singleDevice' as const,
    backedUp: false,
    label: 'Chrome',
    createdAt: 1,
  }
  await store.addPasskey('alice', passkey, 10)
  await store.recordPasskeyUse('alice', passkey.id, 1, 2)
  await store.putChallenge('confirm:login:alice', 'challenge', Date.now() + 30_000)
  t.same((await redis.keys(`${prefix}*`)).sort(), [
    `${prefix}challenge:{confirm:login:alice}`,
    `${prefix}passkey-owner:{Y3JlZA}`,
    `${prefix}passkey-uses:{alice}`,
    `${prefix}passkeys:{alice}`,
  ])
  t.equal(await redis.pttl(`${prefix}passkeys:{alice}`), -1)
  const challengeTtl = await redis.pttl(`${prefix}challenge:{confirm:login:alice}`)
  t.ok(challengeTtl > 29_000 && challengeTtl <= 30_000, `challenge pttl ${challengeTtl}`)
})

t.test('an unreachable Redis is STORE_UNAVAILABLE at once, and an add leaves no claim behind', async (t) => {
  const redis = commandConnection('redis://127.0.0.1:9')
  redis.on('error', () => undefined)
  redis.connect().catch(() => undefined)
  const store = new RedisPasskeyStore(redis, systemClock, 'unreachable:')
  t.teardown(() => redis.disconnect())
  await t.rejects(store.listPasskeys('alice'), { name: 'LoginError', code: 'STORE_UNAVAILABLE' })
  await t.rejects(store.takeChallenge('x'), { name: 'LoginError', code: 'STORE_UNAVAILABLE' })
})

t.test('with REDIS_WAIT_REPLICAS, each write of a passkey waits for its replicas; a challenge does not', async (t) => {
  const prefix = uniquePrefix('passkey-wait')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  // This Redis has no replica: every WAIT falls short, which is how the test sees that each was sent.
  const shortfalls: [number, number][] = []
  const store = new RedisPasskeyStore(redis, systemClock, prefix, {
    replicas: 1,
    timeoutMs: 10,
    onShortfall: (acknowledged, wanted) => shortfalls.push([acknowledged, wanted]),
  })
  t.teardown(() => redis.disconnect())
  const passkey = {
    id: 'd2FpdA',
    publicKey: 'a2V5',
    counter: 0,
    rpId: 'localhost',
    deviceType: 'singleDevice' as const,
    backedUp: false,
    label: 'Chrome on Android',
    createdAt: 1,
  }
  t.equal(await store.addPasskey('alice', passkey, 10), 'added')
  t.same(shortfalls, [[0, 1]], 'added: waited, and told 0 of 1')
  t.equal(await store.recordPasskeyUse('alice', passkey.id, 1, 2), true)
  t.equal(shortfalls.length, 2, 'a use waits too (its counter)')
  await store.putChallenge('register:alice', 'c', Date.now() + 60_000)
  t.equal(await store.takeChallenge('register:alice'), 'c')
  t.equal(shortfalls.length, 2, 'challenges do not wait')
  t.equal(await store.removePasskey('alice', passkey.id), true)
  t.equal(shortfalls.length, 3, 'a removal waits')
  t.equal(await store.addPasskey('alice', { ...passkey, id: 'ZnVsbA' }, 0), 'full')
  t.equal(shortfalls.length, 3, 'nothing written, nothing waited for')
})
