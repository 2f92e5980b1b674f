import t from 'tap'
import { QrLoginClient, type LoginStatusView, type TrafficEvent, type TransportName } from '@qr-login/client'
import { nodeWebSocket } from '@qr-login/client/node'
import { systemClock, toStatusView } from '@qr-login/core'
import { RedisChangeFeed, RedisLoginStore, commandConnection, subscriberConnection } from '@qr-login/redis'
import { balancer, startInstance } from '../../helpers/instances.js'
import { cleanUpPrefix, privateRedis, sharedRedisUrl, uniquePrefix } from '../../helpers/redis.js'
import { bearer, listeningApp, openSse, openWs } from '../../helpers/server.js'
import { pendingRecord } from '../../helpers/core.js'

const client = (base: string) => new QrLoginClient({ baseUrl: base, webSocket: nodeWebSocket })

/** Resolves once `check` passes; for recovery that has no event of its own to await (Redis coming back). */
async function until(check: () => Promise<boolean>, what: string, limitMs = 15_000) {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('Redis stopped under live watchers: 503s, watchers stay, and everything resumes when it returns', async (t) => {
  const redis = await privateRedis(t, { persistent: true })
  const { app, base, wsBase } = await listeningApp(t, { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'fault:' })
  const api = client(base)
  const login = await api.createLogin()
  const confirmedEarlier = await api.createLogin()
  const phone = await api.signInPhone('alice', 'demo')
  await phone.scan(confirmedEarlier.id)
  await phone.confirm(confirmedEarlier.id)

  const stream = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  const socket = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: bearer(login.watchToken) })
  t.teardown(stream.close)
  await stream.until(() => stream.statuses().length === 1)
  await socket.until(() => socket.frames.length === 1)
  await phone.scan(login.id)
  await stream.until(() => stream.statuses().length === 2)

  await redis.stop()
  for (const request of [
    app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) }),
    app.inject({ method: 'POST', url: '/api/qr' }),
    app.inject({ method: 'POST', url: `/api/qr/${login.id}/confirm`, headers: bearer(phone.token!) }),
    app.inject({
      method: 'POST',
      url: `/api/qr/${confirmedEarlier.id}/exchange`,
      headers: bearer(confirmedEarlier.watchToken),
    }),
  ]) {
    const response = await request
    t.equal(response.statusCode, 503)
    t.equal(response.json().code, 'STORE_UNAVAILABLE')
  }
  t.equal(stream.ended, false, 'the SSE watcher stays connected')
  t.equal(socket.closeCode, undefined, 'the WebSocket watcher stays connected')
  const notReady = await app.inject({ url: '/readyz' })
  t.equal(notReady.statusCode, 503, '/readyz: not ready while Redis is away')
  t.equal(notReady.json().code, 'STORE_UNAVAILABLE')
  t.same((await app.inject({ url: '/healthz' })).json(), { status: 'ok' }, '/healthz: the process still serves')

  await redis.start()
  await until(async () => (await app.inject({ url: '/readyz' })).statusCode === 200, '/readyz to say ready again')
  t.same((await app.inject({ url: '/readyz' })).json(), { status: 'ready' })
  t.equal(
    (await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })).statusCode,
    200,
    'ready means served: the login reads again',
  )
  await until(
    async () => (app.logins as unknown as { feed: RedisChangeFeed }).feed.listening,
    'the subscription to return',
  )
  await phone.confirm(login.id)
  await stream.until(() => stream.ended)
  await socket.until(() => socket.closeCode !== undefined)
  t.same(
    stream.statuses().map((s) => s.status),
    ['pending', 'scanned', 'confirmed'],
  )
  t.same(
    socket.frames.map((f) => f.status),
    ['pending', 'scanned', 'confirmed'],
  )
  const exchange = await app.inject({
    method: 'POST',
    url: `/api/qr/${confirmedEarlier.id}/exchange`,
    headers: bearer(confirmedEarlier.watchToken),
  })
  t.equal(exchange.statusCode, 200, 'the login confirmed before the outage is not lost')
})

t.test('a change published while the subscriber was cut off reaches watchers after it reconnects', async (t) => {
  const redis = await privateRedis(t)
  const commands = commandConnection(redis.url)
  const subscriber = subscriberConnection(redis.url)
  await commands.connect()
  const store = new RedisLoginStore(commands, systemClock, 'resync:')
  const feed = new RedisChangeFeed(commands, subscriber, async (id) => {
    const record = await store.get(id)
    return record && toStatusView(record)
  })
  await feed.start()
  t.teardown(async () => {
    await feed.close()
    commands.disconnect()
    subscriber.disconnect()
  })
  const record = pendingRecord('RESYNCresyncRESYNCres', Date.now() + 60_000, Date.now())
  await store.insert(record, Date.now() + 60_000)
  const heard: LoginStatusView[] = []
  let heardScanned!: () => void
  const scannedArrived = new Promise<void>((resolve) => (heardScanned = resolve))
  feed.subscribe(record.id, (status) => {
    heard.push(status)
    if (status.status === 'scanned') heardScanned()
  })

  // This Redis is the test's own: cutting every subscriber off touches nobody else.
  await commands.client('KILL', 'TYPE', 'pubsub')
  const scanned = {
    ...record,
    status: 'scanned' as const,
    version: 2,
    changeTimes: [...record.changeTimes, Date.now()],
  }
  t.equal(await store.compareAndSet(scanned, 1, Date.now() + 60_000), true)
  await feed.publish(toStatusView(scanned), Date.now()) // nobody is subscribed right now: pub/sub drops it
  await scannedArrived
  t.same(
    heard.map((s) => [s.status, s.version]),
    [['scanned', 2]],
    'delivered by the resync',
  )
})

async function scaleOut(t: Parameters<typeof startInstance>[0]) {
  const prefix = uniquePrefix('failover')
  cleanUpPrefix(t, prefix)
  const env = {
    STORE: 'redis',
    REDIS_URL: sharedRedisUrl,
    REDIS_PREFIX: prefix,
    PUBLIC_URL: 'http://qr.test',
    POLL_INTERVAL_MS: '100',
  }
  const a = await startInstance(t, 'A', env)
  const b = await startInstance(t, 'B', env)
  const lb = await balancer(t, () => [a.port, b.port])
  return { a, b, lb }
}

function watchThrough(base: string, login: { id: string; watchToken: string }, transport: TransportName) {
  const events: TrafficEvent[] = []
  const seen: string[] = []
  const waiters: { status: string; resolve: () => void }[] = []
  const done = (async () => {
    for await (const status of client(base).watch(login, {
      transport,
      retryDelayMs: 50,
      onTraffic: (e) => events.push(e),
    })) {
      seen.push(status.status)
      for (const waiter of waiters.filter((w) => w.status === status.status)) waiter.resolve()
    }
  })()
  const saw = (status: string) =>
    seen.includes(status) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ status, resolve }))
  return { events, seen, first: saw('pending'), saw, done }
}

t.test('SIGTERM: watchers are told to reconnect, land on another instance, and lose nothing', async (t) => {
  const { a, b, lb } = await scaleOut(t)
  const login = await client(lb.base).createLogin()
  const watchers = (['sse', 'ws', 'long-poll'] as const).map((transport) => watchThrough(lb.base, login, transport))
  await Promise.all(watchers.map((w) => w.first))

  a.signal('SIGTERM')
  t.equal(await a.exited, 0, 'A exits 0 after a graceful shutdown')
  const phone = await client(b.base).signInPhone('carol', 'demo')
  await phone.scan(login.id)
  // Whether a watcher was back before the scan or came back after it, it now has the scan...
  await Promise.all(watchers.map((w) => w.saw('scanned')))
  // ...and hears what happens next on its new instance.
  await phone.confirm(login.id)
  await Promise.all(watchers.map((w) => w.done))
  for (const [i, watcher] of watchers.entries()) {
    t.same(
      watcher.seen,
      ['pending', 'scanned', 'confirmed'],
      `${['sse', 'ws', 'long-poll'][i]}: nothing lost, nothing twice`,
    )
  }
  const wsRetry = watchers[1].events.find((e) => e.type === 'retry')
  t.match(wsRetry && 'error' in wsRetry ? wsRetry.error.message : '', /\(1012\)/, 'the WebSocket was closed with 1012')
  t.ok(
    watchers[0].events.some((e) => e.type === 'retry'),
    'the SSE client reconnected',
  )
})

t.test('SIGKILL mid-flow: another instance completes the login', async (t) => {
  const { a, b, lb } = await scaleOut(t)
  const login = await client(lb.base).createLogin()
  const phone = await client(lb.base).signInPhone('alice', 'demo')
  const watcher = watchThrough(lb.base, login, 'sse')
  await watcher.first
  await phone.scan(login.id)
  await watcher.saw('scanned')

  a.signal('SIGKILL')
  await a.exited
  const phoneOnB = client(b.base).phone(phone.token)
  await phoneOnB.confirm(login.id)
  await watcher.done
  t.same(watcher.seen, ['pending', 'scanned', 'confirmed'])
  const exchange = await client(lb.base).exchange(login)
  t.equal(exchange.user.username, 'alice', 'the exchange through the balancer lands on B and succeeds')
})
