import t from 'tap'
import { QrLoginClient, type LoginStatusView, type TransportName } from '@qr-login/client'
import { nodeWebSocket } from '@qr-login/client/node'
import { multiInstanceSuite } from './multi-instance-suite.js'
import { startInstance } from '../../helpers/instances.js'
import { uniquePrefix } from '../../helpers/redis.js'
import { redisCluster } from '../../helpers/redis-cluster.js'

// The instances' Redis is a 3-master, 3-replica cluster of this file's own; status changes go over sharded pub/sub.
const cluster = await redisCluster(t)

multiInstanceSuite(t, () => ({ REDIS_CLUSTER: cluster.seeds }))

const client = (base: string) => new QrLoginClient({ baseUrl: base, webSocket: nodeWebSocket })

/** A watch that remembers every status it saw, and says when the first one came. */
function watching(api: QrLoginClient, login: { id: string; watchToken: string }, transport: TransportName) {
  const seen: LoginStatusView[] = []
  let firstSeen!: () => void
  const first = new Promise<void>((resolve) => (firstSeen = resolve))
  const done = (async () => {
    for await (const status of api.watch(login, {
      transport,
      onTraffic: (event) => event.type === 'status' && firstSeen(),
    }))
      seen.push(status)
  })()
  return { first, done, seen }
}

async function pair(t: Parameters<typeof startInstance>[0]) {
  const prefix = uniquePrefix('cluster')
  const env = {
    STORE: 'redis',
    REDIS_CLUSTER: cluster.seeds,
    REDIS_PREFIX: prefix,
    PUBLIC_URL: 'http://qr.test',
    QR_TTL_SECONDS: '120',
    CONFIRM_WINDOW_SECONDS: '120',
    RATE_LIMIT_CREATE_PER_MINUTE: '100000',
  }
  const [a, b] = await Promise.all(['A', 'B'].map((name) => startInstance(t, name, env)))
  return { a, b, prefix }
}

/** Retries while Redis is failing over: the service answers 503, as it should, until a replica has taken over. */
async function untilServed<T>(what: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await what()
    } catch (error) {
      if (attempt > 200 || !/503|STORE_UNAVAILABLE/.test(String((error as Error).message ?? error))) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

t.test('a status change goes only through the shard that owns the login, to the instances that watch it', async (t) => {
  const { a, b, prefix } = await pair(t)
  const login = await client(a.base).createLogin()
  const channel = `${prefix}status:{${login.id}}`
  const owner = await cluster.masterOf(channel)
  t.equal(owner.port, (await cluster.masterOf(`${prefix}login:{${login.id}}`)).port, 'the channel is in the login slot')

  const onA = watching(client(a.base), login, 'sse')
  const onB = watching(client(b.base), login, 'ws')
  await Promise.all([onA.first, onB.first])
  // A watcher's first status comes from the store; its instance's SSUBSCRIBE is confirmed on its own time.
  t.equal(await subscribersOnceSettled(channel, 2), 2, 'the owning master has one subscriber per watching instance')
  for (const master of await cluster.masters())
    if (master.port !== owner.port)
      t.same(
        await cluster.on(master, 'PUBSUB', 'SHARDCHANNELS', `${prefix}*`),
        [],
        `master ${master.port} carries none`,
      )

  const phone = await client(b.base).signInPhone('alice', 'demo')
  await phone.scan(login.id)
  await phone.confirm(login.id)
  await Promise.all([onA.done, onB.done])
  for (const watcher of [onA, onB])
    t.same(
      watcher.seen.map((s) => `${s.status}@${s.version}`),
      ['pending@1', 'scanned@2', 'confirmed@3'],
    )
  // Each instance leaves the channel with its last watcher.
  t.equal(await subscribersOnceSettled(channel, 0), 0, 'no subscription is left behind')
})

t.test(
  'a master killed under open watchers: its replica takes over, no confirmed login is lost, every watcher ends on the latest status',
  async (t) => {
    const { a, b, prefix } = await pair(t)
    const count = 24
    const logins = await Promise.all(Array.from({ length: count }, () => client(a.base).createLogin()))
    const owners = await Promise.all(logins.map((login) => cluster.masterOf(`${prefix}login:{${login.id}}`)))
    // The master with the most of these logins is the one to fail.
    const tally = new Map<number, number>()
    for (const owner of owners) tally.set(owner.port, (tally.get(owner.port) ?? 0) + 1)
    const victimPort = [...tally.entries()].sort((x, y) => y[1] - x[1])[0][0]
    const victim = cluster.nodes.find((node) => node.port === victimPort)!
    const onVictim = logins.filter((_, index) => owners[index].port === victimPort)
    t.ok(onVictim.length >= 2, `${onVictim.length} of ${count} logins live on the master to be killed`)

    const transports: TransportName[] = ['sse', 'ws', 'long-poll', 'socket.io']
    const watchers = logins.flatMap((login, index) => [
      watching(client(a.base), login, transports[index % transports.length]),
      watching(client(b.base), login, transports[(index + 1) % transports.length]),
    ])
    await Promise.all(watchers.map((watcher) => watcher.first))

    const phone = await client(b.base).signInPhone('alice', 'demo')
    const confirmedBefore = logins.slice(0, count / 2)
    for (const login of confirmedBefore) {
      await phone.scan(login.id)
      await phone.confirm(login.id)
    }
    const replica = await cluster.replicaOf(victim)
    const promoted = await cluster.killMaster(victim)
    t.equal(promoted.port, replica.port, 'the replica of the killed master took over')

    // The other half: scanned and confirmed once the cluster has settled (answers of 503 are retried, as a phone would).
    for (const login of logins.slice(count / 2)) {
      await untilServed(() => phone.scan(login.id))
      await untilServed(() => phone.confirm(login.id))
    }
    await Promise.all(watchers.map((watcher) => watcher.done))
    for (const [index, watcher] of watchers.entries()) {
      const last = watcher.seen.at(-1)
      t.equal(`${last?.status}@${last?.version}`, 'confirmed@3', `watcher ${index} ended on the confirmation`)
    }
    for (const login of confirmedBefore) {
      const status = await untilServed(() => client(b.base).status(login))
      t.equal(status.status, 'confirmed', `${login.id}, confirmed before the kill, is still confirmed`)
    }
    // On A, which has sent nothing to those slots since the kill: a 503 while its map of the slots is old is the
    // contract's "try again", and the map is read again within a second.
    const exchanged = await Promise.all(
      onVictim.map((login) =>
        untilServed(async () => {
          const response = await fetch(`${a.base}/api/qr/${login.id}/exchange`, {
            method: 'POST',
            headers: { authorization: `Bearer ${login.watchToken}` },
          })
          if (response.status === 503) throw new Error('503 STORE_UNAVAILABLE')
          return response.status
        }),
      ),
    )
    t.same(
      exchanged,
      onVictim.map(() => 200),
      'every login of the killed master is exchanged on its replica',
    )
    // The promoted master has no replica of its own: its writes fall short of REDIS_WAIT_REPLICAS, which B (where
    // the phone confirmed them) reports, once per 10 s however many writes there were.
    const warnings = b.output().match(/fewer Redis replicas than REDIS_WAIT_REPLICAS/g) ?? []
    t.ok(warnings.length >= 1 && warnings.length <= 2, `B warned ${warnings.length} time(s) about the missing replica`)
  },
)

t.test('messages per status change: only the instance that watches hears it', async (t) => {
  const { a, b, prefix } = await pair(t)
  const login = await client(a.base).createLogin()
  const watcher = watching(client(a.base), login, 'ws')
  await watcher.first
  // Changes are heard as messages once A's subscription is confirmed (before that, A reads them from the store).
  t.equal(await subscribersOnceSettled(`${prefix}status:{${login.id}}`, 1), 1, 'A listens on the login channel')
  const phone = await client(b.base).signInPhone('alice', 'demo')
  await phone.scan(login.id)
  await phone.confirm(login.id)
  await watcher.done
  t.equal(await heard(a.base), 2, 'A, which watches, heard the scan and the confirm')
  t.equal(await heard(b.base), 0, 'B, which made them and watches nothing, heard none')
})

/** A channel's subscribers on the master that owns it, once they reach `expected` (or what they are after 2 s). */
async function subscribersOnceSettled(channel: string, expected: number): Promise<number> {
  const owner = await cluster.masterOf(channel)
  const deadline = Date.now() + 2000
  for (;;) {
    const [, count] = (await cluster.on(owner, 'PUBSUB', 'SHARDNUMSUB', channel)) as [string, number]
    if (count === expected || Date.now() > deadline) return count
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function heard(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text()
  return Number(/^qr_status_messages_heard (\d+)/m.exec(text)?.[1])
}
