import t from 'tap'
import {
  approve,
  bearer,
  chromeOnWindows,
  createLogin,
  phoneAction,
  phoneToken,
  testApp,
} from '../../helpers/server.js'

t.test('POST /api/qr creates a pending login bound to this browser', async (t) => {
  const app = await testApp(t, { QR_TTL_SECONDS: '90', POLL_INTERVAL_MS: '750' })
  const before = Date.now()
  const response = await app.inject({ method: 'POST', url: '/api/qr', headers: { 'user-agent': chromeOnWindows } })
  t.equal(response.statusCode, 201)
  t.equal(response.headers['cache-control'], 'no-store')
  const body = response.json()
  t.match(body.id, /^[A-Za-z0-9_-]{21}$/)
  t.equal(body.status, 'pending')
  t.equal(body.version, 1)
  t.equal(body.scanUrl, `http://qr.test:3000/m/${body.id}`)
  t.equal(body.qrSvgUrl, `/api/qr/${body.id}/qr.svg`)
  t.equal(body.pollIntervalMs, 750)
  t.ok(Buffer.from(body.watchToken, 'base64url').length >= 16, 'watch token of at least 128 bits')
  const expiresAt = Date.parse(body.expiresAt)
  t.ok(expiresAt >= before + 90_000 && expiresAt <= Date.now() + 90_000, 'expiresAt is now + QR_TTL_SECONDS')
  t.match(body.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

  const cookie = response.cookies.find((c) => c.name === 'qr_watch')
  t.ok(cookie, 'sets the qr_watch cookie')
  t.equal(cookie!.value, body.watchToken)
  t.equal(cookie!.path, `/api/qr/${body.id}`)
  t.equal(cookie!.httpOnly, true)
  t.equal(cookie!.sameSite, 'Strict')
  t.notOk(cookie!.secure, 'not Secure over plain http')
})

t.test('the watch token is never stored in clear', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const dump = JSON.stringify(
    await (app.logins as unknown as { store: { get(id: string): Promise<unknown> } }).store.get(login.id),
  )
  t.notOk(dump.includes(login.watchToken))
})

t.test('short poll reads the status with the cookie or a bearer token', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const expected = { id: login.id, status: 'pending', version: 1, expiresAt: login.expiresAt }
  const byCookie = await app.inject({ url: `/api/qr/${login.id}`, cookies: { qr_watch: login.watchToken } })
  t.equal(byCookie.statusCode, 200)
  t.same(byCookie.json(), expected)
  t.equal(byCookie.headers['cache-control'], 'no-store')
  const byBearer = await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
  t.same(byBearer.json(), expected)
})

t.test('a change between two short polls is seen by the next one', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const poll = () => app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) }).then((r) => r.json())
  t.equal((await poll()).status, 'pending')
  const token = await phoneToken(app, 'bob')
  await phoneAction(app, 'scan', login.id, token)
  const next = await poll()
  t.equal(next.status, 'scanned')
  t.equal(next.version, 2)
  t.same(next.scannedBy, { displayName: 'Bob', avatarUrl: '/avatars/bob.svg' })
  t.same(Object.keys(next.scannedBy), ['displayName', 'avatarUrl'], 'scannedBy carries nothing more')
})

t.test('binding: no token 401, a wrong or another login’s token 403, on reads and the exchange', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const other = await createLogin(app)
  await approve(app, login.id)
  const cases = [
    { method: 'GET' as const, url: `/api/qr/${login.id}` },
    { method: 'GET' as const, url: `/api/qr/${login.id}?wait=1&since=1` },
    { method: 'GET' as const, url: `/api/qr/${login.id}/events` },
    { method: 'GET' as const, url: `/api/qr/${login.id}/ws` },
    { method: 'POST' as const, url: `/api/qr/${login.id}/exchange` },
  ]
  for (const { method, url } of cases) {
    const none = await app.inject({ method, url })
    t.equal(none.statusCode, 401, `${method} ${url} without token`)
    t.equal(none.json().code, 'WATCH_TOKEN_REQUIRED')
    const wrong = await app.inject({ method, url, headers: bearer('x'.repeat(43)) })
    t.equal(wrong.statusCode, 403, `${method} ${url} wrong token`)
    t.equal(wrong.json().code, 'WATCH_TOKEN_INVALID')
    const foreign = await app.inject({ method, url, cookies: { qr_watch: other.watchToken } })
    t.equal(foreign.statusCode, 403, `${method} ${url} another login's token`)
    t.equal(foreign.json().code, 'WATCH_TOKEN_INVALID')
  }
  const status = await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
  t.equal(status.json().status, 'confirmed', 'refused exchanges consumed nothing')
})

t.test('malformed ids get 400 on every endpoint, before any token is looked at; unknown ids 404', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const badIds = [
    'abc',
    'A'.repeat(20),
    'A'.repeat(22),
    'A'.repeat(500),
    'A'.repeat(20) + '!',
    'A'.repeat(20) + '%2F',
    '%E2%9C%93'.repeat(7),
  ]
  const unknownId = 'Z'.repeat(21)
  const endpoints = [
    (id: string) => ({ method: 'GET' as const, url: `/api/qr/${id}` }),
    (id: string) => ({ method: 'GET' as const, url: `/api/qr/${id}?wait=1&since=1` }),
    (id: string) => ({ method: 'GET' as const, url: `/api/qr/${id}/events` }),
    (id: string) => ({ method: 'GET' as const, url: `/api/qr/${id}/ws` }),
    (id: string) => ({ method: 'GET' as const, url: `/api/qr/${id}/qr.svg` }),
    (id: string) => ({ method: 'POST' as const, url: `/api/qr/${id}/exchange` }),
    (id: string) => ({ method: 'POST' as const, url: `/api/qr/${id}/scan` }),
    (id: string) => ({ method: 'POST' as const, url: `/api/qr/${id}/confirm` }),
    (id: string) => ({ method: 'POST' as const, url: `/api/qr/${id}/cancel` }),
  ]
  const phone = await phoneToken(app)
  for (const endpoint of endpoints) {
    for (const id of badIds) {
      const response = await app.inject({ ...endpoint(id) })
      t.equal(response.statusCode, 400, `${endpoint(id).method} ${endpoint(id).url.slice(0, 60)}`)
      t.equal(response.json().code, 'VALIDATION_ERROR')
    }
    const isPhoneAction = /scan|confirm|cancel/.test(endpoint(unknownId).url)
    // PC endpoints: 404 whatever token comes along. Phone actions authenticate the caller first.
    const credentials = isPhoneAction ? [bearer(phone)] : [{}, bearer(login.watchToken), bearer('x'.repeat(43))]
    for (const headers of credentials) {
      const response = await app.inject({ ...endpoint(unknownId), headers })
      t.equal(response.statusCode, 404, `${endpoint(unknownId).url} unknown id`)
      t.equal(response.json().code, 'QR_NOT_FOUND')
    }
  }
})

t.test('qr.svg is an SVG of the scanUrl and needs no token', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const response = await app.inject({ url: login.qrSvgUrl })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^image\/svg\+xml/)
  t.equal(response.headers['cache-control'], 'no-store')
  t.match(response.body, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  t.notOk(response.body.includes(login.watchToken))
})

t.test('exchange mints an independent PC session, once', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const phone = await phoneToken(app)
  await phoneAction(app, 'scan', login.id, phone)
  const early = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    cookies: { qr_watch: login.watchToken },
  })
  t.equal(early.statusCode, 409)
  t.equal(early.json().code, 'NOT_CONFIRMED')
  await phoneAction(app, 'confirm', login.id, phone)

  const exchange = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    cookies: { qr_watch: login.watchToken },
  })
  t.equal(exchange.statusCode, 200)
  t.same(exchange.json(), {
    user: { username: 'alice', displayName: 'Alice', avatarUrl: '/avatars/alice.svg' },
    approvedWith: 'tap',
  })
  t.equal(exchange.headers['cache-control'], 'no-store')
  const sid = exchange.cookies.find((c) => c.name === 'sid')!
  t.ok(sid.value && sid.httpOnly && sid.path === '/', 'sid cookie, HttpOnly, whole site')
  t.not(sid.value, phone, 'the PC session is not the phone session')

  const again = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    cookies: { qr_watch: login.watchToken },
  })
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'ALREADY_CONSUMED')

  const me = await app.inject({ url: '/api/me', cookies: { sid: sid.value } })
  t.equal(me.statusCode, 200)
  t.equal(me.json().user.username, 'alice')
  t.equal(
    (await app.inject({ url: '/api/me', cookies: { sid: phone } })).statusCode,
    401,
    'a phone token is no PC session',
  )

  const phoneOut = await app.inject({ method: 'POST', url: '/api/logout', cookies: { sid: phone } })
  t.equal(phoneOut.statusCode, 204)
  t.equal(
    (await app.inject({ url: '/api/mobile/me', headers: bearer(phone) })).statusCode,
    200,
    'logout with a phone token ends nothing of the phone',
  )

  const logout = await app.inject({ method: 'POST', url: '/api/logout', cookies: { sid: sid.value } })
  t.equal(logout.statusCode, 204)
  t.equal(logout.body, '')
  t.equal(logout.headers['cache-control'], 'no-store')
  const afterLogout = await app.inject({ url: '/api/me', cookies: { sid: sid.value } })
  t.equal(afterLogout.statusCode, 401)
  t.equal(afterLogout.json().code, 'AUTH_REQUIRED')
})

t.test('exchange with a bearer token works without cookies', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  await approve(app, login.id, 'carol')
  const exchange = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    headers: { ...bearer(login.watchToken), origin: 'https://elsewhere.example' },
  })
  t.equal(exchange.statusCode, 200, 'a bearer call needs no Origin check')
  t.equal(exchange.json().user.username, 'carol')
})

t.test('/api/me without a session is 401', async (t) => {
  const app = await testApp(t)
  const response = await app.inject({ url: '/api/me' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'AUTH_REQUIRED')
  t.equal(response.headers['cache-control'], 'no-store')
})
