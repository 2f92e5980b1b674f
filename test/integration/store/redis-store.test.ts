import t from 'tap'
import { systemClock } from '@qr-login/core'
import { RedisLoginStore, commandConnection } from '@qr-login/redis'
import { storeContract } from '../../helpers/contracts/store-contract.js'
import { cleanUpPrefix, sharedRedisUrl, uniquePrefix } from '../../helpers/redis.js'
import { pendingRecord } from '../../helpers/core.js'

// The same suite as the memory store. Redis forgets by its own clock, so time passes for real here.
storeContract(t, async () => {
  const prefix = uniquePrefix('store')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  const store = new RedisLoginStore(redis, systemClock, prefix)
  t.teardown(() => store.close())
  return {
    store,
    now: () => Date.now(),
    letTimePass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }
})

t.test('keys carry TTLs and a cluster hash tag', async (t) => {
  const prefix = uniquePrefix('ttl')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  const store = new RedisLoginStore(redis, systemClock, prefix)
  t.teardown(() => store.close())
  const id = 'TTLtestTTLtestTTLtest'
  const expiresAt = Date.now() + 30_000
  await store.insert(pendingRecord(id, expiresAt), Date.now() + 60_000)
  const found = (await redis.keys(`${prefix}*`)).sort()
  t.same(found, [`${prefix}live`, `${prefix}login:{${id}}`])
  const loginTtl = await redis.pttl(`${prefix}login:{${id}}`)
  t.ok(loginTtl > 59_000 && loginTtl <= 60_000, `login pttl ${loginTtl}`)
  const liveTtl = await redis.pttl(`${prefix}live`)
  t.ok(liveTtl > 29_000 && liveTtl <= 30_000, `the live index lives as long as its latest entry: pttl ${liveTtl}`)
})

t.test('an unreachable Redis is STORE_UNAVAILABLE at once, not a hang', async (t) => {
  const redis = commandConnection('redis://127.0.0.1:9')
  redis.on('error', () => undefined)
  redis.connect().catch(() => undefined)
  const store = new RedisLoginStore(redis, systemClock, 'unreachable:')
  t.teardown(() => store.close())
  await t.rejects(store.get('x'.repeat(21)), { name: 'LoginError', code: 'STORE_UNAVAILABLE' })
  await t.rejects(store.ping(), { name: 'LoginError', code: 'STORE_UNAVAILABLE' }, 'ping too: not ready')
})
