import t from 'tap'
import { createLogin, testApp } from '../../helpers/server.js'

t.test('pages carry the contract security headers', async (t) => {
  const app = await testApp(t)
  for (const url of ['/', '/m', '/m/V1StGXR8_Z5jdHi6B-myT', '/docs']) {
    const response = await app.inject({ url })
    t.equal(response.statusCode, 200, url)
    const csp = String(response.headers['content-security-policy'])
    t.match(csp, /frame-ancestors 'none'/, `${url}: frame-ancestors`)
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? /default-src ([^;]*)/.exec(csp)?.[1]
    t.ok(scriptSrc, `${url}: a script policy`)
    t.notMatch(scriptSrc!, /unsafe-inline/, `${url}: no inline scripts`)
    t.notMatch(csp, /upgrade-insecure-requests/, `${url}: phones reach the LAN address over http`)
    t.equal(response.headers['referrer-policy'], 'no-referrer')
    t.equal(response.headers['x-content-type-options'], 'nosniff')
  }
})

t.test('every /api response is no-store: JSON, errors, images, 204s', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  for (const request of [
    { url: '/api/demo-users' },
    { url: `/api/qr/${login.id}` },
    { url: login.qrSvgUrl },
    { url: '/api/me' },
    { method: 'POST' as const, url: '/api/logout' },
  ]) {
    const response = await app.inject(request)
    t.equal(response.headers['cache-control'], 'no-store', `${request.url} (${response.statusCode})`)
  }
})

t.test('avatars are generated SVGs', async (t) => {
  const app = await testApp(t)
  const response = await app.inject({ url: '/avatars/alice.svg' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^image\/svg\+xml/)
  t.match(response.body, /<svg[^>]*>.*>A<\/text><\/svg>$/)
  t.equal((await app.inject({ url: '/avatars/<script>.svg' })).statusCode, 400)
})

t.test('the OpenAPI description lists every contract endpoint', async (t) => {
  const app = await testApp(t)
  const spec = (await app.inject({ url: '/docs/json' })).json()
  t.equal(spec.openapi.startsWith('3.'), true)
  const operations = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  )
  for (const operation of [
    'POST /api/qr',
    'GET /api/qr/{id}',
    'GET /api/qr/{id}/events',
    'GET /api/qr/{id}/ws',
    'GET /api/qr/{id}/qr.svg',
    'POST /api/qr/{id}/exchange',
    'GET /api/me',
    'POST /api/logout',
    'GET /api/demo-users',
    'POST /api/mobile/session',
    'GET /api/mobile/me',
    'POST /api/mobile/code',
    'POST /api/qr/{id}/scan',
    'POST /api/qr/{id}/confirm',
    'POST /api/qr/{id}/cancel',
  ]) {
    t.ok(operations.includes(operation), operation)
  }
  const create = spec.paths['/api/qr'].post.responses['201'].content['application/json'].schema
  t.same(Object.keys(create.properties).sort(), [
    'expiresAt',
    'id',
    'loginHint',
    'matchCode',
    'pollIntervalMs',
    'qrSvgUrl',
    'scanUrl',
    'scannedBy',
    'status',
    'userCode',
    'version',
    'watchToken',
  ])
  t.same(
    create.required.sort(),
    ['expiresAt', 'id', 'pollIntervalMs', 'qrSvgUrl', 'scanUrl', 'status', 'userCode', 'version', 'watchToken'],
    'matchCode only with MATCH_CODE=1',
  )
  const body = spec.paths['/api/qr'].post.requestBody.content['application/json'].schema
  t.match(
    body.anyOf?.find((each: { type?: string }) => each.type === 'object')?.properties.loginHint ??
      body.properties?.loginHint,
    { type: 'string', minLength: 1, maxLength: 64 },
    'the optional login_hint body is documented',
  )
  const errorCodes =
    spec.components?.schemas?.ErrorBody?.properties?.code?.enum ??
    spec.paths['/api/qr'].post.responses['400'].content['application/json'].schema.properties.code.enum
  t.ok(
    errorCodes.includes('WRONG_ACCOUNT') && errorCodes.includes('STORE_UNAVAILABLE'),
    'the error body lists the core table’s codes',
  )
  t.notOk(errorCodes.includes('UNSUPPORTED_MEDIA_TYPE'), 'but not the one never sent')
})

t.test('responses are serialized by their schema: nothing extra leaks', async (t) => {
  const app = await testApp(t)
  const login = await createLogin(app)
  const body = (
    await app.inject({ url: `/api/qr/${login.id}`, headers: { authorization: `Bearer ${login.watchToken}` } })
  ).json()
  t.same(Object.keys(body), ['id', 'status', 'version', 'expiresAt'])
})

t.test('one process: the PC page lets socket.io start with polling (no transports named)', async (t) => {
  const app = await testApp(t)
  const page = (await app.inject({ url: '/' })).body
  t.match(page, /<meta name="qr-login-user"|<\/head>/, 'the page is served')
  t.notMatch(page, /qr-login-socket-io-transports/)
})
