import t from 'tap'
import { ManualClock, MemoryLoginStore, type LoginStatusView } from '@qr-login/core'
import { LiveConnections } from '../../../apps/server/src/lib/live-connections.js'
import {
  WatchStreams,
  type WatchClient,
  type WatchRequest,
  type WatchSink,
} from '../../../apps/server/src/lib/watch-stream.js'
import { WatcherCaps } from '../../../apps/server/src/lib/watcher-caps.js'
import { coreFixture, pc } from '../../helpers/core.js'
import { gatedStore } from '../../helpers/gated-store.js'

/** The lifecycle on its own, with the core on a manual clock: no server, no sockets. */
function fixture(options: { perLogin?: number; heartbeatMs?: number; gated?: boolean } = {}) {
  const clock = new ManualClock()
  const gate = options.gated ? gatedStore(new MemoryLoginStore(clock)) : undefined
  const { service, alice } = coreFixture({ clock, ...(gate ? { store: gate.store } : {}) })
  const live = new LiveConnections(clock, [
    { kind: 'long-poll' as const },
    { kind: 'sse' as const, heartbeatMs: options.heartbeatMs ?? 60_000 },
  ])
  const caps = new WatcherCaps(options.perLogin ?? 10, 100)
  const delivered: (number | undefined)[] = []
  const streams = new WatchStreams({
    logins: service,
    live: live,
    clock,
    admit: (loginId, ip) => {
      const admitted = caps.admit(loginId, ip)
      if (typeof admitted === 'string') throw Object.assign(new Error(admitted), { code: 'RATE_LIMITED' })
      return admitted
    },
    delivered: (_transport, changedAt) => delivered.push(changedAt),
  })
  const held = () => ({
    live: live.stats(),
    caps: caps.size,
    watches: service.stats().watches,
    feed: service.stats().feed,
  })
  const nothingHeld = {
    live: { connections: 0, heartbeats: 0 },
    caps: { logins: 0, ips: 0 },
    watches: 0,
    feed: { channels: 0, listeners: 0 },
  }
  /** Opens a watch of a login from createLogin(); SSE, a fresh client, unless `extra` says otherwise. */
  const open = (login: { status: { id: string }; watchToken: string }, extra: Partial<WatchRequest> = {}) =>
    streams.open({
      transport: 'sse',
      loginId: login.status.id,
      token: login.watchToken,
      ip: '192.0.2.1',
      client: fakeClient().client,
      ...extra,
    })
  return { service, clock, alice, live, streams, open, gate, delivered, held, nothingHeld }
}

function fakeClient() {
  let gone = false
  const listeners = new Set<() => void>()
  const client: WatchClient = {
    gone: () => gone,
    onGone(listener) {
      listeners.add(listener)
    },
    offGone(listener) {
      listeners.delete(listener)
    },
  }
  return {
    client,
    listeners,
    leave() {
      gone = true
      for (const listener of [...listeners]) listener()
    },
  }
}

function recordingSink() {
  const calls: string[] = []
  const sent: LoginStatusView[] = []
  const sink: WatchSink = {
    send: (status) => {
      sent.push(status)
      calls.push(`send ${status.version}`)
    },
    end: () => calls.push('end'),
    restart: () => calls.push('restart'),
    ping: () => calls.push('ping'),
  }
  return { sink, calls, sent }
}

t.test(
  'statuses wait for the sink, then arrive in order; the final one ends the watch and frees everything',
  async (t) => {
    const { service, alice, open, held, nothingHeld, delivered } = fixture()
    const login = await service.createLogin(pc)
    const { client, listeners } = fakeClient()
    const stream = await open(login, { client })
    t.ok(stream)
    await service.scan(login.status.id, alice)
    const { sink, calls } = recordingSink()
    stream!.attach(sink)
    t.same(calls, ['send 1', 'send 2'], 'the buffered statuses, in order')
    await service.confirm(login.status.id, alice)
    t.same(calls, ['send 1', 'send 2', 'send 3', 'end'])
    t.equal(delivered.length, 3)
    t.equal(typeof delivered[2], 'number', 'a change heard live carries its time, for the delay metric')
    t.same(held(), nothingHeld)
    t.equal(listeners.size, 0, 'the client is no longer listened to')
  },
)

t.test('since equal to the current version: nothing is sent until a change', async (t) => {
  const { service, alice, open } = fixture()
  const login = await service.createLogin(pc)
  const stream = await open(login, { since: 1 })
  const { sink, calls } = recordingSink()
  stream!.attach(sink)
  t.same(calls, [])
  await service.scan(login.status.id, alice)
  t.same(calls, ['send 2'])
  stream!.close()
  t.same(calls, ['send 2', 'end'], 'closing ends the sink once')
  stream!.close()
  t.same(calls, ['send 2', 'end'])
})

t.test('a client that already holds the final status gets nothing more', async (t) => {
  const { service, alice, open, held, nothingHeld } = fixture()
  const login = await service.createLogin(pc)
  await service.cancel(login.status.id, alice)
  const stream = await open(login, { since: 2 })
  t.equal(stream!.holdsFinal, true)
  stream!.close()
  t.same(held(), nothingHeld)
})

t.test('a wait (maxDurationMs) ends the watch with the status unchanged, by the injected clock', async (t) => {
  const { service, clock, open, held, nothingHeld } = fixture()
  const login = await service.createLogin(pc)
  const stream = await open(login, { transport: 'long-poll', since: 1, maxDurationMs: 25_000 })
  const { sink, calls } = recordingSink()
  stream!.attach(sink)
  await clock.advance(24_999)
  t.same(calls, [])
  await clock.advance(1)
  t.same(calls, ['end'])
  t.same(stream!.current, login.status)
  t.same(held(), nothingHeld)
})

t.test(
  'a wait that runs out before the sink is attached (wait=0) still delivers what was buffered first',
  async (t) => {
    const { service, clock, alice, open } = fixture()
    const login = await service.createLogin(pc)
    await service.scan(login.status.id, alice)
    const stream = await open(login, { transport: 'long-poll', since: 1, maxDurationMs: 0 })
    await clock.advance(0)
    const { sink, calls } = recordingSink()
    stream!.attach(sink)
    t.same(calls, ['send 2', 'end'])
  },
)

t.test('a client that leaves while the store answers: open resolves undefined, holding nothing', async (t) => {
  const { service, open, gate, held, nothingHeld } = fixture({ gated: true })
  const login = await service.createLogin(pc)
  const { client, leave, listeners } = fakeClient()
  const arrived = gate!.hold()
  const opening = open(login, { client })
  await arrived
  t.equal(held().live.connections, 1, 'counted while it opens, so shutdown can reach it')
  leave()
  gate!.release()
  t.equal(await opening, undefined)
  t.same(held(), nothingHeld)
  t.equal(listeners.size, 0)
})

t.test('a client already gone is not admitted at all', async (t) => {
  const { service, open, held, nothingHeld } = fixture()
  const login = await service.createLogin(pc)
  const { client, leave } = fakeClient()
  leave()
  t.equal(await open(login, { client }), undefined)
  t.same(held(), nothingHeld)
})

t.test('refusals hold nothing: a wrong token, an unknown login, full caps', async (t) => {
  const { service, open, held, nothingHeld } = fixture({ perLogin: 1 })
  const login = await service.createLogin(pc)
  await t.rejects(open(login, { token: 'wrong' }), { code: 'WATCH_TOKEN_INVALID' })
  await t.rejects(open(login, { loginId: 'A'.repeat(21) }), { code: 'QR_NOT_FOUND' })
  t.same(held(), nothingHeld)
  const first = await open(login)
  await t.rejects(open(login), { code: 'RATE_LIMITED' })
  first!.close()
  t.same(held(), nothingHeld)
})

t.test('shutdown: restart instead of end, before or after the sink is attached', async (t) => {
  const { service, live, open, held, nothingHeld } = fixture()
  const login = await service.createLogin(pc)
  const attached = await open(login)
  const early = await open(login)
  const { sink, calls } = recordingSink()
  attached!.attach(sink)
  live.shutdown()
  t.same(calls, ['send 1', 'restart'])
  const late = recordingSink()
  early!.attach(late.sink)
  t.same(late.calls, ['send 1', 'restart'], 'told to reconnect as soon as it can be')
  t.same(held(), nothingHeld)
})

t.test('heartbeats reach the sink through the shared ticker, once per interval, by the injected clock', async (t) => {
  const { service, clock, open, live } = fixture({ heartbeatMs: 1000 })
  t.teardown(() => live.shutdown())
  const login = await service.createLogin(pc)
  const stream = await open(login)
  let pings = 0
  stream!.attach({ ...recordingSink().sink, ping: () => pings++ })
  await clock.advance(999)
  t.ok(pings <= 1, 'at most one ping before an interval has passed')
  await clock.advance(3001)
  t.ok(pings >= 3 && pings <= 5, `one ping per interval (${pings} in 4 s of the clock)`)
  stream!.close()
  await clock.advance(5000)
  const after = pings
  await clock.advance(5000)
  t.equal(pings, after, 'a closed stream gets no more pings')
  t.equal(stream!.closed, true)
})
