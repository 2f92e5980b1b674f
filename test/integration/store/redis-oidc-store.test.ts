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
  t.teardown(() => redis.disconnect())
  return { store, letTimePass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }
})

t.test('every OIDC key carries a TTL when its artefact does, and a cluster hash tag', async (t) => {
  const prefix = uniquePrefix('oidc-keys')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  const store = new RedisOidcArtefactStore(redis, systemClock, prefix)
  t.teardown(() => redis.disconnect())
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

t.test('with REDIS_WAIT_REPLICAS, every write of an OpenID artefact waits for its replicas', async (t) => {
  const prefix = uniquePrefix('oidc-wait')
  cleanUpPrefix(t, prefix)
  const redis = commandConnection(sharedRedisUrl)
  await redis.connect()
  // This Redis has no replica: every WAIT falls short, which is how the test sees that each was sent.
  const shortfalls: [number, number][] = []
  const store = new RedisOidcArtefactStore(redis, systemClock, prefix, {
    replicas: 1,
    timeoutMs: 10,
    onShortfall: (acknowledged, wanted) => shortfalls.push([acknowledged, wanted]),
  })
  t.teardown(() => redis.disconnect())
  await store.upsert('RefreshToken', 'rt1', { grantId: 'g1' }, 3600)
  t.same(shortfalls, [[0, 1]], 'upsert: waited, and told 0 of 1')
  await store.find('RefreshToken', 'rt1')
  t.equal(shortfalls.length, 1, 'a read does not wait')
  await store.consume('RefreshToken', 'rt1')
  t.equal(shortfalls.length, 2, 'consume waits: a used refresh token must stay used')
  await store.destroy('RefreshToken', 'rt1')
  t.equal(shortfalls.length, 3, 'destroy waits')
  await store.upsert('AccessToken', 'at1', { grantId: 'g2' }, 3600)
  await store.revokeByGrantId('g2')
  t.equal(shortfalls.length, 5, 'a revoked grant waits')
})
