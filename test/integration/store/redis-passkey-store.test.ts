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
  t.teardown(() => store.close())
  return { store, now: () => Date.now(), letTimePass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }
})

t.test('passkeys are account data (no TTL); challenges carry one; keys carry a cluster hash tag', async (t) => {
  const prefix = uniquePrefix('passkey-keys')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  const store = new RedisPasskeyStore(redis, systemClock, prefix)
  t.teardown(() => store.close())
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
  t.teardown(() => store.close())
  await t.rejects(store.listPasskeys('alice'), { name: 'LoginError', code: 'STORE_UNAVAILABLE' })
  await t.rejects(store.takeChallenge('x'), { name: 'LoginError', code: 'STORE_UNAVAILABLE' })
})
