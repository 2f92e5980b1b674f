import t from 'tap'
import { ManualClock } from '@qr-login/core'
import {
  approve,
  bearer,
  createLogin,
  whenLive,
  listeningApp,
  openSse,
  phoneAction,
  phoneToken,
} from '../../helpers/server.js'

t.test('sends the current status at once, then every change in order, then ends after confirmed', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const stream = openSse(`${base}/api/qr/${login.id}/events`, { cookie: `qr_watch=${login.watchToken}` })
  t.teardown(stream.close)
  await stream.ready
  t.equal(stream.statusCode, 200)
  t.match(stream.headers['content-type'], /^text\/event-stream/)
  t.equal(stream.headers['cache-control'], 'no-cache')
  t.equal(stream.headers['x-accel-buffering'], 'no')
  t.notOk(stream.headers['content-encoding'], 'never compressed')

  await stream.until(() => stream.statuses().length === 1)
  const first = stream.events.find((e) => e.event === 'status')!
  t.equal(first.id, '1')
  t.same(JSON.parse(first.data!), { id: login.id, status: 'pending', version: 1, expiresAt: login.expiresAt })

  const phone = await phoneToken(app)
  await phoneAction(app, 'scan', login.id, phone)
  await phoneAction(app, 'scan', login.id, phone)
  await phoneAction(app, 'confirm', login.id, phone)
  await stream.until(() => stream.ended)
  t.same(
    stream.statuses().map((s) => [s.status, s.version]),
    [
      ['pending', 1],
      ['scanned', 2],
      ['confirmed', 3],
    ],
  )
  t.same(
    stream.events.filter((e) => e.event === 'status').map((e) => e.id),
    ['1', '2', '3'],
    'id: is the version',
  )
  await whenLive(app, () => app.live.count('sse') === 0, 'the stream to be released')
  t.equal(app.logins.stats().watches, 0)
})

t.test('Last-Event-ID equal to the current version skips the first event', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const phone = await phoneToken(app)
  await phoneAction(app, 'scan', login.id, phone)
  const resumed = openSse(`${base}/api/qr/${login.id}/events`, { ...bearer(login.watchToken), 'last-event-id': '2' })
  t.teardown(resumed.close)
  await resumed.ready
  // The retry line arrives first; no status until something changes.
  await resumed.until(() => resumed.events.length >= 1)
  t.same(resumed.statuses(), [])
  await phoneAction(app, 'confirm', login.id, phone)
  await resumed.until(() => resumed.ended)
  t.same(
    resumed.statuses().map((s) => s.version),
    [3],
  )

  const stale = openSse(`${base}/api/qr/${login.id}/events`, { ...bearer(login.watchToken), 'last-event-id': '1' })
  t.teardown(stale.close)
  await stale.until(() => stale.ended)
  t.same(
    stale.statuses().map((s) => s.status),
    ['confirmed'],
    'an older Last-Event-ID gets the latest status, then the end',
  )
})

t.test('a reconnect that already has the final status gets 204, so EventSource stops reconnecting', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  await approve(app, login.id)
  const stream = openSse(`${base}/api/qr/${login.id}/events`, { ...bearer(login.watchToken), 'last-event-id': '3' })
  await stream.until(() => stream.ended)
  t.equal(stream.statusCode, 204)
  t.same(stream.statuses(), [])
  t.equal(app.logins.stats().watches, 0)
})

t.test('a terminal status sent on connect ends the stream', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  await phoneAction(app, 'cancel', login.id, await phoneToken(app, 'carol'))
  const stream = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  await stream.until(() => stream.ended)
  t.same(
    stream.statuses().map((s) => s.status),
    ['cancelled'],
  )
})

t.test('writes a comment line as a heartbeat', async (t) => {
  const { app, base } = await listeningApp(t, { SSE_HEARTBEAT_MS: '50' })
  const login = await createLogin(app)
  const stream = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  t.teardown(stream.close)
  await stream.until(() => stream.events.filter((e) => e.comments.length > 0).length >= 2)
  t.ok(
    stream.body.includes('\n: keep-alive\n') || stream.body.startsWith(': keep-alive'),
    'a comment line starting with ":"',
  )
})

t.test('expiry reaches an idle stream', async (t) => {
  const clock = new ManualClock()
  const { app, base } = await listeningApp(t, { QR_TTL_SECONDS: '10' }, { clock })
  const login = await createLogin(app)
  const stream = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  await stream.until(() => stream.statuses().length === 1)
  await clock.advance(10_000)
  await stream.until(() => stream.ended)
  t.same(
    stream.statuses().map((s) => [s.status, s.version]),
    [
      ['pending', 1],
      ['expired', 2],
    ],
  )
})

t.test('a client that disconnects frees its watcher', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const stream = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  await stream.until(() => stream.statuses().length === 1)
  t.equal(app.live.count('sse'), 1)
  t.equal(app.logins.stats().watches, 1)
  stream.close()
  await whenLive(app, () => app.live.count('sse') === 0, 'the server to notice the disconnect')
  t.equal(app.logins.stats().watches, 0)
  t.same(app.logins.stats().feed, { channels: 0, listeners: 0 })
})

t.test('refusals are JSON errors, not streams', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const refused = openSse(`${base}/api/qr/${login.id}/events`)
  await refused.until(() => refused.ended)
  t.equal(refused.statusCode, 401)
  t.equal(JSON.parse(refused.body).code, 'WATCH_TOKEN_REQUIRED')
  t.equal(refused.headers['cache-control'], 'no-store')
})

t.test('two watchers of one login on different transports both get every change', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const first = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  const second = openSse(`${base}/api/qr/${login.id}/events`, { cookie: `qr_watch=${login.watchToken}` })
  const longPoll = app.inject({ url: `/api/qr/${login.id}?since=2&wait=30`, headers: bearer(login.watchToken) })
  await first.until(() => first.statuses().length === 1)
  await second.until(() => second.statuses().length === 1)
  await approve(app, login.id, 'bob')
  await first.until(() => first.ended)
  await second.until(() => second.ended)
  t.same(
    first.statuses().map((s) => s.status),
    ['pending', 'scanned', 'confirmed'],
  )
  t.same(second.statuses(), first.statuses())
  t.equal((await longPoll).json().status, 'confirmed')
})

t.test('HEAD answers with the stream headers and holds nothing open', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const response = await fetch(`${base}/api/qr/${login.id}/events`, {
    method: 'HEAD',
    headers: bearer(login.watchToken),
  })
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/event-stream/)
  t.equal(app.logins.stats().watches, 0)
})
