import t, { type Test } from 'tap'
import { ManualClock, systemClock } from '@qr-login/core'
import {
  RedisKeyStore,
  RedisLoginStore,
  RedisOidcArtefactStore,
  RedisPasskeyStore,
  commandConnection,
  keys,
  redisBackend,
  type RedisClient,
} from '@qr-login/redis'
import { storeContract } from '../../helpers/contracts/store-contract.js'
import { passkeyStoreContract } from '../../helpers/contracts/passkey-store-contract.js'
import { oidcStoreContract } from '../../helpers/contracts/oidc-store-contract.js'
import { keyStoreContract } from '../../helpers/contracts/key-store-contract.js'
import { uniquePrefix } from '../../helpers/redis.js'
import { redisCluster } from '../../helpers/redis-cluster.js'
import { pendingRecord } from '../../helpers/core.js'

// The same suites as the memory store and single-node Redis, on a 3-master, 3-replica cluster of this file's own.
const cluster = await redisCluster(t)
const letTimePass = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function connection(): Promise<RedisClient> {
  const redis = commandConnection({ cluster: cluster.seeds.split(',') })
  await redis.connect()
  return redis
}

// Every store's writes wait for their replica, as the service's do on a cluster by default.
const everyWriteReplicated = (t: Test) => ({
  replicas: 1,
  timeoutMs: 1000,
  onShortfall: (acknowledged: number, wanted: number) =>
    t.fail(`a write reached ${acknowledged} of ${wanted} replicas`),
})

t.test('login, session and history stores', async (t) => {
  storeContract(t, async () => {
    // Every write waits for its replica, as the service's do on a cluster by default; the live index is
    // split as there too, its count read every time (the cache is tested below).
    const backend = redisBackend({
      target: { cluster: cluster.seeds.split(',') },
      prefix: uniquePrefix('store'),
      clock: systemClock,
      durability: everyWriteReplicated(t),
      liveIndex: { keys: 16, countCacheMs: 0 },
      reload: () => async () => undefined,
    })
    await backend.connected
    t.teardown(() => backend.close())
    return { stores: backend, ping: backend.ping, now: () => Date.now(), letTimePass }
  })
})

t.test('key store', async (t) => {
  keyStoreContract(t, async () => {
    const key = `${uniquePrefix('keys')}oidc-keys`
    const open = async () => {
      const redis = await connection()
      t.teardown(() => redis.disconnect())
      return new RedisKeyStore(redis, key, everyWriteReplicated(t))
    }
    return { keys: await open(), reopen: open }
  })
})

t.test('passkey store', async (t) => {
  passkeyStoreContract(t, async () => {
    const redis = await connection()
    t.teardown(() => redis.disconnect())
    const store = new RedisPasskeyStore(redis, systemClock, uniquePrefix('passkeys'), everyWriteReplicated(t))
    return { store, now: () => Date.now(), letTimePass }
  })
})

t.test('OIDC artefact store', async (t) => {
  oidcStoreContract(t, async () => {
    const redis = await connection()
    t.teardown(() => redis.disconnect())
    const store = new RedisOidcArtefactStore(redis, systemClock, uniquePrefix('oidc'), everyWriteReplicated(t))
    return { store, letTimePass }
  })
})

t.test('a passkey and a refresh token are on their replicas once their writes return', async (t) => {
  const redis = await connection()
  t.teardown(() => redis.disconnect())
  const prefix = uniquePrefix('replicated')
  const passkeys = new RedisPasskeyStore(redis, systemClock, prefix, everyWriteReplicated(t))
  const artefacts = new RedisOidcArtefactStore(redis, systemClock, prefix, everyWriteReplicated(t))
  const onItsReplica = async (key: string) =>
    cluster.onReplica(await cluster.replicaOf(await cluster.masterOf(key)), 'EXISTS', key)
  for (let index = 0; index < 12; index++) {
    const username = `user${index}`
    const passkey = {
      id: `cGFzc2tleS${index}`,
      publicKey: 'a2V5',
      counter: 0,
      rpId: 'localhost',
      deviceType: 'singleDevice' as const,
      backedUp: false,
      label: 'x',
      createdAt: 1,
    }
    t.equal(await passkeys.addPasskey(username, passkey, 10), 'added')
    t.equal(await onItsReplica(keys.passkeys(prefix, username)), 1, `${username}'s passkey is on its replica`)
    t.equal(await onItsReplica(keys.passkeyOwner(prefix, passkey.id)), 1, 'and the claim on its id')
    await artefacts.upsert('RefreshToken', `rt${index}`, { grantId: `g${index}`, kind: 'RefreshToken' }, 3600)
    t.equal(
      await onItsReplica(keys.oidcArtefact(prefix, 'RefreshToken', `rt${index}`)),
      1,
      `refresh token ${index} too`,
    )
  }
})

t.test(
  "a login's keys spread over the masters; a confirmed write is on the replica before it is acknowledged",
  async (t) => {
    const redis = await connection()
    t.teardown(() => redis.disconnect())
    const prefix = uniquePrefix('spread')
    const store = new RedisLoginStore(redis, systemClock, prefix, { replicas: 1, timeoutMs: 1000 })
    const masters = new Set<number>()
    for (let index = 0; index < 30; index++) {
      const id = `spread${String(index).padStart(15, '0')}`
      t.equal(await store.insert(pendingRecord(id, Date.now() + 30_000), Date.now() + 60_000), true)
      const master = await cluster.masterOf(`${prefix}login:{${id}}`)
      masters.add(master.port)
      const replica = await cluster.replicaOf(master)
      t.equal(
        await cluster.onReplica(replica, 'EXISTS', `${prefix}login:{${id}}`),
        1,
        `login ${index} is on its replica once insert returned`,
      )
    }
    t.equal(masters.size, 3, 'thirty logins landed on all three masters')
  },
)

t.test('the live-login index is split over keys on every master; its count is the sum of them all', async (t) => {
  const redis = await connection()
  t.teardown(() => redis.disconnect())
  const prefix = uniquePrefix('live')
  const store = new RedisLoginStore(redis, systemClock, prefix, undefined, { keys: 16, countCacheMs: 0 })
  for (let index = 0; index < 48; index++)
    await store.insert(
      pendingRecord(`live${String(index).padStart(17, '0')}`, Date.now() + 30_000),
      Date.now() + 60_000,
    )
  // The index is written after each insert is acknowledged; this store's own count, sent after those
  // writes on the same connections, has them all.
  t.equal(await store.countLive(), 48)
  const parts = new Map<number, number>()
  const masters = new Set<number>()
  for (let part = 0; part < 16; part++) {
    const key = `${prefix}live:{${part}}`
    const master = await cluster.masterOf(key)
    masters.add(master.port)
    parts.set(part, Number(await cluster.on(master, 'ZCARD', key)))
  }
  const total = [...parts.values()].reduce((sum, count) => sum + count, 0)
  t.equal(total, 48, 'every login is in exactly one key')
  t.ok([...parts.values()].filter((count) => count > 0).length >= 10, `spread: ${[...parts.values()].join(' ')}`)
  t.equal(masters.size, 3, 'the 16 keys live on all three masters')
  t.equal(await cluster.on(await cluster.masterOf(`${prefix}live`), 'EXISTS', `${prefix}live`), 0, 'no unsplit key')
})

t.test(
  "a cached live count: this store's inserts count at once, another instance's once the cache has aged",
  async (t) => {
    const prefix = uniquePrefix('live-cache')
    const clock = new ManualClock(Date.now())
    const [hereRedis, thereRedis] = [await connection(), await connection()]
    t.teardown(() => [hereRedis, thereRedis].forEach((redis) => redis.disconnect()))
    const here = new RedisLoginStore(hereRedis, clock, prefix, undefined, { keys: 16, countCacheMs: 100 })
    const there = new RedisLoginStore(thereRedis, clock, prefix, undefined, { keys: 16, countCacheMs: 100 })
    const expiresAt = clock.now() + 30_000
    const reads = countZcounts(here)
    t.equal(await here.countLive(), 0)
    t.equal(reads(), 16, 'a count reads each of the 16 keys once')
    const together = await Promise.all([1, 2, 3].map(() => here.countLive()))
    t.same(together, [0, 0, 0])
    t.equal(reads(), 16, 'counts within the cache time read nothing more')
    await here.insert(pendingRecord('cachehere000000000001', expiresAt), expiresAt)
    await here.insert(pendingRecord('cachehere000000000002', expiresAt), expiresAt)
    await there.insert(pendingRecord('cachethere00000000001', expiresAt), expiresAt)
    t.equal(await here.countLive(), 2, "this store's own inserts count at once")
    t.equal(await there.countLive(), 3, 'the other instance reads the keys: its own index write is in')
    await clock.advance(100)
    t.equal(await here.countLive(), 3, "and another instance's once the count is read again")
    t.equal(reads(), 32)
    await here.compareAndSet(
      { ...pendingRecord('cachehere000000000001', expiresAt), status: 'cancelled', version: 2, endedAt: clock.now() },
      1,
      expiresAt,
    )
    t.equal(await here.countLive(), 3, 'an ended login stops counting only at the next read: a cap errs high')
    await clock.advance(100)
    t.equal(await here.countLive(), 2)
  },
)

/** Counts the ZCOUNTs a store sends from now on. */
function countZcounts(store: RedisLoginStore): () => number {
  const redis = (store as unknown as { redis: RedisClient }).redis
  const zcount = redis.zcount.bind(redis)
  let count = 0
  redis.zcount = (...args: Parameters<typeof zcount>) => {
    count++
    return zcount(...args)
  }
  return () => count
}
