import type { Test } from 'tap'
import { QrLoginClient, type LoginStatusView, type TransportName } from '@qr-login/client'
import { nodeWebSocket } from '@qr-login/client/node'
import { startInstance } from '../../helpers/instances.js'
import { uniquePrefix } from '../../helpers/redis.js'

const client = (base: string) => new QrLoginClient({ baseUrl: base, webSocket: nodeWebSocket })

async function collect(iterable: AsyncIterable<LoginStatusView>) {
  const seen: LoginStatusView[] = []
  for await (const status of iterable) seen.push(status)
  return seen.map((s) => `${s.status}@${s.version}`)
}

/** A watch, with a promise for its first status: a test acts only once every watcher is listening. */
function watching(api: QrLoginClient, login: { id: string; watchToken: string }, transport: TransportName) {
  let firstSeen!: () => void
  const first = new Promise<void>((resolve) => (firstSeen = resolve))
  const done = collect(api.watch(login, { transport, onTraffic: (event) => event.type === 'status' && firstSeen() }))
  return { first, done }
}

/** How the instances reach Redis (REDIS_URL, or REDIS_CLUSTER); called once per test, with the prefix it uses. */
export type RedisEnv = (t: Test, prefix: string) => Record<string, string>

/**
 * Three instances on one Redis (a server, or a cluster) behave as one service.
 * Run by one test file per kind of Redis.
 */
export function multiInstanceSuite(t: Test, redisEnv: RedisEnv) {
  async function trio(t: Test, env: Record<string, string> = {}) {
    const prefix = uniquePrefix('multi')
    const shared = {
      STORE: 'redis',
      ...redisEnv(t, prefix),
      REDIS_PREFIX: prefix,
      PUBLIC_URL: 'http://qr.test',
      POLL_INTERVAL_MS: '100',
      ...env,
    }
    return Promise.all(['A', 'B', 'C'].map((name) => startInstance(t, name, shared)))
  }

  t.test('created on A, watched on A over every transport and on B, confirmed on B, exchanged on C', async (t) => {
    const [a, b, c] = await trio(t)
    const onA = client(a.base)
    const login = await onA.createLogin()

    const transports: TransportName[] = ['poll', 'long-poll', 'sse', 'ws', 'socket.io']
    const watchers = transports.map((transport) => watching(onA, login, transport))
    const watcherOnB = watching(client(b.base), login, 'sse')
    const socketIoOnB = watching(client(b.base), login, 'socket.io')
    await Promise.all([...watchers, watcherOnB, socketIoOnB].map((w) => w.first))

    const phone = await client(b.base).signInPhone('alice', 'demo')
    const scanned = await phone.scan(login.id)
    t.equal(scanned.requester.ip, '127.0.0.1', 'the requester recorded by A is seen on B')
    await phone.confirm(login.id)

    const results = await Promise.all(watchers.map((w) => w.done))
    for (const [index, seen] of results.entries()) {
      t.equal(seen.at(-1), 'confirmed@3', `${transports[index]} on A saw the confirmation made on B`)
      if (transports[index] !== 'poll')
        t.same(seen, ['pending@1', 'scanned@2', 'confirmed@3'], `${transports[index]}: in order, nothing lost`)
    }
    t.same(await watcherOnB.done, ['pending@1', 'scanned@2', 'confirmed@3'], 'a second watcher on B is notified too')
    t.same(await socketIoOnB.done, ['pending@1', 'scanned@2', 'confirmed@3'], 'and a socket.io watcher on B')
    t.equal((await client(b.base).status(login)).status, 'confirmed', 'polled on B')

    const exchange = await fetch(`${c.base}/api/qr/${login.id}/exchange`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.watchToken}` },
    })
    t.equal(exchange.status, 200)
    t.equal((await exchange.json()).user.username, 'alice')
    const sid = /sid=([^;]+)/.exec(exchange.headers.get('set-cookie') ?? '')![1]
    const me = await fetch(`${a.base}/api/me`, { headers: { cookie: `sid=${sid}` } })
    t.equal((await me.json()).user.username, 'alice', 'the PC session minted on C is known on A')
    const again = await fetch(`${b.base}/api/qr/${login.id}/exchange`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.watchToken}` },
    })
    t.equal(again.status, 409, 'and it cannot be exchanged again on another instance')
  })

  t.test('racing confirms and exchanges across instances: exactly one winner', async (t) => {
    const instances = await trio(t)
    const login = await client(instances[0].base).createLogin()
    const phones = await Promise.all(instances.map((i) => client(i.base).signInPhone('bob', 'demo')))
    await phones[0].scan(login.id)
    const confirms = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => phones[i % 3].confirm(login.id)))
    t.equal(confirms.filter((r) => r.status === 'fulfilled').length, 1)
    const exchanges = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        fetch(`${instances[i % 3].base}/api/qr/${login.id}/exchange`, {
          method: 'POST',
          headers: { authorization: `Bearer ${login.watchToken}` },
        }),
      ),
    )
    t.equal(exchanges.filter((r) => r.status === 200).length, 1)
    t.same([...new Set(exchanges.filter((r) => r.status !== 200).map((r) => r.status))], [409])
  })

  t.test('expiry reaches watchers on every instance, without anyone asking', async (t) => {
    const instances = await trio(t, { QR_TTL_SECONDS: '1' })
    const login = await client(instances[0].base).createLogin()
    const seen = await Promise.all(
      instances.map((instance, i) =>
        collect(client(instance.base).watch(login, { transport: (['sse', 'ws', 'long-poll'] as const)[i] })),
      ),
    )
    for (const [i, statuses] of seen.entries())
      t.same(statuses, ['pending@1', 'expired@2'], `watcher on ${instances[i].name}`)
  })
}
