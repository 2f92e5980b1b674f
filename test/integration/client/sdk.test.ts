import t from 'tap'
import WebSocket from 'ws'
import {
  QrLoginClient,
  QrLoginError,
  parseScanUrl,
  type LoginStatusView,
  type TrafficEvent,
  type TransportName,
  type WatchOptions,
} from '@qr-login/client'
import type { Socket } from 'node:net'
import { nodeWebSocket } from '@qr-login/client/node'
import { listeningApp, recorded, whenLive } from '../../helpers/server.js'

function clientFor(base: string) {
  return new QrLoginClient({
    baseUrl: base,
    webSocket: nodeWebSocket,
    headers: { 'user-agent': 'qr-login-sdk-test/1.0' },
  })
}

async function collect(iterable: AsyncIterable<LoginStatusView>) {
  const seen: LoginStatusView[] = []
  for await (const status of iterable) seen.push(status)
  return seen
}

const everyWay: [TransportName, WatchOptions?][] = [
  ['poll'],
  ['long-poll'],
  ['sse'],
  ['ws'],
  ['socket.io'],
  ['socket.io', { socketIoTransports: ['websocket'] }],
]
for (const [transport, extra] of everyWay) {
  t.test(
    `${transport}${extra ? ' (WebSocket only)' : ''}: a whole login, every status once and in order`,
    async (t) => {
      const { base } = await listeningApp(t, { POLL_INTERVAL_MS: '50' })
      const client = clientFor(base)
      const login = await client.createLogin()
      const traffic: TrafficEvent[] = []
      const seen: LoginStatusView[] = []
      const watching = (async () => {
        for await (const status of client.watch(login, { transport, ...extra, onTraffic: (e) => traffic.push(e) })) {
          seen.push(status)
          if (status.status === 'pending') {
            const phone = await client.signInPhone('alice', 'demo')
            const scanned = await phone.scan(login.id)
            t.equal(scanned.requester.browser, 'qr-login-sdk-test 1')
            await phone.confirm(login.id)
          }
        }
      })()
      await watching
      if (transport === 'poll') {
        t.same(seen.map((s) => s.status).at(-1), 'confirmed')
        t.ok(
          seen.every((s, i) => i === 0 || s.version > seen[i - 1].version),
          'versions only grow',
        )
      } else {
        t.same(
          seen.map((s) => [s.status, s.version]),
          [
            ['pending', 1],
            ['scanned', 2],
            ['confirmed', 3],
          ],
        )
      }
      t.ok(traffic.some((e) => e.type === 'transport' && e.transport === transport))
      t.ok(
        traffic.filter((e) => e.type === 'bytes').reduce((sum, e) => sum + (e.type === 'bytes' ? e.bytes : 0), 0) > 0,
        'bytes are counted',
      )
      const { user } = await client.exchange(login)
      t.equal(user.username, 'alice')
    },
  )
}

t.test('auto uses WebSocket first', async (t) => {
  const { base } = await listeningApp(t)
  const client = clientFor(base)
  const login = await client.createLogin()
  const transports: string[] = []
  const phone = await client.signInPhone('bob', 'demo')
  await phone.scan(login.id)
  await phone.cancel(login.id)
  const seen = await collect(
    client.watch(login, { onTraffic: (e) => e.type === 'transport' && transports.push(e.transport) }),
  )
  t.same(
    seen.map((s) => s.status),
    ['cancelled'],
  )
  t.same(transports, ['ws'])
})

t.test('auto falls back to SSE when the WebSocket upgrade is refused', async (t) => {
  const { base } = await listeningApp(t)
  // A WebSocket that announces a foreign Origin is refused with 403 before the upgrade.
  const client = new QrLoginClient({
    baseUrl: base,
    webSocket: (url, headers) => new WebSocket(url, { headers, origin: 'https://elsewhere.example' }) as never,
  })
  const login = await client.createLogin()
  const traffic = recorded<TrafficEvent>()
  const events = traffic.seen
  const watching = collect(client.watch(login, { onTraffic: (e) => traffic.push(e) }))
  const phone = await client.signInPhone('carol', 'demo')
  await traffic.until((seen) => seen.some((e) => e.type === 'status'), 'the first status')
  await phone.scan(login.id)
  await phone.confirm(login.id)
  const seen = await watching
  t.same(
    seen.map((s) => s.status),
    ['pending', 'scanned', 'confirmed'],
  )
  const fallback = events.find((e) => e.type === 'fallback')
  t.match(fallback, { from: 'ws', to: 'sse' })
})

t.test(
  'auto falls back to SSE when a refused upgrade fires error and never close (Node 22, undici 6)',
  { timeout: 10_000 },
  async (t) => {
    const { base } = await listeningApp(t)
    // The `ws` package's socket with its close events swallowed after a refused upgrade, and an error
    // again on close(): what Node 22's built-in WebSocket does (undici issue 3546). Without the watch token (as in a browser without its
    // cookie) the upgrade is refused with 401.
    const closesSwallowed = recorded<string>()
    const client = new QrLoginClient({
      baseUrl: base,
      webSocket: (url) => {
        const socket = new WebSocket(url)
        const like = {
          get readyState() {
            return socket.readyState
          },
          onopen: null as ((event: unknown) => void) | null,
          onmessage: null as ((event: { data: unknown }) => void) | null,
          onclose: null as ((event: { code: number; reason: string }) => void) | null,
          onerror: null as ((event: unknown) => void) | null,
          close: (code?: number, reason?: string) => {
            // As Node 22's does: closing a socket whose upgrade failed fires error again, at once.
            if (failed) like.onerror?.(new Error('closed after a failed upgrade'))
            socket.close(code, reason)
          },
        }
        let failed = false
        socket.on('open', () => like.onopen?.({}))
        socket.on('message', (data) => like.onmessage?.({ data: String(data) }))
        socket.on('error', (error) => {
          failed = true
          like.onerror?.(error)
        })
        socket.on('close', () => closesSwallowed.push(url))
        return like
      },
    })
    const login = await client.createLogin()
    const traffic = recorded<TrafficEvent>()
    const events = traffic.seen
    const watching = collect(client.watch(login, { onTraffic: (e) => traffic.push(e) }))
    await traffic.until((seen) => seen.some((e) => e.type === 'status'), 'the first status')
    const phone = await client.signInPhone('alice', 'demo')
    await phone.scan(login.id)
    await phone.confirm(login.id)
    t.same(
      (await watching).map((s) => s.status),
      ['pending', 'scanned', 'confirmed'],
    )
    t.match(
      events.find((e) => e.type === 'fallback'),
      { from: 'ws', to: 'sse', error: { code: 'UNSUPPORTED' } },
    )
    t.equal(events.filter((e) => e.type === 'transport' && e.transport === 'ws').length, 1, 'one WebSocket tried')
    await closesSwallowed.until((seen) => seen.length === 1, 'the refused socket closed')
  },
)

t.test('auto falls all the way to polling when nothing streams', async (t) => {
  const { base } = await listeningApp(t, { POLL_INTERVAL_MS: '50' })
  // A fetch that cannot stream bodies and no WebSocket: only the polling transports work.
  const client = new QrLoginClient({
    baseUrl: base,
    fetch: async (input, init) => {
      const response = await fetch(input, init)
      if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
        await response.body?.cancel()
        return new Response(null, { status: 200, headers: { 'content-type': 'text/event-stream' } })
      }
      return response
    },
  })
  const login = await client.createLogin()
  const tried = recorded<string>()
  const transports = tried.seen
  const watching = collect(client.watch(login, { onTraffic: (e) => e.type === 'transport' && tried.push(e.transport) }))
  await tried.until((seen) => seen.includes('long-poll'), 'the fall back to long polling')
  const phone = await client.signInPhone('alice', 'demo')
  await phone.scan(login.id)
  await phone.cancel(login.id)
  t.same(
    (await watching).map((s) => s.status),
    ['pending', 'scanned', 'cancelled'],
  )
  t.same(
    transports,
    ['ws', 'sse', 'long-poll'],
    "Node's own WebSocket cannot send the watch token (the upgrade is refused), then no streaming body",
  )
})

for (const transport of ['sse', 'ws', 'long-poll', 'socket.io'] as const) {
  t.test(
    `${transport}: reconnects after the server drops the connection and resumes without loss or repeats`,
    async (t) => {
      const { app, base } = await listeningApp(t)
      // Every TCP connection the server accepts, upgraded ones included: what a crashing proxy would cut.
      const sockets = new Set<Socket>()
      app.server.on('connection', (socket: Socket) => sockets.add(socket))
      const client = clientFor(base)
      const login = await client.createLogin()
      const traffic = recorded<TrafficEvent>()
      const statuses = recorded<LoginStatusView>()
      const seen = statuses.seen
      // The phone acts in-process: its own keep-alive connections would be dropped too.
      const phoneToken = await client.signInPhone('alice', 'demo').then((p) => p.token!)
      const act = (action: string) =>
        app.inject({
          method: 'POST',
          url: `/api/qr/${login.id}/${action}`,
          headers: { authorization: `Bearer ${phoneToken}` },
        })
      const watching = (async () => {
        for await (const status of client.watch(login, {
          transport,
          retryDelayMs: 20,
          // Over WebSocket only: a socket.io client still polling, or between two polls, holds no connection
          // for the cut to reach, and would never need to retry (seen once under a loaded run).
          ...(transport === 'socket.io' ? { socketIoTransports: ['websocket' as const] } : {}),
          onTraffic: (e) => traffic.push(e),
        }))
          statuses.push(status)
      })()
      await statuses.until((seen) => seen.length === 1, 'the first status')
      await whenLive(app, () => app.live.count(transport) === 1, 'the connection to be live')
      // Drop every connection, then change the login while the client is away.
      for (const socket of sockets) socket.destroy()
      await act('scan')
      await traffic.until((seen) => seen.some((e) => e.type === 'retry'), 'a retry')
      // The change made while the client was away arrives once it is back...
      await statuses.until((seen) => seen.length === 2, 'the missed status after reconnecting')
      // ...and later changes keep flowing on the new connection.
      await act('confirm')
      await watching
      t.same(
        seen.map((s) => [s.status, s.version]),
        [
          ['pending', 1],
          ['scanned', 2],
          ['confirmed', 3],
        ],
      )
    },
  )
}

t.test('socket.io refusals are typed errors; without the watch token it cannot start', async (t) => {
  const { base } = await listeningApp(t)
  const client = clientFor(base)
  const login = await client.createLogin()
  await t.rejects(
    collect(client.watch({ id: 'A'.repeat(21), watchToken: login.watchToken }, { transport: 'socket.io' })),
    {
      name: 'QrLoginError',
      code: 'QR_NOT_FOUND',
      statusCode: 404,
    },
  )
  await t.rejects(collect(client.watch({ id: login.id, watchToken: 'wrong' }, { transport: 'socket.io' })), {
    code: 'WATCH_TOKEN_INVALID',
    statusCode: 403,
  })
  await t.rejects(collect(client.watch({ id: login.id }, { transport: 'socket.io' })), {
    code: 'WATCH_TOKEN_REQUIRED',
    statusCode: 401,
  })
})

t.test('refusals surface as typed errors with the contract code', async (t) => {
  const { base } = await listeningApp(t)
  const client = clientFor(base)
  const login = await client.createLogin()
  await t.rejects(client.status({ id: login.id, watchToken: 'wrong' }), {
    name: 'QrLoginError',
    code: 'WATCH_TOKEN_INVALID',
    statusCode: 403,
  })
  await t.rejects(collect(client.watch({ id: 'A'.repeat(21), watchToken: login.watchToken }, { transport: 'sse' })), {
    code: 'QR_NOT_FOUND',
    statusCode: 404,
  })
  await t.rejects(client.exchange(login), { code: 'NOT_CONFIRMED' })
  await t.rejects(client.signInPhone('alice', 'nope'), { code: 'BAD_CREDENTIALS' })
  const down = new QrLoginClient({ baseUrl: 'http://127.0.0.1:9' })
  const error = await down.createLogin().catch((e: unknown) => e)
  t.ok(error instanceof QrLoginError)
  t.equal((error as QrLoginError).code, 'NETWORK_ERROR')
})

t.test('a watch stops when its signal aborts', async (t) => {
  const { app, base } = await listeningApp(t)
  const client = clientFor(base)
  const login = await client.createLogin()
  const abort = new AbortController()
  const seen: string[] = []
  for await (const status of client.watch(login, { transport: 'ws', signal: abort.signal })) {
    seen.push(status.status)
    abort.abort()
  }
  t.same(seen, ['pending'])
  await whenLive(app, () => app.live.count('ws') === 0, 'the socket to close')

  const stop = new AbortController()
  for await (const status of client.watch(login, { transport: 'socket.io', signal: stop.signal })) {
    t.equal(status.status, 'pending')
    stop.abort()
  }
  await whenLive(app, () => app.live.count('socket.io') === 0, 'the socket.io watcher to go')
})

t.test('parseScanUrl finds the base URL and id', async (t) => {
  t.same(parseScanUrl('http://192.168.1.5:3000/m/V1StGXR8_Z5jdHi6B-myT'), {
    baseUrl: 'http://192.168.1.5:3000',
    id: 'V1StGXR8_Z5jdHi6B-myT',
  })
  t.same(parseScanUrl('https://example.com/login/m/V1StGXR8_Z5jdHi6B-myT'), {
    baseUrl: 'https://example.com/login',
    id: 'V1StGXR8_Z5jdHi6B-myT',
  })
  t.throws(() => parseScanUrl('https://example.com/m/short'))
})

t.test('phone: number matching, and the computers it signed in, listed and signed out', async (t) => {
  const { base } = await listeningApp(t, { MATCH_CODE: '1' })
  const client = clientFor(base)
  const login = await client.createLogin()
  t.match(login.matchCode, /^\d{2}$/)
  const phone = await client.signInPhone('bob', 'demo')
  const scanned = await phone.scan(login.id)
  t.ok(scanned.matchChoices?.includes(login.matchCode!))
  t.same(scanned.network, { phoneIp: '127.0.0.1', sameNetwork: true })
  t.equal((await phone.confirm(login.id, login.matchCode)).status, 'confirmed')
  t.equal((await client.exchange(login)).user.username, 'bob')

  const sessions = await phone.sessions()
  t.equal(sessions.length, 1)
  t.match(sessions[0], { ip: '127.0.0.1', browser: 'qr-login-sdk-test 1' })
  await phone.revokeSession(sessions[0].id)
  t.same(await phone.sessions(), [])
  await t.rejects(phone.revokeSession(sessions[0].id), {
    name: 'QrLoginError',
    code: 'SESSION_NOT_FOUND',
    statusCode: 404,
  })
})

t.test('a 429 becomes a retryable QrLoginError that says how long to wait', async (t) => {
  const { base } = await listeningApp(t, { RATE_LIMIT_CREATE_PER_MINUTE: '1' })
  const client = clientFor(base)
  await client.createLogin()
  const refused = await client.createLogin().catch((error: unknown) => error)
  t.ok(refused instanceof QrLoginError)
  t.match(refused, { code: 'RATE_LIMITED', statusCode: 429, retryable: true })
  t.ok((refused as QrLoginError).retryAfterMs! >= 1000 && (refused as QrLoginError).retryAfterMs! <= 60_000)
})

t.test('phone.resolveCode: the code under the QR finds the login; a wrong one is CODE_NOT_FOUND', async (t) => {
  const { base } = await listeningApp(t)
  const client = clientFor(base)
  const login = await client.createLogin()
  t.match(login.userCode, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
  const phone = await client.signInPhone('carol', 'demo')
  const found = await phone.resolveCode(login.userCode.toLowerCase())
  t.equal(found.id, login.id)
  t.equal((await phone.scan(found.id!)).status, 'scanned')
  await t.rejects(phone.resolveCode(login.userCode), { name: 'QrLoginError', code: 'CODE_NOT_FOUND', statusCode: 404 })
  await t.rejects(phone.resolveCode('nope'), { code: 'VALIDATION_ERROR', statusCode: 400 })
})

t.test('phone.history: the requests this user approved or cancelled, newest first', async (t) => {
  const { base } = await listeningApp(t)
  const client = clientFor(base)
  const phone = await client.signInPhone('alice', 'demo')
  const first = await client.createLogin()
  await phone.scan(first.id)
  await phone.confirm(first.id)
  const second = await client.createLogin()
  await phone.scan(second.id)
  await phone.cancel(second.id)
  const entries = await phone.history()
  t.same(
    entries.map((entry) => [entry.loginId, entry.outcome]),
    [
      [second.id, 'cancelled'],
      [first.id, 'approved'],
    ],
  )
  t.match(entries[0], { ip: '127.0.0.1', browser: 'qr-login-sdk-test 1' })
})

t.test('phone passkeys through the SDK: prompts, the list, refusals, and approvedWith on the PC', async (t) => {
  const { base } = await listeningApp(t)
  const client = clientFor(base)
  const phone = await client.signInPhone('alice', 'demo')
  t.same(await phone.passkeys(), [])
  const registration = await phone.passkeyRegistrationOptions()
  t.match(registration, { challenge: /^[\w-]{43}$/, rp: { name: 'QR Login' }, user: { name: 'alice' } })
  await t.rejects(
    phone.addPasskey({
      id: 'bmV3',
      rawId: 'bmV3',
      type: 'public-key',
      response: { clientDataJSON: 'e30', attestationObject: 'oA' },
      clientExtensionResults: {},
    }),
    { name: 'QrLoginError', code: 'PASSKEY_REJECTED', statusCode: 403 },
  )
  await t.rejects(phone.removePasskey('bm9uZQ'), { code: 'PASSKEY_NOT_FOUND', statusCode: 404 })

  const login = await client.createLogin()
  await t.rejects(phone.passkeyOptions(login.id), { code: 'NOT_SCANNED' })
  await phone.scan(login.id)
  await t.rejects(phone.passkeyOptions(login.id), { code: 'NO_PASSKEY', statusCode: 409 })
  const forged = {
    id: 'Zm9yZ2Vk',
    rawId: 'Zm9yZ2Vk',
    type: 'public-key' as const,
    response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
    clientExtensionResults: {},
  }
  await t.rejects(phone.confirm(login.id, { passkey: forged }), { code: 'PASSKEY_REJECTED' })
  t.equal((await phone.confirm(login.id, {})).status, 'confirmed', 'then a tap')
  t.match(await client.exchange(login), { user: { username: 'alice' }, approvedWith: 'tap' })
})
