import t from 'tap'
import { errorTable, LoginError, wireErrorCodes, type ErrorCode } from '@qr-login/core'
import { HttpError, toErrorBody } from '../../../apps/server/src/errors.js'
import { bearer, createLogin, phoneToken, testApp } from '../../helpers/server.js'

t.test('the error registry is the contract: each code with its status', async (t) => {
  const contract: Record<string, number> = {
    VALIDATION_ERROR: 400,
    WATCH_TOKEN_REQUIRED: 401,
    AUTH_REQUIRED: 401,
    BAD_CREDENTIALS: 401,
    WRONG_ACCOUNT: 403,
    NETWORK_MISMATCH: 403,
    WATCH_TOKEN_INVALID: 403,
    ORIGIN_REJECTED: 403,
    NOT_SCANNER: 403,
    QR_NOT_FOUND: 404,
    // v2
    CODE_NOT_FOUND: 404,
    ALREADY_SCANNED: 409,
    NOT_SCANNED: 409,
    NOT_CONFIRMED: 409,
    ALREADY_CONSUMED: 409,
    INVALID_TRANSITION: 409,
    QR_EXPIRED: 410,
    PAYLOAD_TOO_LARGE: 413,
    RATE_LIMITED: 429,
    STORE_UNAVAILABLE: 503,
    SHUTTING_DOWN: 503,
  }
  for (const [code, statusCode] of Object.entries(contract)) {
    t.equal(errorTable[code as ErrorCode]?.status, statusCode, code)
  }
  // Our own codes, beyond the contract's: documented in the README and the OpenAPI description.
  const ours: Record<string, number> = {
    NOT_FOUND: 404,
    SESSION_NOT_FOUND: 404,
    MATCH_CODE_MISMATCH: 409,
    PASSKEY_REQUIRED: 403,
    PASSKEY_REJECTED: 403,
    PASSKEY_NOT_FOUND: 404,
    INTERACTION_NOT_FOUND: 404,
    NO_PASSKEY: 409,
    PASSKEY_LIMIT_REACHED: 409,
    UNSUPPORTED_MEDIA_TYPE: 415,
    UPGRADE_REQUIRED: 426,
    INTERNAL_ERROR: 500,
  }
  t.same(
    Object.keys(errorTable).sort(),
    [...Object.keys(contract), ...Object.keys(ours)].sort(),
    'no code is added without this test knowing',
  )
  for (const [code, statusCode] of Object.entries(ours)) {
    t.equal(errorTable[code as ErrorCode].status, statusCode, code)
  }
  for (const code of wireErrorCodes) {
    const body = toErrorBody(new LoginError(code, 'm'))
    t.equal(body.code, code, `code ${code} keeps its name on the wire`)
    t.equal(body.statusCode, errorTable[code].status)
    if (errorTable[code].status < 500) t.equal(body.message, 'm', 'a throw site’s own message is shown')
    t.equal(toErrorBody(new LoginError(code)).message, errorTable[code].message, 'without one, the table’s')
  }
  t.same(
    toErrorBody(new LoginError('UNSUPPORTED_MEDIA_TYPE')).code,
    'VALIDATION_ERROR',
    '415 keeps the contract’s code',
  )
})

t.test('error bodies have the contract shape; 5xx hide their message', async (t) => {
  t.same(toErrorBody(new HttpError('ORIGIN_REJECTED')), {
    statusCode: 403,
    code: 'ORIGIN_REJECTED',
    error: 'Forbidden',
    message: 'Requests from this origin are not allowed',
  })
  const internal = toErrorBody(new Error('secret detail from deep inside'))
  t.same(internal, {
    statusCode: 500,
    code: 'INTERNAL_ERROR',
    error: 'Internal Server Error',
    message: 'Internal server error',
  })
  const store = toErrorBody(new LoginError('STORE_UNAVAILABLE', 'ECONNREFUSED 10.0.0.1:6379'))
  t.equal(store.statusCode, 503)
  t.notMatch(store.message, /ECONNREFUSED/)
  t.equal(toErrorBody(new HttpError('UNSUPPORTED_MEDIA_TYPE')).code, 'VALIDATION_ERROR', '415 carries VALIDATION_ERROR')
  t.equal(toErrorBody({ statusCode: 429, message: 'slow' }).code, 'RATE_LIMITED')
})

t.test('malformed bodies get 4xx with stable codes, never 500', async (t) => {
  const app = await testApp(t)
  const cases: {
    name: string
    payload?: string | Buffer
    headers?: Record<string, string>
    status: number
    code: string
  }[] = [
    {
      name: 'invalid JSON',
      payload: '{"username":',
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'JSON array',
      payload: '[]',
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'JSON null',
      payload: 'null',
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'empty JSON body',
      payload: '',
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'wrong types',
      payload: '{"username":5,"password":true}',
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'missing fields',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'over-long field',
      payload: JSON.stringify({ username: 'a'.repeat(65), password: 'x' }),
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'prototype poisoning',
      payload: '{"__proto__":{"x":1},"username":"alice","password":"demo"}',
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'form encoded',
      payload: 'username=alice&password=demo',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 415,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'text/plain',
      payload: 'hello',
      headers: { 'content-type': 'text/plain' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'huge body',
      payload: JSON.stringify({ username: 'a'.repeat(2 * 1024 * 1024), password: 'x' }),
      headers: { 'content-type': 'application/json' },
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'invalid UTF-8',
      payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
  ]
  for (const { name, payload, headers, status, code } of cases) {
    const response = await app.inject({ method: 'POST', url: '/api/mobile/session', payload, headers })
    t.equal(response.statusCode, status, name)
    t.equal(response.json().code, code, name)
    t.same(Object.keys(response.json()), ['statusCode', 'code', 'error', 'message'], `${name}: contract error shape`)
    t.equal(response.headers['cache-control'], 'no-store')
  }
})

t.test('bodiless actions accept an empty JSON body, and refuse a huge one without harm', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const alice = await phoneToken(app)
  const empty = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/scan`,
    headers: { ...bearer(alice), 'content-type': 'application/json' },
  })
  t.equal(empty.statusCode, 200)
  const huge = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/confirm`,
    headers: { ...bearer(alice), 'content-type': 'application/json' },
    payload: `"${'x'.repeat(2 * 1024 * 1024)}"`,
  })
  t.equal(huge.statusCode, 413)
  const status = await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
  t.equal(status.json().status, 'scanned', 'the refused request changed nothing')
})

t.test('unknown routes are JSON 404 NOT_FOUND with no-store under /api', async (t) => {
  const app = await testApp(t)
  const response = await app.inject({ url: '/api/nothing-here' })
  t.equal(response.statusCode, 404)
  t.equal(response.json().code, 'NOT_FOUND')
  t.equal(response.headers['cache-control'], 'no-store')
  const wrongMethod = await app.inject({ method: 'DELETE', url: '/api/qr' })
  t.equal(wrongMethod.statusCode, 404)
})

t.test('odd requests never get a 500', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const finished = await createLogin(app)
  await app.inject({ method: 'POST', url: `/api/qr/${finished.id}/cancel`, headers: bearer(await phoneToken(app)) })
  const odd = [
    { url: `/api/qr/${login.id}?wait=1&wait=2`, headers: bearer(login.watchToken) },
    { url: `/api/qr/${login.id}?since[]=1`, headers: bearer(login.watchToken) },
    { url: `/api/qr/${login.id}`, headers: { authorization: 'Bearer' } },
    { url: `/api/qr/${login.id}`, headers: { authorization: 'Basic abc' } },
    { url: `/api/qr/${login.id}`, headers: { cookie: 'qr_watch=%E0%A4%A' } },
    {
      url: `/api/qr/${finished.id}/events`,
      headers: { ...bearer(finished.watchToken), 'last-event-id': 'x'.repeat(5000) },
    },
    { url: '/api/qr/%', headers: {} },
    { url: '/api/qr/%00%00%00%00%00%00%00%00%00%00%00', headers: {} },
    { url: '/avatars/..%2F..%2Fetc%2Fpasswd', headers: {} },
    { url: '/api/mobile/me', headers: { authorization: `Bearer ${'x'.repeat(8000)}` } },
  ]
  for (const request of odd) {
    const response = await app.inject({ method: 'GET', ...request })
    t.ok(
      response.statusCode >= 200 && response.statusCode < 500,
      `${request.url.slice(0, 50)} → ${response.statusCode}`,
    )
    if (response.statusCode >= 400) t.type(response.json().code, 'string')
  }
  const token = bearer(finished.watchToken)
  for (const url of [
    '/',
    '/m',
    `/m/${finished.id}`,
    '/docs',
    '/docs/json',
    '/api/demo-users',
    '/api/me',
    '/api/mobile/me',
    `/api/qr/${finished.id}`,
    `/api/qr/${finished.id}?since=1&wait=0`,
    `/api/qr/${finished.id}/events`,
    `/api/qr/${finished.id}/ws`,
    `/api/qr/${finished.id}/qr.svg`,
    '/avatars/bob.svg',
  ]) {
    const response = await app.inject({ method: 'HEAD', url, headers: token })
    t.ok(response.statusCode < 500, `HEAD ${url} → ${response.statusCode}`)
    t.equal(response.body, '', `HEAD ${url} has no body`)
  }
})
