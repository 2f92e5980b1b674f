import type { WireErrorCode } from '@qr-login/core'
import { QrLoginError, errorFromResponse, networkError } from './errors.js'
import { joinUrl, send, sleep, type HttpOptions } from './http.js'
import type {
  LoginHandle,
  LoginStatusView,
  SocketIoTransports,
  TrafficEvent,
  TransportName,
  WebSocketFactory,
} from './types.js'
import { createParser } from 'eventsource-parser'

export interface TransportContext {
  http: HttpOptions
  login: LoginHandle
  signal: AbortSignal
  /** The newest version delivered so far (0 before the first). */
  lastVersion(): number
  /** Hands a status to the watcher, which drops repeats and keeps version order. */
  deliver(status: LoginStatusView): void
  /** True once a status that ends watching was delivered. */
  finished(): boolean
  traffic(event: TrafficEvent): void
  webSocket?: WebSocketFactory
  longPollWaitSeconds: number
  socketIoTransports?: SocketIoTransports
}

/** Runs until the login reaches a status that ends watching; throws a QrLoginError when it cannot go on. */
export type Transport = (ctx: TransportContext) => Promise<void>

const textDecoder = () => new TextDecoder()

function bearer(ctx: TransportContext): Record<string, string> {
  return ctx.login.watchToken ? { authorization: `Bearer ${ctx.login.watchToken}` } : {}
}

function statusPath(ctx: TransportContext): string {
  return `/api/qr/${encodeURIComponent(ctx.login.id)}`
}

async function readStatus(ctx: TransportContext, name: TransportName, query: string): Promise<void> {
  ctx.traffic({ type: 'request', transport: name })
  const response = await send(ctx.http, statusPath(ctx) + query, { token: ctx.login.watchToken, signal: ctx.signal })
  const text = await response.text()
  ctx.traffic({ type: 'bytes', transport: name, bytes: new TextEncoder().encode(text).length })
  ctx.deliver(JSON.parse(text) as LoginStatusView)
}

/** Short polling: ask, wait pollIntervalMs, ask again. Simple, and every question costs a request. */
export const poll: Transport = async (ctx) => {
  for (;;) {
    await readStatus(ctx, 'poll', '')
    if (ctx.finished()) return
    await sleep(ctx.login.pollIntervalMs ?? 1000, ctx.signal)
  }
}

/** Long polling: the server holds each request until something newer than `since` exists. */
export const longPoll: Transport = async (ctx) => {
  for (;;) {
    const since = ctx.lastVersion()
    await readStatus(ctx, 'long-poll', since > 0 ? `?since=${since}&wait=${ctx.longPollWaitSeconds}` : '')
    if (ctx.finished()) return
  }
}

/**
 * Server-Sent Events read with fetch rather than EventSource, so it can send
 * a bearer token and Last-Event-ID itself and count the bytes it receives.
 */
export const sse: Transport = async (ctx) => {
  ctx.traffic({ type: 'request', transport: 'sse' })
  const since = ctx.lastVersion()
  const headers: Record<string, string> = { accept: 'text/event-stream', ...bearer(ctx) }
  if (since > 0) headers['last-event-id'] = String(since)
  let response: Response
  try {
    response = await ctx.http.fetch(joinUrl(ctx.http.baseUrl, `${statusPath(ctx)}/events`), {
      headers: { ...ctx.http.headers, ...headers },
      signal: ctx.signal,
      credentials: 'same-origin',
    })
  } catch (error) {
    if ((error as Error)?.name === 'AbortError') throw error
    throw networkError(error)
  }
  if (response.status === 204) return // we already hold the final status
  if (!response.ok) throw await errorFromResponse(response)
  if (!response.body) throw new QrLoginError('UNSUPPORTED', 0, 'This fetch cannot stream response bodies')

  const reader = response.body.getReader()
  const decoder = textDecoder()
  // The event stream format (line endings, fields split across reads, comments) read by a kept parser.
  const parser = createParser({
    onEvent: ({ event, data }) => {
      if (event === 'status' && data) ctx.deliver(JSON.parse(data) as LoginStatusView)
    },
  })
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      ctx.traffic({ type: 'bytes', transport: 'sse', bytes: value.byteLength })
      parser.feed(decoder.decode(value, { stream: true }))
    }
  } catch (error) {
    if ((error as Error)?.name === 'AbortError') throw error
    throw new QrLoginError('DROPPED', 0, `The event stream broke: ${(error as Error)?.message ?? error}`)
  } finally {
    reader.releaseLock()
  }
  if (!ctx.finished()) throw new QrLoginError('DROPPED', 0, 'The event stream ended before the login did')
}

function webSocketUrl(baseUrl: string, path: string): string {
  const base = baseUrl || (typeof location !== 'undefined' ? location.origin : '')
  return joinUrl(base.replace(/^http/, 'ws'), path)
}

/** WebSocket: one connection, a frame per change; the server closes with 1000 when the login is done. */
export const ws: Transport = (ctx) =>
  new Promise<void>((resolve, reject) => {
    const factory = ctx.webSocket
    if (!factory) return reject(new QrLoginError('UNSUPPORTED', 0, 'No WebSocket implementation available'))
    ctx.traffic({ type: 'request', transport: 'ws' })
    let opened = false
    let settled = false
    let socket: ReturnType<WebSocketFactory>
    try {
      socket = factory(webSocketUrl(ctx.http.baseUrl, `${statusPath(ctx)}/ws`), bearer(ctx))
    } catch (error) {
      return reject(new QrLoginError('UNSUPPORTED', 0, `WebSocket could not be created: ${(error as Error).message}`))
    }
    const onAbort = () => socket.close(1000, 'watch stopped')
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    const settle = (outcome: () => void) => {
      if (settled) return
      settled = true
      ctx.signal.removeEventListener('abort', onAbort)
      outcome()
    }
    const refused = () => reject(new QrLoginError('UNSUPPORTED', 0, 'The WebSocket upgrade was refused or failed'))
    socket.onopen = () => {
      opened = true
    }
    socket.onmessage = (event) => {
      const text = typeof event.data === 'string' ? event.data : new TextDecoder().decode(event.data as ArrayBuffer)
      ctx.traffic({ type: 'bytes', transport: 'ws', bytes: new TextEncoder().encode(text).length })
      const frame = JSON.parse(text) as { type: string } & LoginStatusView
      if (frame.type !== 'status') return
      const { type: _type, ...status } = frame
      ctx.deliver(status)
    }
    socket.onerror = () => {
      // Once open, the close that follows decides. Before it, this is the refused upgrade: Node 22's
      // WebSocket (undici 6) never fires close after one, so waiting for it would hang the watch.
      // Settled before close(): Node 22's close() on a failed socket fires error again, at once.
      if (opened || settled) return
      settle(() => (ctx.signal.aborted ? reject(abortError()) : refused()))
      socket.close()
    }
    socket.onclose = (event) =>
      settle(() => {
        if (ctx.signal.aborted) return reject(abortError())
        if (ctx.finished()) return resolve()
        if (!opened) return refused()
        reject(new QrLoginError('DROPPED', 0, `The WebSocket closed (${event.code}) before the login ended`))
      })
  })

function abortError(): Error {
  const error = new Error('The watch was stopped')
  error.name = 'AbortError'
  return error
}

/**
 * socket.io: namespace /qr, the watch token in the handshake's auth. Its own
 * reconnection is off: the watcher's loop reconnects, resuming with `since`,
 * the same way for every transport. Loaded on first use, so pages that never
 * choose it never download it.
 */
export const socketIo: Transport = async (ctx) => {
  if (!ctx.login.watchToken)
    throw new QrLoginError(
      'WATCH_TOKEN_REQUIRED',
      401,
      'socket.io needs the watch token in hand (the qr_watch cookie is not sent to /socket.io/)',
    )
  const { io } = await import('socket.io-client')
  return new Promise<void>((resolve, reject) => {
    ctx.traffic({ type: 'request', transport: 'socket.io' })
    const since = ctx.lastVersion()
    const base = ctx.http.baseUrl || (typeof location !== 'undefined' ? location.origin : '')
    const socket = io(joinUrl(base, '/qr'), {
      auth: { id: ctx.login.id, watchToken: ctx.login.watchToken, ...(since > 0 ? { since } : {}) },
      reconnection: false,
      forceNew: true,
      // A service of several processes refuses polling (its sessions would not stick): go on with WebSocket.
      tryAllTransports: true,
      ...(ctx.socketIoTransports ? { transports: ctx.socketIoTransports } : {}),
    })
    const onAbort = () => settle(abortError())
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    const settle = (error?: unknown) => {
      ctx.signal.removeEventListener('abort', onAbort)
      socket.removeAllListeners()
      socket.io.engine?.off('packet', countBytes)
      socket.disconnect()
      if (error) reject(error)
      else resolve()
    }
    const countBytes = (packet: { data?: unknown }) => {
      const data = packet.data
      const bytes =
        typeof data === 'string'
          ? new TextEncoder().encode(data).length
          : data instanceof ArrayBuffer
            ? data.byteLength
            : 0
      ctx.traffic({ type: 'bytes', transport: 'socket.io', bytes: 1 + bytes })
    }
    socket.io.on('open', () => socket.io.engine.on('packet', countBytes))
    socket.on('status', (status: LoginStatusView) => ctx.deliver(status))
    socket.on('connect_error', (error: Error & { data?: { statusCode?: number; message?: string } }) => {
      // A refusal carries the error body; anything else is the network.
      const body = error.data
      settle(
        body?.statusCode
          ? new QrLoginError(error.message as WireErrorCode, body.statusCode, body.message ?? error.message)
          : networkError(error),
      )
    })
    socket.on('disconnect', (reason) => {
      if (ctx.finished()) return settle()
      settle(new QrLoginError('DROPPED', 0, `socket.io disconnected (${reason}) before the login ended`))
    })
  })
}

/** Every transport the SDK speaks: adding one is its function and a line here. */
export const transports: Record<TransportName, Transport> = {
  poll,
  'long-poll': longPoll,
  sse,
  ws,
  'socket.io': socketIo,
}

/** In the order a picker lists them: from the cheapest to write to the richest. */
export const transportNames = Object.keys(transports) as TransportName[]
