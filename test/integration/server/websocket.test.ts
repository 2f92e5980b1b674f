import { request as httpRequest } from 'node:http'
import t from 'tap'
import { ManualClock } from '@qr-login/core'
import { approve, createLogin, whenLive, listeningApp, openWs, phoneAction, phoneToken } from '../../helpers/server.js'

t.test('first frame at once, every change, then close 1000 after confirmed', async (t) => {
  const { app, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const client = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: { cookie: `qr_watch=${login.watchToken}` } })
  await client.opened
  await client.until(() => client.frames.length === 1)
  t.same(client.frames[0], { type: 'status', id: login.id, status: 'pending', version: 1, expiresAt: login.expiresAt })
  const phone = await phoneToken(app)
  await phoneAction(app, 'scan', login.id, phone)
  await phoneAction(app, 'confirm', login.id, phone)
  await client.until(() => client.closeCode !== undefined)
  t.same(
    client.frames.map((f) => [f.status, f.version]),
    [
      ['pending', 1],
      ['scanned', 2],
      ['confirmed', 3],
    ],
  )
  t.equal(client.closeCode, 1000)
  await whenLive(app, () => app.live.count('ws') === 0, 'the socket to be released')
  t.equal(app.logins.stats().watches, 0)
})

t.test('a bearer token works, and an upgrade without Origin is accepted', async (t) => {
  const { app, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const client = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: { authorization: `Bearer ${login.watchToken}` } })
  await client.opened
  await client.until(() => client.frames.length === 1)
  t.equal(client.frames[0].status, 'pending')
  client.socket.close()
})

t.test('an allowed Origin is accepted; a foreign one is refused with 403 before the upgrade', async (t) => {
  const { app, base, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const headers = { cookie: `qr_watch=${login.watchToken}` }
  const own = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers, origin: base })
  await own.opened
  own.socket.close()
  const published = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers, origin: 'http://qr.test:3000' })
  await published.opened
  published.socket.close()
  const foreign = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers, origin: 'https://evil.example' })
  const refusal = await foreign.refused
  t.equal(refusal.statusCode, 403)
  t.equal(JSON.parse(refusal.body).code, 'ORIGIN_REJECTED')
})

t.test('refusals are plain HTTP answers with the JSON error body', async (t) => {
  const { app, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const other = await createLogin(app)
  const cases: [string, Record<string, string>, number, string][] = [
    ['not-an-id', {}, 400, 'VALIDATION_ERROR'],
    ['Q'.repeat(21), { authorization: `Bearer ${login.watchToken}` }, 404, 'QR_NOT_FOUND'],
    [login.id, {}, 401, 'WATCH_TOKEN_REQUIRED'],
    [login.id, { authorization: `Bearer ${other.watchToken}` }, 403, 'WATCH_TOKEN_INVALID'],
  ]
  for (const [id, headers, statusCode, code] of cases) {
    const refusal = await openWs(`${wsBase}/api/qr/${id}/ws`, { headers }).refused
    t.equal(refusal.statusCode, statusCode, code)
    t.equal(JSON.parse(refusal.body).code, code)
  }
})

t.test('a plain GET without upgrade gets 426', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const response = await fetch(`${base}/api/qr/${login.id}/ws`, {
    headers: { authorization: `Bearer ${login.watchToken}` },
  })
  t.equal(response.status, 426)
  t.equal((await response.json()).code, 'UPGRADE_REQUIRED')
})

t.test('the server pings', async (t) => {
  const { app, wsBase } = await listeningApp(t, { WS_PING_MS: '30' })
  const login = await createLogin(app)
  const client = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: { authorization: `Bearer ${login.watchToken}` } })
  await client.until(() => client.pings >= 2)
  t.ok(client.pings >= 2)
  client.socket.close()
})

t.test('expiry reaches an idle socket', async (t) => {
  const clock = new ManualClock()
  const { app, wsBase } = await listeningApp(t, { QR_TTL_SECONDS: '10' }, { clock })
  const login = await createLogin(app)
  const client = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: { authorization: `Bearer ${login.watchToken}` } })
  await client.until(() => client.frames.length === 1)
  await clock.advance(10_000)
  await client.until(() => client.closeCode !== undefined)
  t.same(
    client.frames.map((f) => f.status),
    ['pending', 'expired'],
  )
  t.equal(client.closeCode, 1000)
})

t.test('a client that disconnects frees its watcher', async (t) => {
  const { app, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const client = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: { authorization: `Bearer ${login.watchToken}` } })
  await client.until(() => client.frames.length === 1)
  client.socket.terminate()
  await whenLive(
    app,
    () => app.live.count('ws') === 0 && app.logins.stats().watches === 0,
    'the server to notice the disconnect',
  )
  t.same(app.logins.stats().feed, { channels: 0, listeners: 0 })
})

t.test('two sockets on one login both get every change', async (t) => {
  const { app, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const options = { headers: { authorization: `Bearer ${login.watchToken}` } }
  const tabs = [openWs(`${wsBase}/api/qr/${login.id}/ws`, options), openWs(`${wsBase}/api/qr/${login.id}/ws`, options)]
  for (const tab of tabs) await tab.until(() => tab.frames.length === 1)
  await approve(app, login.id)
  for (const tab of tabs) {
    await tab.until(() => tab.closeCode !== undefined)
    t.same(
      tab.frames.map((f) => f.status),
      ['pending', 'scanned', 'confirmed'],
    )
  }
})

/** An upgrade request sent by hand, for handshakes a WebSocket client would not send; resolves with the HTTP answer. */
function rawUpgrade(url: string, headers: Record<string, string>) {
  return new Promise<{ statusCode: number; body: string; closed: Promise<void> }>((resolve, reject) => {
    const request = httpRequest(url, {
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', ...headers },
    })
    request.on('error', reject)
    request.on('upgrade', () => reject(new Error('upgraded')))
    request.on('socket', (socket) => {
      const closed = new Promise<void>((resolveClosed) => socket.once('close', () => resolveClosed()))
      request.on('response', (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({ statusCode: response.statusCode ?? 0, body, closed }))
      })
    })
    request.end()
  })
}

t.test('a handshake ws refuses after the checks passed gets 400, and the watch it opened is released', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const answer = await rawUpgrade(`${base}/api/qr/${login.id}/ws`, { authorization: `Bearer ${login.watchToken}` })
  t.equal(answer.statusCode, 400)
  t.match(answer.body, /Sec-WebSocket-Key/)
  await answer.closed
  await whenLive(app, () => app.live.count('ws') === 0 && app.logins.stats().watches === 0, 'the watch to be released')
  t.same(app.limits.watcherStats(), { logins: 0, ips: 0 })
})

t.test("an upgrade to a route that takes no socket gets that route's answer, then the connection closes", async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const key = 'dGhlIHNhbXBsZSBub25jZQ=='
  const poll = await rawUpgrade(`${base}/api/qr/${login.id}`, {
    'sec-websocket-key': key,
    authorization: `Bearer ${login.watchToken}`,
  })
  t.equal(poll.statusCode, 200)
  t.equal(JSON.parse(poll.body).status, 'pending')
  await poll.closed
  const unknown = await rawUpgrade(`${base}/api/nothing-here`, { 'sec-websocket-key': key })
  t.equal(unknown.statusCode, 404)
  await unknown.closed
  t.equal(app.live.count('ws'), 0)
})

t.test('a frame over 4 KiB from the client closes the socket with 1009 and frees its watcher', async (t) => {
  const { app, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const client = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: { authorization: `Bearer ${login.watchToken}` } })
  await client.until(() => client.frames.length === 1)
  client.socket.send('x'.repeat(4097))
  await client.until(() => client.closeCode !== undefined)
  t.equal(client.closeCode, 1009)
  await whenLive(app, () => app.live.count('ws') === 0 && app.logins.stats().watches === 0, 'the watcher to be freed')
})

t.test('small frames from the client are ignored; the watch goes on', async (t) => {
  const { app, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const client = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: { authorization: `Bearer ${login.watchToken}` } })
  await client.until(() => client.frames.length === 1)
  client.socket.send('hello')
  await approve(app, login.id)
  await client.until(() => client.closeCode !== undefined)
  t.same(
    client.frames.map((f) => f.status),
    ['pending', 'scanned', 'confirmed'],
  )
  t.equal(client.closeCode, 1000)
})
