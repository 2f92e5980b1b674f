import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import { QrLoginClient } from '@qr-login/client'
import { nodeWebSocket } from '@qr-login/client/node'
import { listeningApp } from '../../helpers/server.js'

/**
 * Three kinds of dead weight a careless or hostile client leaves on a server:
 * sockets that say nothing, requests whose headers never finish (slowloris),
 * and requests whose body never finishes.
 */
const idleKinds = [
  '',
  'GET /api/demo-users HTTP/1.1\r\nHost: x\r\nX-Slow: ',
  'POST /api/mobile/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user',
]

t.test('1,000 idle or half-open connections do not stop a normal login from completing', async (t) => {
  const { app, base } = await listeningApp(t)
  const { port } = new URL(base)
  const sockets: Socket[] = []
  let closedEarly = 0
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
  })
  for (let i = 0; i < 1000; i++) {
    // Several source addresses, as many clients would be.
    const socket = connect({ port: Number(port), host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % 20)}` })
    socket.on('error', () => undefined)
    socket.on('close', () => closedEarly++)
    await once(socket, 'connect')
    const opening = idleKinds[i % idleKinds.length]
    if (opening) socket.write(opening)
    // A third of them also half-close: the client sends FIN and goes on listening.
    if (i % 3 === 2) socket.end()
    sockets.push(socket)
  }

  const pc = new QrLoginClient({ baseUrl: base, webSocket: nodeWebSocket })
  const login = await pc.createLogin()
  const statuses: string[] = []
  const stop = new AbortController()
  t.teardown(() => stop.abort())
  const watching = (async () => {
    for await (const status of pc.watch(login, { transport: 'sse', signal: stop.signal })) statuses.push(status.status)
  })()
  const phone = await pc.signInPhone('alice', 'demo')
  await phone.scan(login.id)
  await phone.confirm(login.id)
  await watching
  const { user } = await pc.exchange(login)
  t.equal(user.username, 'alice')
  t.same(statuses, ['pending', 'scanned', 'confirmed'])
  t.ok(closedEarly < 100, `the idle connections were still open while the login ran (${1000 - closedEarly} of 1000)`)
  t.ok(app.server.listening)
})
