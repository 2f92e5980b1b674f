import { PassThrough } from 'node:stream'
import t from 'tap'
import { memoryBackend, systemClock } from '@qr-login/core'
import { buildApp } from '@qr-login/server'
import { loadConfig } from '../../../apps/server/src/config.js'
import { loggerOptions } from '../../../apps/server/src/logging.js'
import { createLogin, testApp } from '../../helpers/server.js'
import { switchableBackend } from '../../helpers/switchable-store.js'

t.test('/healthz and /readyz answer without credentials, every time, and never to be cached', async (t) => {
  const app = await testApp(t, { RATE_LIMIT_CREATE_PER_MINUTE: '2' })
  for (let call = 0; call < 200; call++) {
    const live = await app.inject({ url: '/healthz' })
    const ready = await app.inject({ url: '/readyz' })
    if (live.statusCode !== 200 || ready.statusCode !== 200)
      t.fail(`call ${call}: ${live.statusCode}, ${ready.statusCode}`)
  }
  const live = await app.inject({ url: '/healthz' })
  t.equal(live.statusCode, 200, 'no rate limit after 200 calls')
  t.same(live.json(), { status: 'ok' })
  t.equal(live.headers['cache-control'], 'no-store')
  const ready = await app.inject({ url: '/readyz' })
  t.same(ready.json(), { status: 'ready' })
  t.equal(ready.headers['cache-control'], 'no-store')
})

t.test('/readyz follows the store: 503 STORE_UNAVAILABLE while it cannot be reached, ready again after', async (t) => {
  const store = switchableBackend(memoryBackend({ clock: systemClock }))
  const app = await testApp(t, {}, { backend: store })
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  store.down = true
  const down = await app.inject({ url: '/readyz' })
  t.equal(down.statusCode, 503)
  t.match(down.json(), { statusCode: 503, code: 'STORE_UNAVAILABLE', error: 'Service Unavailable' })
  const live = await app.inject({ url: '/healthz' })
  t.equal(live.statusCode, 200, 'the process still serves: alive, not ready')
  store.down = false
  t.same((await app.inject({ url: '/readyz' })).json(), { status: 'ready' })
})

t.test('probes leave no request line in the log at info; other requests still do', async (t) => {
  const lines: string[] = []
  const stream = new PassThrough()
  stream.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)))
  const app = await buildApp(
    loadConfig({ PUBLIC_URL: 'http://qr.test:3000', STORE: 'memory' }),
    {},
    loggerOptions('info', stream),
  )
  t.teardown(() => app.close())
  for (let call = 0; call < 5; call++) {
    await app.inject({ url: '/healthz' })
    await app.inject({ url: '/readyz' })
  }
  const login = await createLogin(app)
  await new Promise((resolve) => setImmediate(resolve))
  const urls = lines.map((line) => (JSON.parse(line) as { req?: { url?: string } }).req?.url).filter(Boolean)
  t.notOk(
    urls.some((url) => url === '/healthz' || url === '/readyz'),
    'no line for a probe',
  )
  t.ok(urls.includes('/api/qr'), `the create is logged (${login.id})`)
})
