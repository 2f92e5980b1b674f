import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildApp } from '@qr-login/server'
import { loadConfig } from '../../../apps/server/src/config.js'

t.test('from the start of close() every request is 503 SHUTTING_DOWN, /readyz included', async (t) => {
  const app = await buildApp(loadConfig({ PUBLIC_URL: 'http://qr.test:3000', LOG_LEVEL: 'silent', STORE: 'memory' }))
  // Holds close() right after the service's own preClose hooks, as a long shutdown would be held.
  let letCloseGoOn!: () => void
  let closeBegan!: () => void
  const began = new Promise<void>((resolve) => (closeBegan = resolve))
  app.addHook('preClose', async () => {
    closeBegan()
    await new Promise<void>((resolve) => (letCloseGoOn = resolve))
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  t.equal((await fetch(`${base}/readyz`)).status, 200)
  const closed = app.close()
  await began
  t.equal(app.shuttingDown, true)
  for (const [method, path] of [
    ['GET', '/readyz'],
    ['GET', '/healthz'],
    ['POST', '/api/qr'],
    ['GET', '/api/qr/AAAAAAAAAAAAAAAAAAAAA'],
  ]) {
    const refused = await fetch(base + path, { method })
    t.equal(refused.status, 503, path)
    t.match(await refused.json(), { code: 'SHUTTING_DOWN', message: /shutting down/ }, path)
    t.equal(refused.headers.get('connection'), 'close', `${path}: the client's next request goes elsewhere`)
  }
  letCloseGoOn()
  await closed
})
