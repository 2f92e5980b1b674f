import t from 'tap'
import { systemClock } from '@qr-login/core'
import { RedisKeyStore, RedisLoginStore, commandConnection, redisBackend } from '@qr-login/redis'
import { storeContract } from '../../helpers/contracts/store-contract.js'
import { keyStoreContract } from '../../helpers/contracts/key-store-contract.js'
import { cleanUpPrefix, sharedRedisUrl, uniquePrefix } from '../../helpers/redis.js'
import { pendingRecord } from '../../helpers/core.js'

// The same suites as the memory and SQLite backends. Redis forgets by its own clock, so time passes for real here.
storeContract(t, async () => {
  const prefix = uniquePrefix('store')
  cleanUpPrefix(t, prefix)
  const backend = redisBackend({
    target: { url: sharedRedisUrl },
    prefix,
    clock: systemClock,
    reload: () => async () => undefined,
  })
  await backend.connected
  t.teardown(() => backend.close())
  return {
    stores: backend,
    ping: backend.ping,
    now: () => Date.now(),
    letTimePass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }
})

t.test('key store', async (t) => {
  keyStoreContract(t, async () => {
    const prefix = uniquePrefix('keys')
    cleanUpPrefix(t, prefix)
    const connect = async () => {
      const redis = commandConnection(sharedRedisUrl)
      await redis.connect()
      t.teardown(() => redis.disconnect())
      return new RedisKeyStore(redis, `${prefix}oidc-keys`)
    }
    return { keys: await connect(), reopen: connect }
  })
})

t.test('keys carry TTLs and a cluster hash tag', async (t) => {
  const prefix = uniquePrefix('ttl')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  const store = new RedisLoginStore(redis, systemClock, prefix)
  t.teardown(() => redis.disconnect())
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
  t.teardown(() => redis.disconnect())
  await t.rejects(store.get('x'.repeat(21)), { name: 'LoginError', code: 'STORE_UNAVAILABLE' })
  const backend = redisBackend({
    target: { url: 'redis://127.0.0.1:9' },
    clock: systemClock,
    reload: () => async () => undefined,
  })
  await backend.connected.catch(() => undefined)
  t.teardown(() => backend.close())
  await t.rejects(backend.ping(), { name: 'LoginError', code: 'STORE_UNAVAILABLE' }, 'ping too: not ready')
})
