import t from 'tap'
import { ManualClock } from '@qr-login/core'
import type { App } from '@qr-login/server'
import { bearer, createLogin, phoneAction, phoneToken, testApp } from '../../helpers/server.js'

const codePattern = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/

function lookUp(app: App, token: string, code: unknown, remoteAddress = '192.0.2.20') {
  return app.inject({
    method: 'POST',
    url: '/api/mobile/code',
    headers: bearer(token),
    payload: { code },
    remoteAddress,
  })
}

t.test('POST /api/qr answers a user code of 8 consonants, shown as XXXX-XXXX, different for each login', async (t) => {
  const app = await testApp(t)
  const codes = new Set<string>()
  const letters = new Set<string>()
  for (let i = 0; i < 200; i++) {
    const { userCode } = await createLogin(app)
    t.match(userCode, codePattern)
    codes.add(userCode)
    for (const letter of userCode.replace('-', '')) letters.add(letter)
  }
  t.equal(codes.size, 200, 'no two logins share a code')
  t.equal(letters.size, 20, 'every letter of the alphabet is used')
})

t.test(
  'a typed code finds its pending login; case, spaces and dashes do not matter; then the phone scans',
  async (t) => {
    const app = await testApp(t)
    const login = await createLogin(app)
    const { userCode } = login
    const phone = await phoneToken(app)
    const typed = [
      userCode,
      userCode.replace('-', ''),
      userCode.toLowerCase(),
      ` ${userCode.slice(0, 2)} ${userCode.slice(2, 6).toLowerCase()}--${userCode.slice(6)} `,
    ]
    for (const code of typed) {
      const response = await lookUp(app, phone, code)
      t.equal(response.statusCode, 200, JSON.stringify(code))
      t.same(response.json(), { id: login.id, scanUrl: login.scanUrl })
      t.equal(response.headers['cache-control'], 'no-store')
    }
    t.equal((await phoneAction(app, 'scan', login.id, phone)).statusCode, 200)
    t.equal(
      (await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })).json().status,
      'scanned',
    )
  },
)

t.test('a code that is not 8 letters of the alphabet is 400; no phone session is 401', async (t) => {
  const app = await testApp(t)
  const phone = await phoneToken(app)
  for (const code of ['', 'BCDF-GHJ', 'BCDF-GHJKL', 'AEIO-UAEI', 'BCDF-GHJ1', 'BCDF_GHJK', 'ÄCDF-GHJK', 42, null]) {
    const response = await lookUp(app, phone, code)
    t.equal(response.statusCode, 400, JSON.stringify(code))
    t.equal(response.json().code, 'VALIDATION_ERROR')
  }
  const anonymous = await app.inject({ method: 'POST', url: '/api/mobile/code', payload: { code: 'BCDF-GHJK' } })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'AUTH_REQUIRED')
})

t.test('unknown, scanned, cancelled and expired codes all get the same 404 CODE_NOT_FOUND', async (t) => {
  const clock = new ManualClock(Date.now())
  const app = await testApp(t, {}, { clock })
  const phone = await phoneToken(app, 'bob')

  const scanned = await createLogin(app)
  await phoneAction(app, 'scan', scanned.id, phone)
  const cancelled = await createLogin(app)
  await phoneAction(app, 'cancel', cancelled.id, phone)
  const expired = await createLogin(app)
  await clock.advance(120_000)

  const bodies: unknown[] = []
  for (const [what, code] of [
    ['unknown', 'ZZZZ-ZZZZ'],
    ['scanned', scanned.userCode],
    ['cancelled', cancelled.userCode],
    ['expired', expired.userCode],
  ]) {
    const response = await lookUp(app, phone, code)
    t.equal(response.statusCode, 404, what)
    bodies.push(response.json())
  }
  t.same(bodies[0], {
    statusCode: 404,
    code: 'CODE_NOT_FOUND',
    error: 'Not Found',
    message: 'No sign-in is waiting for this code',
  })
  t.ok(
    bodies.every((body) => JSON.stringify(body) === JSON.stringify(bodies[0])),
    'a refusal never tells one case from another',
  )
})

t.test('failed look-ups are limited per phone session and per address, with Retry-After', async (t) => {
  const app = await testApp(t, { RATE_LIMIT_CODE_FAILURES_PER_SESSION: '3', RATE_LIMIT_CODE_FAILURES_PER_IP: '5' })
  const login = await createLogin(app)
  const { userCode } = login
  const alice = await phoneToken(app, 'alice')
  for (let i = 0; i < 3; i++) t.equal((await lookUp(app, alice, 'ZZZZ-ZZZZ')).statusCode, 404)
  const limited = await lookUp(app, alice, userCode)
  t.equal(limited.statusCode, 429, 'even the right code, once the session used up its failures')
  t.equal(limited.json().code, 'RATE_LIMITED')
  t.match(limited.headers['retry-after'], /^[1-9]\d*$/)
  t.equal((await lookUp(app, alice, userCode, '198.51.100.9')).statusCode, 429, 'from another address too')

  const bob = await phoneToken(app, 'bob')
  t.equal(
    (await lookUp(app, bob, userCode)).statusCode,
    200,
    'another phone session on the same address still looks up',
  )
  for (let i = 0; i < 2; i++) t.equal((await lookUp(app, bob, 'ZZZZ-ZZZZ')).statusCode, 404)
  const byAddress = await lookUp(app, bob, userCode)
  t.equal(byAddress.statusCode, 429, 'the address has used up its five failures')
  t.equal((await lookUp(app, bob, userCode, '198.51.100.9')).statusCode, 200, 'that session elsewhere still can')
  t.equal((await lookUp(app, bob, 'BCDF-GHJ')).statusCode, 400, 'a malformed code is a 400, not a look-up')
})
