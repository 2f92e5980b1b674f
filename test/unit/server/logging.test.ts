import { PassThrough } from 'node:stream'
import t from 'tap'
import Fastify from 'fastify'
import { buildApp } from '@qr-login/server'
import { loadConfig } from '../../../apps/server/src/config.js'
import { deferredChildLogger, loggerOptions } from '../../../apps/server/src/logging.js'
import { bearer } from '../../helpers/server.js'

t.test('nothing secret reaches the log, even at trace level and on errors', async (t) => {
  const lines: string[] = []
  const stream = new PassThrough()
  stream.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)))
  const app = await buildApp(
    loadConfig({ PUBLIC_URL: 'http://qr.test', STORE: 'memory' }),
    {},
    loggerOptions('trace', stream),
  )
  t.teardown(() => app.close())

  const login = (await app.inject({ method: 'POST', url: '/api/qr' })).json()
  const signIn = await app.inject({
    method: 'POST',
    url: '/api/mobile/session',
    payload: { username: 'alice', password: 'demo' },
  })
  const phone = signIn.json().token
  await app.inject({
    method: 'POST',
    url: '/api/mobile/session',
    payload: { username: 'alice', password: 'wrong-secret-password' },
  })
  await app.inject({ method: 'POST', url: `/api/qr/${login.id}/scan`, headers: bearer(phone) })
  await app.inject({ method: 'POST', url: `/api/qr/${login.id}/confirm`, cookies: { m_session: phone } })
  await app.inject({ url: `/api/qr/${login.id}`, headers: bearer('a-wrong-watch-token-that-must-not-be-logged') })
  const exchange = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    cookies: { qr_watch: login.watchToken },
  })
  const sid = exchange.cookies.find((c) => c.name === 'sid')!.value
  await app.inject({ url: '/api/me', cookies: { sid } })
  await app.inject({
    method: 'POST',
    url: '/api/logout',
    headers: { origin: 'https://evil.example' },
    cookies: { sid },
  })

  const log = lines.join('\n')
  t.ok(lines.length > 10, `the log was written (${lines.length} lines)`)
  for (const [what, secret] of [
    ['watch token', login.watchToken],
    ['phone session token', phone],
    ['PC session id', sid],
    ['wrong password', 'wrong-secret-password'],
    ['wrong watch token', 'a-wrong-watch-token-that-must-not-be-logged'],
  ] as const) {
    t.notOk(log.includes(secret), `no ${what} in the log`)
  }
  t.notMatch(log, /"password":"demo"/)
})

t.test(
  'a request logger is made only when something is logged, and then has the request id and the redaction',
  async (t) => {
    const lines: string[] = []
    const stream = new PassThrough()
    stream.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)))
    const app = Fastify({ logger: loggerOptions('warn', stream), childLoggerFactory: deferredChildLogger })
    t.teardown(() => app.close())
    app.get('/', async (request) => {
      request.log.info('below the level: never written')
      t.equal(request.log.level, 'warn', 'the level is the parent’s')
      request.log.warn({ login: { token: 'a-secret-token' } }, 'above it')
      request.log.child({ step: 'nested' }).error('from a child of the request logger')
      return { ok: true }
    })
    const response = await app.inject({ url: '/' })
    t.equal(response.statusCode, 200)
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    t.same(
      entries.map(({ msg }) => msg),
      ['above it', 'from a child of the request logger'],
    )
    t.ok(
      entries.every((entry) => typeof entry.reqId === 'string' && entry.reqId === entries[0].reqId),
      'both carry the request id',
    )
    t.same(entries[0].login, { token: '[redacted]' })
    t.equal(entries[1].step, 'nested')
  },
)
