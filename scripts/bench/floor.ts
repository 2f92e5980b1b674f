// The floor to compare against: a bare node:http + ws server doing the same job
// on the same wire format, and nothing else. It creates logins with a watch
// token, signs a phone in, takes scans and confirms from that phone, and tells
// the login's watchers over SSE, WebSocket or a long poll, with the project's
// URLs, bodies and frames. No framework, no validation, no limits, no metrics,
// no logs — but the same heartbeats: what any server must spend on this work, so the project's figures
// can be read as a multiple of it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'

interface View {
  id: string
  status: 'pending' | 'scanned' | 'confirmed'
  version: number
  expiresAt: string
  scannedBy?: { displayName: string; avatarUrl: string }
}

interface Login {
  view: View
  watchToken: string
  scannedByUser?: string
  watchers: Set<(view: View) => void>
}

const logins = new Map<string, Login>()
const phoneSessions = new Map<string, { username: string; displayName: string }>()
const collectGarbage = (globalThis as { gc?: () => void }).gc
const token = (bytes: number) => randomBytes(bytes).toString('base64url')
const ends = (view: View) => view.status === 'confirmed'
// The project's defaults (SSE_HEARTBEAT_MS, WS_PING_MS): a held connection is kept alive the same way here.
const sseHeartbeatMs = 15_000
const wsPingMs = 30_000

function bearer(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
    .end(text)
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => (body += chunk))
    request.on('end', () => resolve(body))
  })
}

/** The login a watcher may watch: its id known and its watch token presented. */
function watched(request: IncomingMessage, id: string): Login | undefined {
  const login = logins.get(id)
  return login && bearer(request) === login.watchToken ? login : undefined
}

function change(login: Login, next: Partial<View>): void {
  login.view = { ...login.view, ...next, version: login.view.version + 1 }
  for (const watcher of login.watchers) watcher(login.view)
}

function watchSse(request: IncomingMessage, response: ServerResponse, login: Login): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const send = (view: View) => {
    response.write(`id: ${view.version}\nevent: status\ndata: ${JSON.stringify(view)}\n\n`)
    if (ends(view)) response.end()
  }
  response.write('retry: 1000\n\n')
  login.watchers.add(send)
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), sseHeartbeatMs)
  request.on('close', () => {
    clearInterval(heartbeat)
    login.watchers.delete(send)
  })
  send(login.view)
}

function watchLongPoll(request: IncomingMessage, response: ServerResponse, login: Login, since: number): void {
  if (login.view.version > since) return json(response, 200, login.view)
  const answer = (view: View) => {
    clearTimeout(timer)
    login.watchers.delete(answer)
    json(response, 200, view)
  }
  const timer = setTimeout(() => answer(login.view), 25_000)
  login.watchers.add(answer)
  request.on('close', () => {
    clearTimeout(timer)
    login.watchers.delete(answer)
  })
}

async function phoneAction(request: IncomingMessage, response: ServerResponse, id: string, action: string) {
  const phone = phoneSessions.get(bearer(request) ?? '')
  if (!phone) return json(response, 401, { error: 'PHONE_SESSION_REQUIRED' })
  const login = logins.get(id)
  if (!login) return json(response, 404, { error: 'QR_NOT_FOUND' })
  if (action === 'scan' && login.view.status === 'pending') {
    login.scannedByUser = phone.username
    change(login, { status: 'scanned', scannedBy: { displayName: phone.displayName, avatarUrl: '/avatars/x.svg' } })
  } else if (action === 'confirm' && login.view.status === 'scanned' && login.scannedByUser === phone.username) {
    change(login, { status: 'confirmed' })
  } else return json(response, 409, { error: 'INVALID_TRANSITION' })
  json(response, 200, login.view)
}

const server = createServer((request, response) => {
  const url = new URL(request.url!, 'http://floor')
  const [, api, kind, id, action] = url.pathname.split('/')
  if (api !== 'api') {
    if (api === 'memory') {
      collectGarbage?.()
      collectGarbage?.()
      const cpu = process.cpuUsage()
      return json(response, 200, {
        ...process.memoryUsage(),
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        systemCpuSeconds: cpu.system / 1e6,
      })
    }
    return json(response, 404, { error: 'NOT_FOUND' })
  }
  if (kind === 'mobile' && id === 'session' && request.method === 'POST') {
    return void readBody(request).then((body) => {
      const { username } = JSON.parse(body) as { username: string }
      const session = token(32)
      phoneSessions.set(session, { username, displayName: username[0].toUpperCase() + username.slice(1) })
      json(response, 200, { token: session })
    })
  }
  if (kind !== 'qr') return json(response, 404, { error: 'NOT_FOUND' })
  if (!id && request.method === 'POST') {
    const login: Login = {
      view: {
        id: token(16).slice(0, 21),
        status: 'pending',
        version: 1,
        expiresAt: new Date(Date.now() + 900_000).toISOString(),
      },
      watchToken: token(32),
      watchers: new Set(),
    }
    logins.set(login.view.id, login)
    return json(response, 200, { ...login.view, watchToken: login.watchToken })
  }
  if (request.method === 'POST' && (action === 'scan' || action === 'confirm'))
    return void phoneAction(request, response, id, action)
  const login = watched(request, id)
  if (!login) return json(response, 401, { error: 'WATCH_TOKEN_INVALID' })
  if (action === 'events') return watchSse(request, response, login)
  const since = url.searchParams.get('since')
  if (!action && since !== null) return watchLongPoll(request, response, login, Number(since))
  if (!action) return json(response, 200, login.view)
  json(response, 404, { error: 'NOT_FOUND' })
})

const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false })
server.on('upgrade', (request: IncomingMessage, socket, head) => {
  const [, , , id, action] = request.url!.split('/')
  const login = action === 'ws' ? watched(request, id) : undefined
  if (!login) return socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n')
  sockets.handleUpgrade(request, socket, head, (ws: WebSocket) => {
    const send = (view: View) => {
      ws.send(JSON.stringify({ type: 'status', ...view }))
      if (ends(view)) ws.close(1000, view.status)
    }
    login.watchers.add(send)
    const ping = setInterval(() => ws.ping(), wsPingMs)
    ws.on('close', () => {
      clearInterval(ping)
      login.watchers.delete(send)
    })
    send(login.view)
  })
})

server.keepAliveTimeout = 72_000
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`floor:listening ${(server.address() as { port: number }).port}\n`)
})
// Exiting on SIGTERM (rather than being killed by it) lets a profiled floor write its profile.
process.on('SIGTERM', () => process.exit(0))
