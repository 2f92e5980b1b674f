import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import t from 'tap'
import { bearer, createLogin, whenLive, listeningApp, openSse, openWs } from '../../helpers/server.js'
import { openSocketIo } from '../../helpers/socket-io.js'
import { serverBundle } from '../../helpers/instances.js'

t.test('close() ends streams, sockets and long polls, telling clients to reconnect', async (t) => {
  const { app, base, wsBase } = await listeningApp(t)
  const login = await createLogin(app)
  const stream = openSse(`${base}/api/qr/${login.id}/events`, bearer(login.watchToken))
  const socket = openWs(`${wsBase}/api/qr/${login.id}/ws`, { headers: bearer(login.watchToken) })
  const longPoll = fetch(`${base}/api/qr/${login.id}?since=1&wait=30`, { headers: bearer(login.watchToken) })
  await stream.until(() => stream.statuses().length === 1)
  await socket.until(() => socket.frames.length === 1)
  await whenLive(app, () => app.live.count('long-poll') === 1, 'the long poll to be held')

  const started = Date.now()
  await app.close()
  t.ok(Date.now() - started < 5000, 'close() does not wait for the clients')
  await stream.until(() => stream.ended)
  t.ok(
    stream.events.some((e) => e.comments.some((c) => /reconnect/.test(c))),
    'SSE clients are told to reconnect',
  )
  t.ok(
    stream.events.some((e) => e.retry !== undefined),
    'with a retry delay',
  )
  await socket.until(() => socket.closeCode !== undefined)
  t.equal(socket.closeCode, 1012, 'WebSockets close with 1012 (service restart)')
  const answered = await longPoll
  t.equal(answered.status, 200, 'long polls are answered')
  t.equal((await answered.json()).version, 1)
  t.same(app.logins.stats().feed, { channels: 0, listeners: 0 })
})

t.test('close() does not wait for connections that sent no request, or half of one', async (t) => {
  // Timeouts far past the test's own: only an explicit end lets close() finish.
  const { app, base } = await listeningApp(t, { HEADERS_TIMEOUT_SECONDS: '600', REQUEST_TIMEOUT_SECONDS: '900' })
  const { port } = new URL(base)
  const opened = async (opening: string) => {
    const socket = connect(Number(port), '127.0.0.1')
    await once(socket, 'connect')
    if (opening) socket.write(opening)
    socket.on('error', () => undefined)
    return { socket, closed: once(socket, 'close') }
  }
  // A browser's preconnect, a client trickling its headers, and a keep-alive connection between requests.
  const silent = await opened('')
  const trickling = await opened('GET /api/demo-users HTTP/1.1\r\nHost: x\r\n')
  const kept = await opened('GET /api/demo-users HTTP/1.1\r\nHost: x\r\n\r\n')
  await once(kept.socket, 'data')
  // And a request being answered: it still gets its answer.
  const login = await createLogin(app)
  const longPoll = fetch(`${base}/api/qr/${login.id}?since=1&wait=30`, { headers: bearer(login.watchToken) })
  await whenLive(app, () => app.live.count('long-poll') === 1, 'the long poll to be held')
  const closing = app.close()
  await Promise.all([silent.closed, trickling.closed, kept.closed])
  await closing
  t.equal(app.server.listening, false, 'close() ended all three connections and returned')
  t.equal((await longPoll).status, 200, 'the long poll was answered')
})

const serverEntry = serverBundle
function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, [serverEntry], {
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited: once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>,
  }
}

t.test('a bad configuration stops start-up with a clear message', async (t) => {
  const server = startProcess({ QR_TTL_SECONDS: 'soon' })
  const [code] = await server.exited
  t.equal(code, 1)
  t.match(server.output().stderr, /Configuration error: QR_TTL_SECONDS must be a whole number/)
})

t.test('the real process prints its URLs, serves, and exits 0 on SIGTERM', async (t) => {
  const server = startProcess({ PORT: '0', PUBLIC_URL: 'http://192.0.2.55:3000' })
  t.teardown(() => server.child.kill('SIGKILL'))
  const stdout = server.child.stdout
  await new Promise<void>((resolve) => {
    const check = () => (/API reference/.test(server.output().stdout) ? resolve() : undefined)
    stdout.on('data', check)
    check()
  })
  const printed = server.output().stdout
  t.match(printed, /On this PC: +http:\/\/localhost:\d+\//)
  t.match(printed, /Phones \(in the QR\): http:\/\/192\.0\.2\.55:3000\//)
  const port = /localhost:(\d+)/.exec(printed)![1]
  const created = await fetch(`http://127.0.0.1:${port}/api/qr`, { method: 'POST' })
  t.equal(created.status, 201)
  t.match((await created.json()).scanUrl, /^http:\/\/192\.0\.2\.55:3000\/m\//)
  server.child.kill('SIGTERM')
  const [code] = await server.exited
  t.equal(code, 0)
})

t.test(
  'SIGTERM on the real process: watchers told to reconnect, the request in flight finished, new ones refused, exit 0 soon',
  async (t) => {
    // At info level the process logs each incoming request: how the test knows its request has arrived.
    const server = startProcess({ PORT: '0', PUBLIC_URL: 'http://192.0.2.55:3000', LOG_LEVEL: 'info' })
    t.teardown(() => server.child.kill('SIGKILL'))
    await new Promise<void>((resolve) => {
      const check = () => (/API reference/.test(server.output().stdout) ? resolve() : undefined)
      server.child.stdout.on('data', check)
      check()
    })
    const port = Number(/localhost:(\d+)/.exec(server.output().stdout)![1])
    const base = `http://127.0.0.1:${port}`
    const login = (await (await fetch(`${base}/api/qr`, { method: 'POST' })).json()) as {
      id: string
      watchToken: string
    }
    const auth = bearer(login.watchToken)
    const stream = openSse(`${base}/api/qr/${login.id}/events`, auth)
    const socket = openWs(`ws://127.0.0.1:${port}/api/qr/${login.id}/ws`, { headers: auth })
    const socketIo = openSocketIo(base, { id: login.id, watchToken: login.watchToken })
    t.teardown(socketIo.close)
    await stream.until(() => stream.statuses().length === 1)
    await socket.until(() => socket.frames.length === 1)
    await socketIo.until(() => socketIo.statuses.length === 1)
    const longPoll = fetch(`${base}/api/qr/${login.id}?since=1&wait=30`, { headers: auth })

    // A sign-in whose body is still on its way when the signal arrives.
    const body = JSON.stringify({ username: 'alice', password: 'demo' })
    const inFlight = connect(port, '127.0.0.1')
    await once(inFlight, 'connect')
    let answer = ''
    inFlight.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk))
    const inFlightClosed = once(inFlight, 'close')
    inFlight.write(
      `POST /api/mobile/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    )
    await new Promise<void>((resolve) => {
      const arrived = () => (/"url":"\/api\/mobile\/session"/.test(server.output().stdout) ? resolve() : undefined)
      server.child.stdout.on('data', arrived)
      arrived()
    })

    const started = Date.now()
    server.child.kill('SIGTERM')
    await socket.until(() => socket.closeCode !== undefined)
    t.equal(socket.closeCode, 1012, 'WebSocket: 1012 service restart')
    await stream.until(() => stream.ended)
    t.ok(
      stream.events.some((event) => event.comments.some((comment) => /reconnect/.test(comment))),
      'SSE: told to reconnect',
    )
    await socketIo.until(() => socketIo.disconnectReason !== undefined)
    t.equal(
      socketIo.disconnectReason,
      'transport close',
      'socket.io: the connection closed under it, so its client reconnects',
    )
    const answered = await longPoll
    t.equal(answered.status, 200, 'the long poll is answered, not cut')
    t.equal((await answered.json()).status, 'pending')

    const refused = await fetch(`${base}/api/demo-users`).then(
      (response) => response.status,
      () => 'refused',
    )
    t.ok(refused === 'refused' || refused === 503, `a new request is not served (${refused})`)

    inFlight.end(body.slice(10))
    await inFlightClosed
    t.match(answer, /^HTTP\/1\.1 200 /, 'the request in flight was finished')
    t.match(answer, /"username":"alice"/)

    const [code] = await server.exited
    t.equal(code, 0)
    t.ok(Date.now() - started < 10_000, `exited ${Date.now() - started} ms after SIGTERM (the grace period is 10 s)`)
  },
)
