import t from 'tap'
import { ManualClock } from '@qr-login/core'
import {
  approve,
  bearer,
  createLogin,
  whenLive,
  listeningApp,
  phoneAction,
  phoneToken,
  testApp,
} from '../../helpers/server.js'

t.test('answers at once when version > since already', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  await phoneAction(app, 'scan', login.id, await phoneToken(app))
  const response = await app.inject({ url: `/api/qr/${login.id}?since=1&wait=30`, headers: bearer(login.watchToken) })
  t.equal(response.statusCode, 200)
  t.equal(response.json().version, 2)
  t.equal(response.json().status, 'scanned')
})

t.test('is released by a change within milliseconds', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const phone = await phoneToken(app)
  const held = app.inject({ url: `/api/qr/${login.id}?since=1`, headers: bearer(login.watchToken) })
  let answered = false
  void held.then(() => (answered = true))
  // The request is held: it has registered as a live long poll and nothing has answered it.
  await whenLive(app, () => app.live.count('long-poll') === 1, 'the long poll to be held')
  t.equal(answered, false, 'held while nothing changes (default wait is 25 s)')
  const changedAt = performance.now()
  await phoneAction(app, 'scan', login.id, phone)
  const response = await held
  const delay = performance.now() - changedAt
  t.equal(response.json().status, 'scanned')
  t.ok(delay < 1000, `released ${delay.toFixed(1)} ms after the change`)
  t.equal(app.live.count('long-poll'), 0)
  t.equal(app.logins.stats().watches, 0)
})

t.test('times out with the unchanged status after wait seconds', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const started = Date.now()
  const response = await app.inject({ url: `/api/qr/${login.id}?since=1&wait=1`, headers: bearer(login.watchToken) })
  t.ok(Date.now() - started >= 950, 'held for the wait')
  t.equal(response.statusCode, 200)
  t.same(response.json(), { id: login.id, status: 'pending', version: 1, expiresAt: login.expiresAt })
})

t.test('wait without since waits for any change from now; wait=0 answers at once', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const immediate = await app.inject({ url: `/api/qr/${login.id}?wait=0&since=1`, headers: bearer(login.watchToken) })
  t.equal(immediate.json().version, 1)
  const held = app.inject({ url: `/api/qr/${login.id}?wait=10`, headers: bearer(login.watchToken) })
  await whenLive(app, () => app.live.count('long-poll') === 1, 'the long poll to be held')
  await approve(app, login.id)
  t.equal((await held).json().version, 2)
})

t.test('bad wait and since values are 400', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  for (const query of [
    'wait=31',
    'wait=-1',
    'wait=1.5',
    'wait=abc',
    'wait=',
    'since=-1',
    'since=x',
    'since=1.5',
    'wait=99999999999999999999',
  ]) {
    const response = await app.inject({ url: `/api/qr/${login.id}?${query}`, headers: bearer(login.watchToken) })
    t.equal(response.statusCode, 400, query)
    t.equal(response.json().code, 'VALIDATION_ERROR', query)
  }
})

t.test('expiry reaches an idle long poll without anyone asking', async (t) => {
  const clock = new ManualClock()
  const app = await testApp(t, { QR_TTL_SECONDS: '10' }, { clock })
  const login = await createLogin(app)
  const held = app.inject({ url: `/api/qr/${login.id}?since=1&wait=30`, headers: bearer(login.watchToken) })
  await whenLive(app, () => app.live.count('long-poll') === 1, 'the long poll to be held')
  await clock.advance(10_000)
  const response = await held
  t.equal(response.json().status, 'expired')
  t.equal(response.json().version, 2)
})

t.test('a client that goes away frees its long poll', async (t) => {
  const { app, base } = await listeningApp(t)
  const login = await createLogin(app)
  const abort = new AbortController()
  const pending = fetch(`${base}/api/qr/${login.id}?since=1&wait=30`, {
    headers: bearer(login.watchToken),
    signal: abort.signal,
  }).catch((error: Error) => error.name)
  await whenLive(app, () => app.live.count('long-poll') === 1, 'the long poll to be held')
  abort.abort()
  t.equal(await pending, 'AbortError')
  await whenLive(app, () => app.live.count('long-poll') === 0, 'the long poll to be freed')
  t.equal(app.logins.stats().watches, 0)
  t.same(app.logins.stats().feed, { channels: 0, listeners: 0 })
})
