import t from 'tap'
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
