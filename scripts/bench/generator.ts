// The load generator, in a process of its own (forked by scripts/bench/index.ts).
// Opens N watchers of one transport, then confirms the logins at a set rate and
// measures, in this one process and clock, the delay from sending each confirm
// to its watcher receiving `confirmed`. Sockets are spread over several
// 127.x.y.z source addresses so ports never run out.
import { Agent, request, type IncomingMessage } from 'node:http'
import { performance } from 'node:perf_hooks'
import * as hdr from 'hdr-histogram-js'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import { delayFigures, type Outcome } from './outcomes.js'

export type { Outcome } from './outcomes.js'

/** socket.io: its polling handshake upgraded to WebSocket; socket.io-ws: WebSocket only. */
export type BenchTransport = 'sse' | 'ws' | 'long-poll' | 'poll' | 'socket.io' | 'socket.io-ws'

export interface Job {
  transport: BenchTransport
  base: string
  /** Where confirms go (another instance, for the cross-instance figure); defaults to base. */
  confirmBase?: string
  logins: { id: string; token: string }[]
  phoneToken: string
  confirmRate: number
  sources: string[]
  pollIntervalMs: number
  settleMs: number
  /** Scan each login right before confirming it (measured); otherwise it was scanned during set-up. */
  scanFirst: boolean
}

interface Watcher {
  id: string
  confirmedAt?: number
  bytes: number
  requests: number
  close(): void
}

const errorSamples: string[] = []
let errorCount = 0
function fail(what: string, error: unknown) {
  errorCount++
  if (errorSamples.length < 10) errorSamples.push(`${what}: ${(error as Error)?.message ?? error}`)
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    response.setEncoding('utf8')
    response.on('data', (chunk: string) => (body += chunk))
    response.on('end', () => resolve(body))
    response.on('error', reject)
  })
}

/** An event stream: ready at the first event, done at `confirmed`. */
function streamWatcher(url: string, headers: Record<string, string>, localAddress: string, ready: () => void): Watcher {
  const watcher: Watcher = { id: '', bytes: 0, requests: 1, close: () => req.destroy() }
  let carry = ''
  let first = true
  const req = request(
    url,
    { headers: { accept: 'text/event-stream', ...headers }, localAddress, agent: false },
    (response) => {
      if (response.statusCode !== 200) return fail('stream', new Error(`status ${response.statusCode}`))
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        watcher.bytes += Buffer.byteLength(chunk)
        const text = carry + chunk
        if (first && text.includes('event: status')) {
          first = false
          ready()
        }
        if (!watcher.confirmedAt && text.includes('"status":"confirmed"')) watcher.confirmedAt = performance.now()
        carry = text.slice(-40)
      })
      response.on('error', () => undefined)
    },
  )
  req.on('error', (error) => watcher.confirmedAt || fail('stream', error))
  req.end()
  return watcher
}

function wsWatcher(url: string, token: string, localAddress: string, ready: () => void): Watcher {
  const socket = new WebSocket(url, {
    headers: { authorization: `Bearer ${token}` },
    localAddress,
    perMessageDeflate: false,
  })
  const watcher: Watcher = {
    id: '',
    bytes: 0,
    requests: 1,
    close: () => socket.terminate(),
  }
  let first = true
  socket.on('message', (data: Buffer) => {
    if (first) {
      first = false
      ready()
    }
    if (!watcher.confirmedAt && data.includes('"status":"confirmed"')) watcher.confirmedAt = performance.now()
  })
  socket.on('close', () => {
    watcher.bytes = (socket as unknown as { _socket?: { bytesRead: number } })._socket?.bytesRead ?? watcher.bytes
  })
  socket.on('error', (error) => watcher.confirmedAt || fail('ws', error))
  return watcher
}

/**
 * socket.io-client, as the SDK uses it. Bytes are what its engine reads: the WebSocket's socket after
 * the upgrade, and each polling packet's payload plus a response head before it.
 */
function socketIoWatcher(
  base: string,
  login: { id: string; token: string },
  localAddress: string,
  websocketOnly: boolean,
  ready: () => void,
): Watcher {
  // No keep-alive: the handshake's polling sockets close once answered, as idle keep-alive sockets would
  // otherwise sit next to each upgraded WebSocket and double the server's descriptors (its limit is 20,000).
  const agent = new Agent({ keepAlive: false, localAddress })
  const socket = io(`${base}/qr`, {
    auth: { id: login.id, watchToken: login.token },
    reconnection: false,
    forceNew: true,
    transports: websocketOnly ? ['websocket'] : ['polling', 'websocket'],
    agent: agent as never,
    localAddress,
  } as unknown as Parameters<typeof io>[1])
  // The WebSocket's own socket, kept from when it opens: it is gone from the transport once the server disconnects.
  let webSocketStream: { bytesRead: number } | undefined
  const keepWebSocketStream = () => {
    webSocketStream ??= (
      socket.io.engine?.transport as unknown as { ws?: { _socket?: { bytesRead: number } } } | undefined
    )?.ws?._socket
  }
  const watcher: Watcher = {
    id: login.id,
    bytes: 0,
    requests: 1,
    close: () => {
      watcher.bytes += webSocketStream?.bytesRead ?? 0
      socket.disconnect()
      agent.destroy()
    },
  }
  socket.io.on('open', () => {
    const engine = socket.io.engine
    engine.on('packet', (packet: { data?: unknown }) => {
      if (engine.transport.name === 'polling')
        watcher.bytes += 200 + (typeof packet.data === 'string' ? Buffer.byteLength(packet.data) : 0)
    })
    engine.transport.on('poll', () => watcher.requests++)
    engine.on('upgrade', () => {
      watcher.requests++
      keepWebSocketStream()
    })
    keepWebSocketStream()
  })
  let first = true
  socket.on('status', (status: { status: string }) => {
    if (first) {
      first = false
      ready()
    }
    if (!watcher.confirmedAt && status.status === 'confirmed') watcher.confirmedAt = performance.now()
  })
  socket.on('connect_error', (error) => fail('socket.io', error))
  return watcher
}

/** Long poll (hold up to 30 s for a newer version) or short poll (ask every interval). */
function pollWatcher(
  base: string,
  id: string,
  token: string,
  localAddress: string,
  long: boolean,
  intervalMs: number,
  ready: () => void,
): Watcher {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress })
  let stopped = false
  let version = 0
  const watcher: Watcher = {
    id,
    bytes: 0,
    requests: 0,
    close: () => {
      stopped = true
      agent.destroy()
    },
  }
  const ask = () => {
    if (stopped || watcher.confirmedAt) return
    watcher.requests++
    const query = long && version > 0 ? `?since=${version}&wait=30` : ''
    const req = request(
      `${base}/api/qr/${id}${query}`,
      { agent, headers: { authorization: `Bearer ${token}` } },
      (response) => {
        readAll(response).then(
          (body) => {
            watcher.bytes += Buffer.byteLength(body) + 200 // the response head, roughly
            if (response.statusCode !== 200)
              return fail('poll', new Error(`status ${response.statusCode} ${body.slice(0, 80)}`))
            const status = JSON.parse(body) as { status: string; version: number }
            if (version === 0) ready()
            version = status.version
            if (status.status === 'confirmed') watcher.confirmedAt = performance.now()
            else if (long) ask()
            else setTimeout(ask, intervalMs)
          },
          (error) => fail('poll', error),
        )
      },
    )
    req.on('error', (error) => stopped || fail('poll', error))
    req.end()
  }
  ask()
  return watcher
}

function openWatcher(job: Job, login: { id: string; token: string }, index: number, ready: () => void): Watcher {
  const source = job.sources[index % job.sources.length]
  const auth = { authorization: `Bearer ${login.token}` }
  let watcher: Watcher
  switch (job.transport) {
    case 'sse':
      watcher = streamWatcher(`${job.base}/api/qr/${login.id}/events`, auth, source, ready)
      break
    case 'ws':
      watcher = wsWatcher(`${job.base.replace('http', 'ws')}/api/qr/${login.id}/ws`, login.token, source, ready)
      break
    case 'socket.io':
    case 'socket.io-ws':
      watcher = socketIoWatcher(job.base, login, source, job.transport === 'socket.io-ws', ready)
      break
    case 'long-poll':
    case 'poll':
      watcher = pollWatcher(
        job.base,
        login.id,
        login.token,
        source,
        job.transport === 'long-poll',
        job.pollIntervalMs,
        ready,
      )
      break
  }
  watcher.id = login.id
  return watcher
}

let watchers: Watcher[] = []
let opened = 0

async function open(job: Job) {
  const batch = 250
  for (let start = 0; start < job.logins.length; start += batch) {
    await Promise.all(
      job.logins.slice(start, start + batch).map(
        (login, offset) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              fail('open', new Error('no first status within 30 s'))
              resolve()
            }, 30_000)
            watchers.push(
              openWatcher(job, login, start + offset, () => {
                clearTimeout(timer)
                opened++
                resolve()
              }),
            )
          }),
      ),
    )
  }
}

/**
 * Each login in turn, at the set rate, the way a phone does it: scan, and once that is answered, confirm
 * (or only confirm, when the scans were made during set-up). The delay is from sending the confirm.
 */
async function confirmAll(job: Job): Promise<Outcome> {
  const agent = new Agent({ keepAlive: true, maxSockets: 128 })
  const sentAt = new Map<string, number>()
  const started = performance.now()
  const gapMs = 1000 / job.confirmRate
  const post = (id: string, action: 'scan' | 'confirm', answered: () => void) => {
    const req = request(
      `${job.confirmBase ?? job.base}/api/qr/${id}/${action}`,
      { method: 'POST', agent, headers: { authorization: `Bearer ${job.phoneToken}` } },
      (response) => {
        readAll(response).then(
          (body) => {
            if (response.statusCode !== 200)
              return fail(action, new Error(`status ${response.statusCode} ${body.slice(0, 80)}`))
            answered()
          },
          (error) => fail(action, error),
        )
      },
    )
    req.on('error', (error) => fail(action, error))
    req.end()
  }
  for (let i = 0; i < job.logins.length; i++) {
    const due = started + i * gapMs
    const wait = due - performance.now()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    const { id } = job.logins[i]
    const confirm = () => {
      sentAt.set(id, performance.now())
      post(id, 'confirm', () => undefined)
    }
    if (job.scanFirst) post(id, 'scan', confirm)
    else confirm()
  }
  const deadline = performance.now() + job.settleMs
  while (watchers.some((w) => !w.confirmedAt) && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20))
  const confirmSeconds = (performance.now() - started) / 1000
  for (const watcher of watchers) watcher.close()
  await new Promise((resolve) => setTimeout(resolve, 50)) // let close handlers record bytes
  agent.destroy()

  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  })
  let received = 0
  let bytes = 0
  let requests = 0
  for (const watcher of watchers) {
    bytes += watcher.bytes
    requests += watcher.requests
    if (!watcher.confirmedAt || !sentAt.has(watcher.id)) continue
    received++
    histogram.recordValue(Math.max(1, Math.round((watcher.confirmedAt - sentAt.get(watcher.id)!) * 1000)))
  }
  return {
    watchers: job.logins.length,
    opened,
    received,
    lost: job.logins.length - received,
    errors: errorCount,
    errorSamples,
    delayMs: delayFigures(histogram),
    bytesPerLogin: Math.round(bytes / job.logins.length),
    requestsPerLogin: Math.round((requests / job.logins.length) * 100) / 100,
    confirmSeconds: Math.round(confirmSeconds * 100) / 100,
    histogram: hdr.encodeIntoCompressedBase64(histogram),
  }
}

let job: Job | undefined
process.on('message', (message: { type: 'open'; job: Job } | { type: 'confirm' }) => {
  if (message.type === 'open') {
    job = message.job
    watchers = []
    opened = 0
    // A generator may run several rounds (the soak): each round counts its own errors.
    errorCount = 0
    errorSamples.length = 0
    open(job).then(
      () => process.send!({ type: 'opened', opened, errors: errorCount, errorSamples }),
      (error: unknown) => process.send!({ type: 'failed', error: String(error) }),
    )
  } else {
    confirmAll(job!).then(
      (outcome) => process.send!({ type: 'done', outcome }),
      (error: unknown) => process.send!({ type: 'failed', error: String(error) }),
    )
  }
})
