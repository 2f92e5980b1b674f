import t from 'tap'
import { systemClock } from '@qr-login/core'
import { RedisOidcArtefactStore, commandConnection } from '@qr-login/redis'
import { oidcStoreContract } from '../../helpers/contracts/oidc-store-contract.js'
import { cleanUpPrefix, sharedRedisUrl, uniquePrefix } from '../../helpers/redis.js'

// The same suite as the memory store. Redis forgets by its own clock, so time passes for real here.
oidcStoreContract(t, async () => {
  const prefix = uniquePrefix('oidc')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  const store = new RedisOidcArtefactStore(redis, systemClock, prefix)
  t.teardown(() => store.close())
  return { store, letTimePass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }
})

t.test('every OIDC key carries a TTL when its artefact does, and a cluster hash tag', async (t) => {
  const prefix = uniquePrefix('oidc-keys')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  const store = new RedisOidcArtefactStore(redis, systemClock, prefix)
  t.teardown(() => store.close())
  await store.upsert('DeviceCode', 'dc1', { grantId: 'g1', userCode: 'BCDFGHJK' }, 600)
  const found = (await redis.keys(`${prefix}*`)).sort()
  t.same(found, [
    `${prefix}oidc-code:{DeviceCode:BCDFGHJK}`,
    `${prefix}oidc-grant:{g1}`,
    `${prefix}oidc:{DeviceCode:dc1}`,
  ])
  for (const key of found) {
    const ttl = await redis.pttl(key)
    t.ok(ttl > 599_000 && ttl <= 600_000, `${key}: pttl ${ttl}`)
  }
})
