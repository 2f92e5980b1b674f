import t from 'tap'
import { systemClock } from '@qr-login/core'
import {
  RedisLoginStore,
  RedisOidcArtefactStore,
  RedisPasskeyStore,
  commandConnection,
  type RedisClient,
} from '@qr-login/redis'
import { storeContract } from './store-contract.js'
import { passkeyStoreContract } from './passkey-store-contract.js'
import { oidcStoreContract } from './oidc-store-contract.js'
import { uniquePrefix } from '../helpers/redis.js'
import { redisCluster } from '../helpers/redis-cluster.js'

// The same suites as the memory store and single-node Redis, on a 3-master, 3-replica cluster of this file's own.
const cluster = await redisCluster(t)
const letTimePass = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function connection(): Promise<RedisClient> {
  const redis = commandConnection({ cluster: cluster.seeds.split(',') })
  await redis.connect()
  return redis
}

t.test('login store', async (t) => {
  storeContract(t, async () => {
    // Every login write waits for its replica, as the service does on a cluster by default.
    const store = new RedisLoginStore(await connection(), systemClock, uniquePrefix('store'), {
      replicas: 1,
      timeoutMs: 1000,
      onShortfall: (acknowledged, wanted) => t.fail(`a write reached ${acknowledged} of ${wanted} replicas`),
    })
    t.teardown(() => store.close())
    return { store, now: () => Date.now(), letTimePass }
  })
})

t.test('passkey store', async (t) => {
  passkeyStoreContract(t, async () => {
    const store = new RedisPasskeyStore(await connection(), systemClock, uniquePrefix('passkeys'))
    t.teardown(() => store.close())
    return { store, now: () => Date.now(), letTimePass }
  })
})

t.test('OIDC artefact store', async (t) => {
  oidcStoreContract(t, async () => {
    const store = new RedisOidcArtefactStore(await connection(), systemClock, uniquePrefix('oidc'))
    t.teardown(() => store.close())
    return { store, letTimePass }
  })
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
      t.equal(
        await store.insert(
          {
            id,
            status: 'pending',
            version: 1,
            createdAt: 0,
            expiresAt: Date.now() + 30_000,
            watchTokenHash: 'h',
            requester: { ip: '', userAgent: '', browser: '', os: '', createdAt: '' },
            changeTimes: [0],
          },
          Date.now() + 60_000,
        ),
        true,
      )
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
