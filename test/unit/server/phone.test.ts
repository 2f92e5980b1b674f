import t from 'tap'
import { ManualClock } from '@qr-login/core'
import {
  bearer,
  chromeOnWindows,
  createLogin,
  phoneAction,
  phoneToken,
  testApp,
  whenLive,
} from '../../helpers/server.js'

t.test('GET /api/demo-users lists the demo accounts without passwords', async (t) => {
  const app = await testApp(t)
  const response = await app.inject({ url: '/api/demo-users' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), [
    { username: 'alice', displayName: 'Alice', avatarUrl: '/avatars/alice.svg' },
    { username: 'bob', displayName: 'Bob', avatarUrl: '/avatars/bob.svg' },
    { username: 'carol', displayName: 'Carol', avatarUrl: '/avatars/carol.svg' },
  ])
  t.notOk(response.body.includes('demo"'), 'no password in the list')
})

t.test('demo accounts and their password are configurable', async (t) => {
  const app = await testApp(t, { DEMO_USERS: 'dave,erin', DEMO_PASSWORD: 's3cret' })
  t.same(
    (await app.inject({ url: '/api/demo-users' })).json().map((u: { username: string }) => u.username),
    ['dave', 'erin'],
  )
  const ok = await app.inject({
    method: 'POST',
    url: '/api/mobile/session',
    payload: { username: 'erin', password: 's3cret' },
  })
  t.equal(ok.statusCode, 200)
  const old = await app.inject({
    method: 'POST',
    url: '/api/mobile/session',
    payload: { username: 'alice', password: 'demo' },
  })
  t.equal(old.statusCode, 401)
})

t.test('phone sign-in sets m_session and returns a bearer token', async (t) => {
  const app = await testApp(t)
  const response = await app.inject({
    method: 'POST',
    url: '/api/mobile/session',
    payload: { username: 'alice', password: 'demo' },
  })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.same(body.user, { username: 'alice', displayName: 'Alice', avatarUrl: '/avatars/alice.svg' })
  const cookie = response.cookies.find((c) => c.name === 'm_session')!
  t.equal(cookie.value, body.token)
  t.equal(cookie.httpOnly, true)
  t.equal(response.headers['cache-control'], 'no-store')

  for (const request of [{ cookies: { m_session: body.token } }, { headers: bearer(body.token) }]) {
    const me = await app.inject({ url: '/api/mobile/me', ...request })
    t.equal(me.statusCode, 200)
    t.same(me.json(), { user: body.user })
  }
})

t.test('bad credentials are 401 BAD_CREDENTIALS; no session is 401 AUTH_REQUIRED', async (t) => {
  const app = await testApp(t)
  for (const payload of [
    { username: 'alice', password: 'nope' },
    { username: 'mallory', password: 'demo' },
  ]) {
    const response = await app.inject({ method: 'POST', url: '/api/mobile/session', payload })
    t.equal(response.statusCode, 401)
    t.equal(response.json().code, 'BAD_CREDENTIALS')
  }
  for (const request of [{}, { headers: bearer('forged') }, { cookies: { m_session: 'forged' } }]) {
    const me = await app.inject({ url: '/api/mobile/me', ...request })
    t.equal(me.statusCode, 401)
    t.equal(me.json().code, 'AUTH_REQUIRED')
  }
  const login = await createLogin(app)
  for (const action of ['scan', 'confirm', 'cancel']) {
    const response = await app.inject({ method: 'POST', url: `/api/qr/${login.id}/${action}` })
    t.equal(response.statusCode, 401, action)
    t.equal(response.json().code, 'AUTH_REQUIRED')
  }
  const pcToken = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/scan`,
    headers: bearer(login.watchToken),
  })
  t.equal(pcToken.statusCode, 401, 'a watch token is not a phone session')
})

t.test('scan returns the status and who is asking', async (t) => {
  const app = await testApp(t, { TRUST_PROXY: 'true' })
  const response = await app.inject({
    method: 'POST',
    url: '/api/qr',
    headers: { 'user-agent': chromeOnWindows, 'x-forwarded-for': '203.0.113.7' },
  })
  const login = response.json()
  const phone = await phoneToken(app)
  const scan = await phoneAction(app, 'scan', login.id, phone)
  t.equal(scan.statusCode, 200)
  const body = scan.json()
  t.equal(body.status, 'scanned')
  t.equal(body.version, 2)
  t.same(body.scannedBy, { displayName: 'Alice', avatarUrl: '/avatars/alice.svg' })
  t.same(Object.keys(body.requester).sort(), ['browser', 'createdAt', 'ip', 'os', 'userAgent'])
  t.equal(body.requester.ip, '203.0.113.7', 'the PC address as seen through TRUST_PROXY')
  t.equal(body.requester.userAgent, chromeOnWindows)
  t.equal(body.requester.browser, 'Chrome 131')
  t.equal(body.requester.os, 'Windows 10')
  t.ok(Math.abs(Date.parse(body.requester.createdAt) - Date.now()) < 5000)
  t.notOk(JSON.stringify(body).includes(login.watchToken), 'nothing secret')

  const again = await phoneAction(app, 'scan', login.id, phone)
  t.equal(again.statusCode, 200)
  t.equal(again.json().version, 2, 'scanning twice changes nothing')

  const bob = await phoneAction(app, 'scan', login.id, await phoneToken(app, 'bob'))
  t.equal(bob.statusCode, 409)
  t.equal(bob.json().code, 'ALREADY_SCANNED')
})

t.test('without TRUST_PROXY, X-Forwarded-For is ignored', async (t) => {
  const app = await testApp(t)
  const login = (
    await app.inject({ method: 'POST', url: '/api/qr', headers: { 'x-forwarded-for': '203.0.113.7' } })
  ).json()
  const scan = await phoneAction(app, 'scan', login.id, await phoneToken(app))
  t.equal(scan.json().requester.ip, '127.0.0.1')
  t.equal(scan.json().requester.browser, 'Unknown browser')
})

t.test('confirm and cancel follow the contract', async (t) => {
  const app = await testApp(t)
  const alice = await phoneToken(app, 'alice')
  const bob = await phoneToken(app, 'bob')

  const login = await createLogin(app)
  const notScanned = await phoneAction(app, 'confirm', login.id, alice)
  t.equal(notScanned.statusCode, 409)
  t.equal(notScanned.json().code, 'NOT_SCANNED')
  await phoneAction(app, 'scan', login.id, alice)
  const notScanner = await phoneAction(app, 'confirm', login.id, bob)
  t.equal(notScanner.statusCode, 403)
  t.equal(notScanner.json().code, 'NOT_SCANNER')
  const cancelByOther = await phoneAction(app, 'cancel', login.id, bob)
  t.equal(cancelByOther.statusCode, 403)
  t.equal(cancelByOther.json().code, 'NOT_SCANNER')
  const confirmed = await phoneAction(app, 'confirm', login.id, alice)
  t.equal(confirmed.statusCode, 200)
  t.same(Object.keys(confirmed.json()), ['id', 'status', 'version', 'expiresAt', 'scannedBy'])
  t.equal(confirmed.json().status, 'confirmed')
  t.equal(confirmed.json().version, 3)
  const late = await phoneAction(app, 'cancel', login.id, alice)
  t.equal(late.statusCode, 409)
  t.equal(late.json().code, 'INVALID_TRANSITION')

  const pending = await createLogin(app)
  const cancelled = await phoneAction(app, 'cancel', pending.id, bob)
  t.equal(cancelled.statusCode, 200, 'any signed-in user may cancel while pending')
  t.equal(cancelled.json().status, 'cancelled')
  const scanAfter = await phoneAction(app, 'scan', pending.id, alice)
  t.equal(scanAfter.statusCode, 409)
  t.equal(scanAfter.json().code, 'INVALID_TRANSITION')
})

t.test('of racing confirms exactly one wins; the others get 409', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const alice = await phoneToken(app)
  await phoneAction(app, 'scan', login.id, alice)
  const responses = await Promise.all(Array.from({ length: 100 }, () => phoneAction(app, 'confirm', login.id, alice)))
  t.equal(responses.filter((r) => r.statusCode === 200).length, 1)
  t.equal(responses.filter((r) => r.statusCode === 409).length, 99)
})

t.test('of racing exchanges exactly one wins', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const alice = await phoneToken(app)
  await phoneAction(app, 'scan', login.id, alice)
  await phoneAction(app, 'confirm', login.id, alice)
  const responses = await Promise.all(
    Array.from({ length: 100 }, () =>
      app.inject({ method: 'POST', url: `/api/qr/${login.id}/exchange`, headers: bearer(login.watchToken) }),
    ),
  )
  t.equal(responses.filter((r) => r.statusCode === 200).length, 1)
  t.same([...new Set(responses.filter((r) => r.statusCode !== 200).map((r) => r.json().code))], ['ALREADY_CONSUMED'])
})

t.test('actions after expiry are 410 QR_EXPIRED', async (t) => {
  const clock = new ManualClock()
  const app = await testApp(t, { QR_TTL_SECONDS: '10' }, { clock })
  const login = await createLogin(app)
  const alice = await phoneToken(app)
  // Wait for the expiry itself (an event), then act.
  const held = app.inject({ url: `/api/qr/${login.id}?since=1&wait=30`, headers: bearer(login.watchToken) })
  await whenLive(app, () => app.live.count('long-poll') === 1, 'the long poll to be held')
  await clock.advance(10_000)
  const expired = await held
  t.equal(expired.json().status, 'expired')
  for (const action of ['scan', 'confirm', 'cancel'] as const) {
    const response = await phoneAction(app, action, login.id, alice)
    t.equal(response.statusCode, 410, action)
    t.equal(response.json().code, 'QR_EXPIRED')
  }
  const exchange = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    headers: bearer(login.watchToken),
  })
  t.equal(exchange.statusCode, 410)
  t.equal(exchange.json().code, 'QR_EXPIRED')
})

t.test('cookie-authenticated POSTs from a foreign Origin are refused; bearer calls need no Origin', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const alice = await phoneToken(app)
  const foreign = { origin: 'https://evil.example' }
  for (const action of ['scan', 'confirm', 'cancel']) {
    const response = await app.inject({
      method: 'POST',
      url: `/api/qr/${login.id}/${action}`,
      headers: foreign,
      cookies: { m_session: alice },
    })
    t.equal(response.statusCode, 403, action)
    t.equal(response.json().code, 'ORIGIN_REJECTED')
  }
  const exchange = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    headers: foreign,
    cookies: { qr_watch: login.watchToken },
  })
  t.equal(exchange.json().code, 'ORIGIN_REJECTED')
  const logout = await app.inject({
    method: 'POST',
    url: '/api/logout',
    headers: foreign,
    cookies: { sid: 'whatever' },
  })
  t.equal(logout.json().code, 'ORIGIN_REJECTED')
  t.equal(
    (await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })).json().version,
    1,
    'nothing changed',
  )

  for (const origin of ['http://qr.test:3000', 'http://localhost:80']) {
    const response = await app.inject({
      method: 'POST',
      url: `/api/qr/${login.id}/scan`,
      headers: { origin, host: 'localhost:80' },
      cookies: { m_session: alice },
    })
    t.equal(response.statusCode, 200, `${origin} is allowed (PUBLIC_URL or the request's own origin)`)
  }
  const viaBearer = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/confirm`,
    headers: { ...foreign, ...bearer(alice) },
  })
  t.equal(viaBearer.statusCode, 200)
})

t.test('ALLOWED_ORIGINS replaces the default allow-list', async (t) => {
  const app = await testApp(t, { ALLOWED_ORIGINS: 'https://login.example, https://other.example' })
  const login = await createLogin(app)
  const alice = await phoneToken(app)
  const publicUrl = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/scan`,
    headers: { origin: 'http://qr.test:3000' },
    cookies: { m_session: alice },
  })
  t.equal(publicUrl.statusCode, 403)
  const listed = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/scan`,
    headers: { origin: 'https://other.example' },
    cookies: { m_session: alice },
  })
  t.equal(listed.statusCode, 200)
})
