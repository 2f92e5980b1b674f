import t from 'tap'
import { multiInstanceSuite } from './multi-instance-suite.js'
import { QrLoginClient } from '@qr-login/client'
import { nodeWebSocket } from '@qr-login/client/node'
import { startInstance } from '../../helpers/instances.js'
import { cleanUpPrefix, sharedRedisUrl, uniquePrefix } from '../../helpers/redis.js'

multiInstanceSuite(t, (t, prefix) => {
  cleanUpPrefix(t, prefix)
  return { REDIS_URL: sharedRedisUrl }
})

t.test('messages per status change on one Redis: every instance hears every change', async (t) => {
  const prefix = uniquePrefix('heard')
  cleanUpPrefix(t, prefix)
  const env = { STORE: 'redis', REDIS_URL: sharedRedisUrl, REDIS_PREFIX: prefix, PUBLIC_URL: 'http://qr.test' }
  const [a, b] = await Promise.all(['A', 'B'].map((name) => startInstance(t, name, env)))
  const api = new QrLoginClient({ baseUrl: a.base, webSocket: nodeWebSocket })
  const login = await api.createLogin()
  let firstSeen!: () => void
  const first = new Promise<void>((resolve) => (firstSeen = resolve))
  const done = (async () => {
    for await (const status of api.watch(login, { transport: 'ws' })) if (status.version === 1) firstSeen()
  })()
  await first
  const phone = await new QrLoginClient({ baseUrl: b.base }).signInPhone('alice', 'demo')
  await phone.scan(login.id)
  await phone.confirm(login.id)
  await done
  // Two changes (scanned, confirmed; a new login has no watcher to tell), each heard by both instances, watching or not.
  for (const instance of [a, b]) {
    const text = await (await fetch(`${instance.base}/metrics`)).text()
    t.equal(Number(/^qr_status_messages_heard (\d+)/m.exec(text)?.[1]), 2, `${instance.name} heard both`)
  }
})
