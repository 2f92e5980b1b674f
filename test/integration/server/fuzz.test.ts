import { connect } from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import fc from 'fast-check'
import type { App } from '@qr-login/server'
import { wireErrorCodes } from '@qr-login/core'
import {
  approve,
  bearer,
  createLogin,
  whenLive,
  listeningApp,
  openWs,
  phoneAction,
  phoneToken,
  testApp,
  type CreatedLogin,
} from '../../helpers/server.js'

// Limits raised so the fuzz reaches validation and the use cases rather than stopping at 429 (which would pass too).
const env = {
  RATE_LIMIT_CREATE_PER_MINUTE: '100000',
  RATE_LIMIT_SIGNIN_FAILURES_PER_IP: '100000',
  RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '100000',
  RATE_LIMIT_POLLS_PER_INTERVAL: '100000',
}
const numRuns = Number(process.env.FUZZ_RUNS ?? 1500)
const codes = new Set<string>(wireErrorCodes)

/** Logins in every state, which the fuzz never learns the ids of: afterwards each must read exactly as before. */
async function bystanders(app: App) {
  const alice = await phoneToken(app, 'alice')
  const pending = await createLogin(app)
  const scanned = await createLogin(app)
  await phoneAction(app, 'scan', scanned.id, alice)
  const confirmed = await createLogin(app)
  await approve(app, confirmed.id)
  const cancelled = await createLogin(app)
  await phoneAction(app, 'cancel', cancelled.id, alice)
  const consumed = await createLogin(app)
  await approve(app, consumed.id)
  const exchange = await app.inject({
    method: 'POST',
    url: `/api/qr/${consumed.id}/exchange`,
    headers: bearer(consumed.watchToken),
  })
  const sid = exchange.cookies.find((cookie) => cookie.name === 'sid')!.value
  return { logins: [pending, scanned, confirmed, cancelled, consumed], sid, alice }
}

async function snapshot(app: App, logins: CreatedLogin[]) {
  return Promise.all(
    logins.map(async (login) => ({
      status: (
        await app.inject({ method: 'GET', url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
      ).json(),
      timeline: (
        await app.inject({ method: 'GET', url: `/api/qr/${login.id}/timeline`, headers: bearer(login.watchToken) })
      ).json().changes,
    })),
  )
}

const nanoidAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'.split('')

function idArbitrary(known: string[]) {
  return fc.oneof(
    fc.constantFrom(...known),
    fc.array(fc.constantFrom(...nanoidAlphabet), { minLength: 21, maxLength: 21 }).map((chars) => chars.join('')),
    fc.string({ maxLength: 40 }).map(encodeURIComponent),
    fc.string({ unit: 'binary', maxLength: 30 }).map(encodeURIComponent),
    fc.integer({ min: 0, max: 3000 }).map((length) => 'a'.repeat(length)),
    fc.constantFrom('..%2F..%2Fpackage.json', '%00', '%E0%A4%A', '%', '....', 'null', '-1', ' ', '%20'.repeat(21)),
  )
}

const paths = [
  '/api/qr',
  '/api/qr/:id',
  '/api/qr/:id/events',
  '/api/qr/:id/ws',
  '/api/qr/:id/qr.svg',
  '/api/qr/:id/timeline',
  '/api/qr/:id/exchange',
  '/api/qr/:id/scan',
  '/api/qr/:id/confirm',
  '/api/qr/:id/cancel',
  '/api/qr/:id/passkey-options',
  '/api/me',
  '/api/logout',
  '/api/demo-users',
  '/api/mobile/session',
  '/api/mobile/me',
  '/api/mobile/logout',
  '/api/mobile/sessions',
  '/api/mobile/sessions/:id',
  '/api/mobile/code',
  '/api/mobile/history',
  '/api/mobile/passkeys',
  '/api/mobile/passkeys/options',
  '/api/mobile/passkeys/:id',
  '/api/:id',
  '/interaction/:id',
  '/interaction/:id/qr',
  '/interaction/:id/finish',
  '/interaction/:id/abort',
  '/oidc/:id',
  '/oidc/auth',
  '/oidc/token',
  '/oidc/device',
  '/oidc/device/auth',
  '/oidc/me',
  '/oidc/token/revocation',
  '/oidc/session/end',
  '/m/:id',
  '/m',
  '/',
  '/static/:id',
  '/assets/:id',
  '/avatars/:id',
  '/static/..%2F..%2F..%2Fpackage.json',
  '/docs/json',
]

function requestArbitrary(known: string[], phone: string) {
  const junk = fc.string({ maxLength: 60 })
  const jsonBody = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value))
  const signInBody = fc
    .record(
      { username: fc.oneof(fc.constantFrom('alice', 'bob', ''), junk), password: fc.oneof(fc.constant('demo'), junk) },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value))
  const base64ish = fc.oneof(fc.base64String({ maxLength: 40 }), junk)
  const passkeyAnswer = fc.record(
    {
      id: base64ish,
      rawId: base64ish,
      type: fc.constantFrom('public-key', 'password'),
      response: fc.record(
        { clientDataJSON: base64ish, authenticatorData: base64ish, signature: base64ish, attestationObject: base64ish },
        { requiredKeys: [] },
      ),
      clientExtensionResults: fc.constantFrom({}, [], null),
    },
    { requiredKeys: [] },
  )
  const confirmBody = fc
    .record(
      { matchCode: fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), passkey: passkeyAnswer },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value))
  return fc.record(
    {
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
      path: fc.constantFrom(...paths),
      id: idArbitrary(known),
      query: fc.dictionary(
        fc.constantFrom('wait', 'since', 'lang', 'transport', 'login', 'x'),
        fc.oneof(junk, fc.integer().map(String)),
        {
          maxKeys: 3,
        },
      ),
      contentType: fc.constantFrom(
        undefined,
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'text/plain',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        '*/*',
        'application/json, text/html',
      ),
      body: fc.oneof(
        fc.constant(undefined),
        jsonBody,
        signInBody,
        confirmBody,
        junk,
        fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
        fc.integer({ min: 60_000, max: 1_100_000 }).map((size) => `{"username":"${'a'.repeat(size)}"}`),
      ),
      authorization: fc.oneof(
        fc.constant(undefined),
        fc.constant(`Bearer ${phone}`),
        junk.map((value) => `Bearer ${value}`),
        junk,
      ),
      cookie: fc.oneof(
        fc.constant(undefined),
        fc.constant(`m_session=${phone}`),
        junk.map((value) => `qr_watch=${value}; sid=${value}`),
        junk,
      ),
      origin: fc.constantFrom(undefined, 'https://evil.example', 'http://qr.test:3000', 'null'),
      extra: fc.dictionary(
        fc.constantFrom('last-event-id', 'accept-language', 'x-forwarded-for', 'user-agent', 'accept', 'range'),
        junk,
        {
          maxKeys: 3,
        },
      ),
    },
    {
      requiredKeys: [
        'method',
        'path',
        'id',
        'query',
        'contentType',
        'body',
        'authorization',
        'cookie',
        'origin',
        'extra',
      ],
    },
  )
}

t.test('fuzzing every endpoint: never a 5xx, always the contract’s error shape, bystanders untouched', async (t) => {
  const app = await testApp(t, env)
  const { logins, sid, alice } = await bystanders(app)
  const before = await snapshot(app, logins)
  const target = await createLogin(app)
  const phone = await phoneToken(app, 'bob')
  const seen = new Map<number, number>()

  await fc.assert(
    fc.asyncProperty(requestArbitrary([target.id], phone), async (request) => {
      const query = new URLSearchParams(request.query).toString()
      const url = request.path.replace(':id', request.id) + (query ? `?${query}` : '')
      const headers: Record<string, string> = { ...request.extra }
      if (request.contentType) headers['content-type'] = request.contentType
      if (request.authorization) headers.authorization = request.authorization
      if (request.cookie) headers.cookie = request.cookie
      if (request.origin) headers.origin = request.origin
      const sendsBody = request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD'
      const response = await app.inject({
        method: request.method as 'GET',
        url,
        headers,
        ...(sendsBody ? { payload: request.body } : {}),
      })
      seen.set(response.statusCode, (seen.get(response.statusCode) ?? 0) + 1)
      if (response.statusCode >= 500)
        throw new Error(`${response.statusCode} for ${request.method} ${url}: ${response.body.slice(0, 300)}`)
      if (response.body.includes('"workspaces"'))
        throw new Error(`a file outside the public folders was served for ${url}`)
      if (response.statusCode >= 400 && request.method !== 'HEAD' && url.startsWith('/api/')) {
        const body = response.json()
        if (!codes.has(body.code) || body.statusCode !== response.statusCode || typeof body.message !== 'string') {
          throw new Error(`not the contract's error shape for ${request.method} ${url}: ${response.body.slice(0, 300)}`)
        }
      }
    }),
    { numRuns },
  )

  t.ok(
    [...seen.keys()].every((status) => status < 500),
    `statuses seen: ${JSON.stringify(Object.fromEntries(seen))}`,
  )
  t.ok([...seen.keys()].filter((status) => status >= 400).length >= 6, 'the fuzz reached many different refusals')
  t.same(await snapshot(app, logins), before, 'logins the fuzz did not know are exactly as they were')
  t.equal(
    (await app.inject({ method: 'GET', url: '/api/me', cookies: { sid } })).statusCode,
    200,
    'a PC session it did not know still works',
  )
  t.equal((await app.inject({ method: 'GET', url: '/api/mobile/me', headers: bearer(alice) })).statusCode, 200)
  t.equal((await createLogin(app)).status, 'pending', 'and the service still works')
})

t.test('raw bytes on the socket: the server stays up and keeps answering', async (t) => {
  const { base } = await listeningApp(t, env)
  const { port } = new URL(base)
  const requestLines = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
    fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'BREW', 'get', ''),
        target: fc.oneof(
          fc.constantFrom('/api/qr', '/api/demo-users', '*', '//', 'http://x/api/qr'),
          fc.string({ maxLength: 80 }),
        ),
        version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', ''),
        headers: fc.array(fc.string({ maxLength: 60 }), { maxLength: 5 }),
        contentLength: fc.constantFrom('', '0', '5', '-1', '99999999999', 'abc', '1, 2'),
      })
      .map(
        ({ method, target, version, headers, contentLength }) =>
          `${method} ${target} ${version}\r\nHost: x\r\n${headers.join('\r\n')}\r\n${contentLength ? `Content-Length: ${contentLength}\r\n` : ''}Transfer-Encoding: chunked\r\n\r\nzz\r\n`,
      ),
  )
  await fc.assert(
    fc.asyncProperty(requestLines, async (bytes) => {
      const socket = connect(Number(port), '127.0.0.1')
      socket.on('error', () => undefined)
      await once(socket, 'connect')
      let answer = ''
      socket.on('data', (chunk) => (answer += chunk))
      socket.end(bytes)
      await once(socket, 'close')
      if (/^HTTP\/1\.[01] 5\d\d/.test(answer))
        throw new Error(`5xx for ${JSON.stringify(String(bytes)).slice(0, 200)}: ${answer.slice(0, 200)}`)
    }),
    { numRuns: Math.ceil(numRuns / 5) },
  )
  const after = await fetch(`${base}/api/demo-users`)
  t.equal(after.status, 200, 'still answering')
})

t.test('random WebSocket frames from a watcher: ignored or the socket closed, never the service harmed', async (t) => {
  const { app, wsBase } = await listeningApp(t, env)
  const login = await createLogin(app)
  const frames = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.integer({ min: 4000, max: 20_000 }).map((size) => 'x'.repeat(size)),
    fc.jsonValue().map((value) => JSON.stringify(value)),
  )
  await fc.assert(
    fc.asyncProperty(fc.array(frames, { minLength: 1, maxLength: 5 }), async (batch) => {
      const socket = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: bearer(login.watchToken) })
      await socket.opened
      await socket.until(() => socket.frames.length === 1)
      for (const frame of batch) if (socket.socket.readyState === socket.socket.OPEN) socket.socket.send(frame)
      socket.socket.close()
      await socket.until(() => socket.closeCode !== undefined)
    }),
    { numRuns: Math.ceil(numRuns / 10) },
  )
  await whenLive(app, () => app.live.count('ws') === 0, 'every fuzzed socket to be released')
  const read = await app.inject({ method: 'GET', url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
  t.match(read.json(), { status: 'pending', version: 1 }, 'the login is untouched and the service answers')
})
