import t, { type Test } from 'tap'
import { memoryBackend, systemClock } from '@qr-login/core'
import {
  bearer,
  createLogin,
  listeningApp,
  openSse,
  openWs,
  phoneAction,
  phoneToken,
  testApp,
} from '../../helpers/server.js'
import { switchableBackend } from '../../helpers/switchable-store.js'
import { authorizationQuery, cookiesOf, relyingParty } from '../../helpers/oidc.js'

t.test('an unreachable store gives 503 STORE_UNAVAILABLE, never 500, and loses nothing', async (t) => {
  const store = switchableBackend(memoryBackend({ clock: systemClock }))
  const app = await testApp(t, {}, { backend: store })
  const login = await createLogin(app)
  const alice = await phoneToken(app)
  await phoneAction(app, 'scan', login.id, alice)

  store.down = true
  const requests = [
    app.inject({ method: 'POST', url: '/api/qr' }),
    app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) }),
    app.inject({ url: `/api/qr/${login.id}?since=2&wait=1`, headers: bearer(login.watchToken) }),
    app.inject({ url: `/api/qr/${login.id}/events`, headers: bearer(login.watchToken) }),
    app.inject({ url: login.qrSvgUrl }),
    phoneAction(app, 'confirm', login.id, alice),
    app.inject({ method: 'POST', url: '/api/mobile/session', payload: { username: 'bob', password: 'demo' } }),
    app.inject({ method: 'POST', url: `/api/qr/${login.id}/exchange`, headers: bearer(login.watchToken) }),
  ]
  for (const [i, response] of (await Promise.all(requests)).entries()) {
    t.equal(response.statusCode, 503, `request ${i}`)
    t.same(response.json(), {
      statusCode: 503,
      code: 'STORE_UNAVAILABLE',
      error: 'Service Unavailable',
      message: 'The login store cannot be reached, try again shortly',
    })
    t.equal(response.headers['cache-control'], 'no-store')
  }

  store.down = false
  const after = await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
  t.equal(after.json().status, 'scanned', 'the login is as it was')
  t.equal(after.json().version, 2)
  t.equal((await phoneAction(app, 'confirm', login.id, alice)).statusCode, 200, 'and service resumes')
})

t.test('SSE and WebSocket refuse with a plain 503 while the store is unreachable', async (t) => {
  const store = switchableBackend(memoryBackend({ clock: systemClock }))
  const { app, base, wsBase } = await listeningApp(t, {}, { backend: store })
  const login = await createLogin(app)
  store.down = true
  const stream = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  await stream.until(() => stream.ended)
  t.equal(stream.statusCode, 503)
  const refusal = await openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: bearer(login.watchToken) }).refused
  t.equal(refusal.statusCode, 503)
  t.equal(JSON.parse(refusal.body).code, 'STORE_UNAVAILABLE')
  t.equal(app.logins.stats().watches, 0, 'no watcher is left half-open')
})

/** What an outage answers: 503 STORE_UNAVAILABLE, or the provider's temporarily_unavailable; never a 404. */
function outage(t: Test, response: { statusCode: number; body: string }, what: string) {
  t.equal(response.statusCode, 503, `${what}: 503`)
  const body = JSON.parse(response.body) as { code?: string; error?: string }
  t.ok(body.code === 'STORE_UNAVAILABLE' || body.error === 'temporarily_unavailable', `${what}: says the store is away`)
}

t.test('a code typed on the phone while the store is away: 503, and the look-up limit is not spent', async (t) => {
  const store = switchableBackend(memoryBackend({ clock: systemClock }))
  const rp = await relyingParty(t)
  const app = await testApp(
    t,
    { OIDC_CLIENTS_FILE: rp.clientsFile, RATE_LIMIT_CODE_FAILURES_PER_SESSION: '1' },
    { backend: store },
  )
  const alice = await phoneToken(app)
  const login = await createLogin(app)
  const lookUp = (code: string) =>
    app.inject({ method: 'POST', url: '/api/mobile/code', headers: bearer(alice), payload: { code } })

  // The phone's session answers; the user codes do not: the QR logins' and the provider's devices', or the
  // devices' only (a code no QR login holds is then looked up there).
  for (const away of [['logins', 'oidc'], ['oidc']] as const) {
    for (const part of away) store.downParts.add(part)
    for (const code of [login.userCode, 'BCDF-GHJK', 'BCDF-GHJK']) {
      if (away.length === 1 && code === login.userCode) continue
      outage(t, await lookUp(code), `look-up of ${code} with ${away.join(' and ')} away`)
    }
    store.downParts.clear()
  }
  const found = await lookUp(login.userCode)
  t.equal(found.statusCode, 200, 'the real code resolves: no failed look-up was counted while the store was away')
  t.equal(found.json().id, login.id)
  t.equal((await lookUp('BCDF-GHJK')).statusCode, 404, 'a real miss is still a 404')
  t.equal((await lookUp('BCDF-GHJB')).statusCode, 429, 'and counts')
})

t.test('every route that reads a store answers an outage with 503, never 404', async (t) => {
  const store = switchableBackend(memoryBackend({ clock: systemClock }))
  const rp = await relyingParty(t)
  const app = await testApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile }, { backend: store })
  const alice = await phoneToken(app)
  const login = await createLogin(app)
  const phoneCookie = { cookie: `m_session=${alice}` }
  // An application's sign-in waiting on its QR page, and a device waiting for its code.
  const query = authorizationQuery(rp.redirectUri)
  const authorize = await app.inject({ url: `/oidc/auth?${query}` })
  const interaction = String(authorize.headers.location)
  const interactionCookies = cookiesOf(authorize)
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const device = (
    await app.inject({
      method: 'POST',
      url: '/oidc/device/auth',
      headers: form,
      payload: 'client_id=test-tv&scope=openid',
    })
  ).json<{ user_code: string }>()

  store.down = true
  const routes: [string, Promise<{ statusCode: number; body: string }>][] = [
    ['the phone page, signed in', app.inject({ url: '/m', headers: phoneCookie })],
    ['the PC page, signed in', app.inject({ url: '/', headers: { cookie: 'sid=whatever' } })],
    ['the phone’s user', app.inject({ url: '/api/mobile/me', headers: bearer(alice) })],
    ['the phone’s history', app.inject({ url: '/api/mobile/history', headers: bearer(alice) })],
    ['the phone’s computers', app.inject({ url: '/api/mobile/sessions', headers: bearer(alice) })],
    ['the phone’s passkeys', app.inject({ url: '/api/mobile/passkeys', headers: bearer(alice) })],
    ['the PC’s user', app.inject({ url: '/api/me', headers: { cookie: 'sid=whatever' } })],
    ['scan', phoneAction(app, 'scan', login.id, alice)],
    ['cancel', phoneAction(app, 'cancel', login.id, alice)],
    ['the app’s QR page', app.inject({ url: interaction, headers: { cookie: interactionCookies } })],
    [
      'the app’s QR login',
      app.inject({ method: 'POST', url: `${interaction}/qr`, headers: { cookie: interactionCookies } }),
    ],
    [
      'the app’s QR page: finish',
      app.inject({
        method: 'POST',
        url: `${interaction}/finish`,
        headers: { cookie: interactionCookies },
        payload: { id: login.id },
      }),
    ],
    [
      'the app’s QR page: abort',
      app.inject({ method: 'POST', url: `${interaction}/abort`, headers: { cookie: interactionCookies } }),
    ],
    ['a login’s timeline', app.inject({ url: `/api/qr/${login.id}/timeline`, headers: bearer(login.watchToken) })],
    [
      'a passkey prompt for a login',
      app.inject({ method: 'POST', url: `/api/qr/${login.id}/passkey-options`, headers: bearer(alice) }),
    ],
    [
      'a passkey prompt to add one',
      app.inject({ method: 'POST', url: '/api/mobile/passkeys/options', headers: bearer(alice) }),
    ],
    ['a passkey removed', app.inject({ method: 'DELETE', url: '/api/mobile/passkeys/AAAA', headers: bearer(alice) })],
    [
      'a computer signed out',
      app.inject({
        method: 'DELETE',
        url: `/api/mobile/sessions/${login.id}`,
        headers: bearer(alice),
      }),
    ],
    ['the phone signs out', app.inject({ method: 'POST', url: '/api/mobile/logout', headers: bearer(alice) })],
    ['the PC signs out', app.inject({ method: 'POST', url: '/api/logout', headers: { cookie: 'sid=whatever' } })],
    ['an authorization request', app.inject({ url: `/oidc/auth?${query}` })],
    ['userinfo', app.inject({ url: '/oidc/me', headers: { authorization: 'Bearer some-token-value' } })],
    ['a device’s code', app.inject({ url: `/oidc/device?user_code=${device.user_code}`, headers: phoneCookie })],
    [
      'a device’s token poll',
      app.inject({
        method: 'POST',
        url: '/oidc/token',
        headers: form,
        payload: 'client_id=test-tv&grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=x',
      }),
    ],
  ]
  for (const [what, answer] of routes) outage(t, await answer, what)
  store.down = false
  t.equal((await app.inject({ url: interaction, headers: { cookie: interactionCookies } })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/mobile/me', headers: bearer(alice) })).statusCode, 200)
})
