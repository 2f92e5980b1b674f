import t, { type Test } from 'tap'
import { memoryBackend, systemClock } from '@qr-login/core'
import {
  approve,
  bearer,
  createLogin,
  whenLive,
  listeningApp,
  openSse,
  openWs,
  phoneAction,
  phoneToken,
  type CreatedLogin,
} from '../../helpers/server.js'
import { openSocketIo } from '../../helpers/socket-io.js'
import { switchableBackend } from '../../helpers/switchable-store.js'
import type { App } from '@qr-login/server'

const ways: { name: string; options: { transports?: ('polling' | 'websocket')[] } }[] = [
  { name: 'polling upgraded to WebSocket', options: {} },
  { name: 'WebSocket only', options: { transports: ['websocket'] } },
]

function auth(login: CreatedLogin, extra: Record<string, unknown> = {}) {
  return { id: login.id, watchToken: login.watchToken, ...extra }
}

function assertNothingHeld(t: Test, app: App) {
  t.equal(app.live.count('socket.io'), 0, 'no live connection')
  t.same(app.live.stats(), { connections: 0, heartbeats: 0 }, 'no heartbeat entry')
  t.equal(app.logins.stats().watches, 0, 'no open watch')
  t.same(app.logins.stats().feed, { channels: 0, listeners: 0 }, 'no listener')
}

for (const way of ways) {
  t.test(`${way.name}: the current status at once, every change in order, then a server-side disconnect`, async (t) => {
    const { app, base } = await listeningApp(t)
    const login = await createLogin(app)
    const watcher = openSocketIo(base, auth(login), way.options)
    t.teardown(watcher.close)
    await watcher.connected
    await watcher.until(() => watcher.statuses.length === 1)
    t.same(watcher.statuses[0], { id: login.id, status: 'pending', version: 1, expiresAt: login.expiresAt })
    if (way.options.transports === undefined) {
      if (watcher.socket.io.engine.transport.name !== 'websocket')
        await new Promise((upgraded) => watcher.socket.io.engine.once('upgrade', upgraded))
    }
    t.equal(watcher.socket.io.engine.transport.name, 'websocket')

    await approve(app, login.id)
    await watcher.until(() => watcher.disconnectReason !== undefined)
    t.same(
      watcher.statuses.map((status) => [status.version, status.status]),
      [
        [1, 'pending'],
        [2, 'scanned'],
        [3, 'confirmed'],
      ],
    )
    t.same(watcher.statuses[1].scannedBy, { displayName: 'Alice', avatarUrl: '/avatars/alice.svg' })
    t.equal(watcher.disconnectReason, 'io server disconnect', 'disconnected by the server after confirmed')
    await whenLive(app, () => app.live.count('socket.io') === 0, 'the watcher to be released')
    assertNothingHeld(t, app)
  })
}

t.test(
  'since equal to the current version sends nothing until the next change; a terminal status ends it',
  async (t) => {
    const { app, base } = await listeningApp(t)
    const login = await createLogin(app)
    const phone = await phoneToken(app)
    await phoneAction(app, 'scan', login.id, phone)
    const watcher = openSocketIo(base, auth(login, { since: 2 }))
    t.teardown(watcher.close)
    await watcher.connected
    await whenLive(app, () => app.live.count('socket.io') === 1, 'the watcher to be counted')
    t.same(watcher.statuses, [], 'nothing is sent again')
    await phoneAction(app, 'cancel', login.id, phone)
    await watcher.until(() => watcher.disconnectReason !== undefined)
    t.same(
      watcher.statuses.map((status) => status.status),
      ['cancelled'],
    )
    t.equal(watcher.disconnectReason, 'io server disconnect')

    const older = openSocketIo(base, auth(login, { since: 1 }))
    t.teardown(older.close)
    await older.until(() => older.disconnectReason !== undefined)
    t.same(
      older.statuses.map((status) => status.version),
      [3],
      'a watcher behind gets the latest status, then is disconnected',
    )
  },
)

t.test('sends the very object the other transports send for the same version', async (t) => {
  const { app, base, wsBase } = await listeningApp(t, { MATCH_CODE: '1' })
  const login = await createLogin(app)
  const phone = await phoneToken(app)
  await phoneAction(app, 'scan', login.id, phone)
  const polled = (await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })).json()
  const longPolled = (
    await app.inject({ url: `/api/qr/${login.id}?since=1&wait=1`, headers: bearer(login.watchToken) })
  ).json()
  const sse = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  const ws = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: bearer(login.watchToken) })
  const io = openSocketIo(base, auth(login))
  t.teardown(() => {
    sse.close()
    ws.socket.close()
    io.close()
  })
  await Promise.all([
    sse.until(() => sse.statuses().length === 1),
    ws.until(() => ws.frames.length === 1),
    io.until(() => io.statuses.length === 1),
  ])
  const { type, ...fromWs } = ws.frames[0]
  t.equal(type, 'status')
  t.ok(polled.matchCode && polled.scannedBy, 'the status has every optional field')
  for (const [name, status] of Object.entries({
    longPolled,
    sse: sse.statuses()[0],
    ws: fromWs,
    'socket.io': io.statuses[0],
  })) {
    t.strictSame(status, polled, `${name} sends the short poll's object`)
    t.same(Object.keys(status as object), Object.keys(polled), `${name} in the same field order`)
  }
})

t.test('refusals are connect_error with the code as message and the error body as data', async (t) => {
  const store = switchableBackend(memoryBackend({ clock: systemClock }))
  const { app, base } = await listeningApp(
    t,
    { MAX_WATCHERS_PER_LOGIN: '1', ALLOWED_ORIGINS: 'https://pc.example' },
    { backend: store },
  )
  const login = await createLogin(app)
  const other = await createLogin(app)
  const unknownId = 'AAAAAAAAAAAAAAAAAAAAA'
  const cases: [string, Record<string, unknown> | undefined, string, number, Record<string, unknown>?][] = [
    ['no auth at all', undefined, 'VALIDATION_ERROR', 400],
    ['a malformed id', { id: 'short', watchToken: login.watchToken }, 'VALIDATION_ERROR', 400],
    ['a 500-character id', { id: 'A'.repeat(500), watchToken: login.watchToken }, 'VALIDATION_ERROR', 400],
    ['a since that is not a whole number', auth(login, { since: 1.5 }), 'VALIDATION_ERROR', 400],
    ['a negative since', auth(login, { since: -1 }), 'VALIDATION_ERROR', 400],
    ['a token that is not a string', { id: login.id, watchToken: 42 }, 'VALIDATION_ERROR', 400],
    ['no token', { id: login.id }, 'WATCH_TOKEN_REQUIRED', 401],
    ['another login’s token', { id: login.id, watchToken: other.watchToken }, 'WATCH_TOKEN_INVALID', 403],
    ['an unknown id, whatever the token', { id: unknownId, watchToken: login.watchToken }, 'QR_NOT_FOUND', 404],
    ['a foreign Origin', auth(login), 'ORIGIN_REJECTED', 403, { extraHeaders: { origin: 'https://evil.example' } }],
  ]
  for (const [what, handshake, code, statusCode, options] of cases) {
    for (const way of ways) {
      const watcher = openSocketIo(base, handshake ?? {}, { ...way.options, ...options })
      const refusal = await watcher.refused
      watcher.close()
      t.equal(refusal.message, code, `${what} (${way.name})`)
      t.match(refusal.data, { statusCode, code, error: String, message: String }, `${what}: the usual error body`)
    }
  }

  const allowed = openSocketIo(base, auth(login), { extraHeaders: { origin: 'https://pc.example' } })
  await allowed.connected
  await allowed.until(() => allowed.statuses.length === 1)
  const full = openSocketIo(base, auth(login), { transports: ['websocket'] })
  const capped = await full.refused
  t.equal(capped.message, 'RATE_LIMITED', 'the watcher cap counts socket.io watchers')
  t.match(capped.data, { statusCode: 429, code: 'RATE_LIMITED' })
  allowed.close()
  await whenLive(app, () => app.live.count('socket.io') === 0, 'the allowed watcher to be released')

  store.down = true
  const down = openSocketIo(base, auth(login))
  const unavailable = await down.refused
  t.equal(unavailable.message, 'STORE_UNAVAILABLE')
  t.match(unavailable.data, {
    statusCode: 503,
    code: 'STORE_UNAVAILABLE',
    message: 'The login store cannot be reached, try again shortly',
  })
  store.down = false
  assertNothingHeld(t, app)
})

t.test('socket.io watchers share the caps with the other transports', async (t) => {
  const { app, base, wsBase } = await listeningApp(t, { MAX_WATCHERS_PER_LOGIN: '2' })
  const login = await createLogin(app)
  const io = openSocketIo(base, auth(login))
  const ws = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: bearer(login.watchToken) })
  await Promise.all([io.connected, ws.opened])
  const sse = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  await sse.ready
  t.equal(sse.statusCode, 429, 'an SSE stream past the cap is refused')
  const metrics = (await app.inject({ url: '/metrics' })).body
  t.match(metrics, /qr_watchers\{transport="socket.io"\} 1/)
  io.close()
  ws.socket.close()
  await whenLive(app, () => app.live.stats().connections === 0, 'both to be released')
  assertNothingHeld(t, app)
})

t.test('shutdown tells socket.io clients to reconnect and does not keep close() waiting', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  // Polling only too: the client caught between two polls is the one that flaked here.
  const closing = [...ways, { name: 'polling only', options: { transports: ['polling' as const] } }]
  const watchers = closing.map((way) =>
    openSocketIo(base, auth(login), { ...way.options, reconnection: true, reconnectionDelay: 20 }),
  )
  await Promise.all(watchers.map((watcher) => watcher.until(() => watcher.statuses.length === 1)))
  // A client still on polling when the server goes may see 'transport error' instead of
  // 'transport close'; either way it must try again, which 'io server disconnect' would stop.
  const retried = watchers.map(
    (watcher) => new Promise<void>((resolve) => watcher.socket.io.once('reconnect_attempt', () => resolve())),
  )
  const started = Date.now()
  await app.close()
  t.ok(Date.now() - started < 5000, `closed in ${Date.now() - started} ms`)
  for (const [index, watcher] of watchers.entries()) {
    await retried[index]
    t.not(watcher.disconnectReason, 'io server disconnect', `${closing[index].name}: ${watcher.disconnectReason}`)
    t.ok(watcher.socket.active, `${closing[index].name}: the client tries to reconnect`)
    watcher.close()
  }
  assertNothingHeld(t, app)
})

t.test('other WebSocket upgrades still reach Fastify with socket.io attached', async (t) => {
  const { app, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const ws = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: bearer(login.watchToken) })
  await ws.until(() => ws.frames.length === 1)
  t.equal(ws.frames[0].status, 'pending')
  ws.socket.close()
  const refused = await openWs(`${wsBase}/api/qr/${login.id}/ws`).refused
  t.equal(refused.statusCode, 401, 'a refusal is still Fastify’s plain HTTP answer')
})
