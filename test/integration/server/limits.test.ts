import { connect } from 'node:net'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import type { App } from '@qr-login/server'
import {
  bearer,
  createLogin,
  whenLive,
  listeningApp,
  openSse,
  openWs,
  phoneAction,
  phoneToken,
  testApp,
} from '../../helpers/server.js'
import { cleanUpPrefix, uniquePrefix } from '../../helpers/redis.js'

const office = '10.1.1.1'
const elsewhere = '10.2.2.2'

function create(app: App, remoteAddress = office) {
  return app.inject({ method: 'POST', url: '/api/qr', remoteAddress })
}

function signIn(app: App, username: string, password: string, remoteAddress = office) {
  return app.inject({ method: 'POST', url: '/api/mobile/session', payload: { username, password }, remoteAddress })
}

function assertRateLimited(
  t: Test,
  response: { statusCode: number; headers: Record<string, unknown>; json(): { code?: unknown } },
) {
  t.equal(response.statusCode, 429)
  t.equal(response.json().code, 'RATE_LIMITED')
  t.match(response.headers['retry-after'], /^[1-9]\d*$/, 'Retry-After in whole seconds')
  t.equal(response.headers['cache-control'], 'no-store')
}

t.test('creating logins is limited per IP; other addresses are not affected', async (t) => {
  const app = await testApp(t, { RATE_LIMIT_CREATE_PER_MINUTE: '3' })
  for (let i = 0; i < 3; i++) t.equal((await create(app)).statusCode, 201)
  const refused = await create(app)
  assertRateLimited(t, refused)
  t.ok(Number(refused.headers['retry-after']) <= 60)
  t.equal((await create(app, elsewhere)).statusCode, 201)
})

t.test('phone sign-in: failed attempts per account are limited, and then even the right password waits', async (t) => {
  const app = await testApp(t, {
    RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '3',
    RATE_LIMIT_SIGNIN_FAILURES_PER_IP: '100',
  })
  for (let i = 0; i < 3; i++)
    t.equal((await signIn(app, 'alice', `guess-${i}`, `10.0.0.${i + 1}`)).json().code, 'BAD_CREDENTIALS')
  assertRateLimited(t, await signIn(app, 'alice', 'demo', '10.0.0.9'))
  assertRateLimited(t, await signIn(app, 'ALICE', 'guess', '10.0.0.9'))
  t.equal((await signIn(app, 'bob', 'demo')).statusCode, 200, 'other accounts sign in as usual')
})

t.test('phone sign-in: failed attempts per IP are limited across accounts; successes never count', async (t) => {
  const app = await testApp(t, {
    RATE_LIMIT_SIGNIN_FAILURES_PER_IP: '3',
    RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '100',
  })
  for (let i = 0; i < 10; i++) t.equal((await signIn(app, 'alice', 'demo')).statusCode, 200)
  for (const username of ['alice', 'bob', 'nobody']) t.equal((await signIn(app, username, 'wrong')).statusCode, 401)
  assertRateLimited(t, await signIn(app, 'carol', 'demo'))
  t.equal((await signIn(app, 'carol', 'demo', elsewhere)).statusCode, 200, 'another address is not affected')
  t.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/api/mobile/session',
        payload: { username: 5 },
        remoteAddress: elsewhere,
      })
    ).statusCode,
    400,
  )
})

t.test('reads of one login are limited to pollsPerInterval per interval, averaged over ten intervals', async (t) => {
  const app = await testApp(t, { POLL_INTERVAL_MS: '1000' })
  const login = await createLogin(app, {})
  const other = await createLogin(app, {})
  const read = (id: string, token: string, remoteAddress = '127.0.0.1') =>
    app.inject({ method: 'GET', url: `/api/qr/${id}`, headers: bearer(token), remoteAddress })
  // The default allows ten reads per interval: several tabs polling with jitter stay well inside it.
  for (let i = 0; i < 100; i++) t.equal((await read(login.id, login.watchToken)).statusCode, 200)
  assertRateLimited(t, await read(login.id, login.watchToken))
  t.equal((await read(other.id, other.watchToken)).statusCode, 200, 'another login is not affected')
  t.equal((await read(login.id, login.watchToken, elsewhere)).statusCode, 200, 'another address is not affected')
})

t.test('held watchers are capped per login and per IP, over SSE, WebSocket and long poll', async (t) => {
  const { app, base, wsBase } = await listeningApp(t, { MAX_WATCHERS_PER_LOGIN: '2', MAX_WATCHERS_PER_IP: '3' })
  const login = await createLogin(app)
  const auth = bearer(login.watchToken)
  const first = openSse(`${base}/api/qr/${login.id}/events`, auth)
  const second = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: auth })
  await Promise.all([first.until(() => first.events.length > 1), second.opened])

  const third = openSse(`${base}/api/qr/${login.id}/events`, auth)
  await third.ready
  t.equal(third.statusCode, 429, 'a third SSE stream is refused')
  t.equal(JSON.parse(third.body).code, 'RATE_LIMITED')
  const refusedWs = await openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: auth }).refused
  t.equal(refusedWs.statusCode, 429, 'a WebSocket upgrade is refused as plain HTTP')
  const longPoll = await fetch(`${base}/api/qr/${login.id}?since=1&wait=5`, { headers: auth })
  t.equal(longPoll.status, 429, 'a long poll is refused')
  t.ok(longPoll.headers.get('retry-after'))

  // Freeing a slot lets the next one in.
  first.close()
  await whenLive(app, () => app.live.count('sse') === 0, 'the closed stream to be released')
  const retry = openSse(`${base}/api/qr/${login.id}/events`, auth)
  await retry.ready
  t.equal(retry.statusCode, 200, 'a freed slot admits the next watcher')
  retry.close()
  await whenLive(app, () => app.live.count('sse') === 0, 'the retry to be released')

  // Per IP: with the WebSocket still open, two streams on other logins reach the cap of three for 127.0.0.1.
  const statuses: number[] = []
  const streams = []
  for (let i = 0; i < 3; i++) {
    const each = await createLogin(app)
    const stream = openSse(`${base}/api/qr/${each.id}/events`, bearer(each.watchToken))
    await stream.ready
    statuses.push(stream.statusCode)
    streams.push(stream)
  }
  t.same(statuses, [200, 200, 429], 'the IP cap counts watchers of every login')
  for (const stream of streams) stream.close()
  second.socket.close()
})

t.test('live logins on an instance are capped; ending one frees its place', async (t) => {
  const app = await testApp(t, { MAX_LIVE_LOGINS: '2' })
  const first = await createLogin(app)
  await createLogin(app)
  assertRateLimited(t, await create(app))
  const token = await phoneToken(app)
  t.equal((await phoneAction(app, 'cancel', first.id, token)).statusCode, 200)
  t.equal((await create(app)).statusCode, 201)
})

t.test(
  'a client that trickles its headers, or says nothing at all, is cut off after HEADERS_TIMEOUT_SECONDS',
  async (t) => {
    const { base } = await listeningApp(t, { HEADERS_TIMEOUT_SECONDS: '1', REQUEST_TIMEOUT_SECONDS: '2' })
    const { port } = new URL(base)
    for (const opening of ['GET /api/demo-users HTTP/1.1\r\nHost: x\r\n', '']) {
      const socket = connect(Number(port), '127.0.0.1')
      await once(socket, 'connect')
      if (opening) socket.write(opening)
      const started = Date.now()
      let answer = ''
      socket.on('data', (chunk) => (answer += chunk))
      socket.on('error', () => undefined)
      await once(socket, 'close')
      t.ok(Date.now() - started < 5000, `${opening ? 'trickling' : 'silent'}: closed within a few seconds`)
      t.match(answer, /^(HTTP\/1\.1 408|$)/, 'never served, at most told 408')
    }
  },
)

/** Two instances sharing one Redis under a prefix of their own, as behind a load balancer. */
async function twoInstancesOnRedis(t: Test, env: Record<string, string>) {
  const prefix = uniquePrefix('limits')
  cleanUpPrefix(t, prefix)
  const shared = { STORE: 'redis', REDIS_PREFIX: prefix, ...env }
  return [await testApp(t, shared), await testApp(t, shared)] as const
}

t.test('with STORE=redis, every instance counts against the same limits', async (t) => {
  const [a, b] = await twoInstancesOnRedis(t, { RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '2' })
  t.equal((await signIn(a, 'bob', 'x', '10.0.0.1')).statusCode, 401)
  t.equal((await signIn(b, 'bob', 'y', '10.0.0.2')).statusCode, 401)
  assertRateLimited(t, await signIn(a, 'bob', 'demo', '10.0.0.3'))
  assertRateLimited(t, await signIn(b, 'bob', 'demo', '10.0.0.4'))
})

t.test('with STORE=redis, MAX_LIVE_LOGINS counts the logins waiting on every instance', async (t) => {
  const [a, b] = await twoInstancesOnRedis(t, { MAX_LIVE_LOGINS: '2' })
  const first = await createLogin(a)
  await createLogin(b)
  assertRateLimited(t, await create(a))
  assertRateLimited(t, await create(b))
  t.equal(
    (await phoneAction(b, 'cancel', first.id, await phoneToken(b))).statusCode,
    200,
    'ended on the other instance',
  )
  t.equal((await create(a)).statusCode, 201)
})

t.test('an IPv6 client is limited as its /64: rotating addresses inside it does not reset the count', async (t) => {
  const app = await testApp(t, {
    RATE_LIMIT_SIGNIN_FAILURES_PER_IP: '2',
    RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '100',
  })
  t.equal((await signIn(app, 'alice', 'x', '2001:db8:1:2::a')).statusCode, 401)
  t.equal((await signIn(app, 'bob', 'x', '2001:db8:1:2::b')).statusCode, 401)
  assertRateLimited(t, await signIn(app, 'carol', 'demo', '2001:db8:1:2:ffff::c'))
  t.equal((await signIn(app, 'carol', 'demo', '2001:db8:1:3::c')).statusCode, 200, 'another /64 is another client')
})
