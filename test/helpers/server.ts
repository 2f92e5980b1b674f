import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import WebSocket from 'ws'
import type { Clock } from '@qr-login/core'
import type { CreatedLogin } from '@qr-login/wire'
import { buildApp, type App, type AppOverrides } from '@qr-login/server'
import { loadConfig } from '../../apps/server/src/config.js'
import { withOwnDataDir } from './data-dir.js'
import { createParser } from 'eventsource-parser'

export type { CreatedLogin }

export const chromeOnWindows =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

/**
 * Builds the app (not listening) with test-friendly defaults, on the default store (SQLite) in a
 * DATA_DIR of its own unless the test names another; closed when the test ends.
 */
export async function testApp(t: Test, env: Record<string, string> = {}, overrides: AppOverrides = {}): Promise<App> {
  const config = loadConfig({
    PUBLIC_URL: 'http://qr.test:3000',
    LOG_LEVEL: 'silent',
    ...(overrides.backend ? env : withOwnDataDir(t, env)),
  })
  const app = await buildApp(config, overrides)
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/** The same app listening on 127.0.0.1 and a free port, for tests that need real sockets. */
export async function listeningApp(t: Test, env: Record<string, string> = {}, overrides: AppOverrides = {}) {
  const app = await testApp(t, env, overrides)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { app, base: `http://127.0.0.1:${port}`, wsBase: `ws://127.0.0.1:${port}` }
}

/**
 * Listening on a port chosen first, so PUBLIC_URL (and so every scanUrl) points at this very server.
 * `hostname: 'localhost'` names it as WebAuthn needs (a secure context whose host is not an IP address).
 */
export async function publicApp(
  t: Test,
  env: Record<string, string> = {},
  { hostname = '127.0.0.1', clock }: { hostname?: string; clock?: Clock } = {},
) {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  const base = `http://${hostname}:${port}`
  const app = await testApp(t, { PUBLIC_URL: base, ...env }, clock ? { clock } : {})
  await app.listen({ port, host: '127.0.0.1' })
  return { app, base, wsBase: base.replace('http', 'ws') }
}

export async function createLogin(app: App, headers: Record<string, string> = {}): Promise<CreatedLogin> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/qr',
    headers: { 'user-agent': chromeOnWindows, ...headers },
  })
  if (response.statusCode !== 201) throw new Error(`create failed: ${response.statusCode} ${response.body}`)
  return response.json()
}

export async function phoneToken(app: App, username = 'alice'): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/mobile/session',
    payload: { username, password: 'demo' },
  })
  if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.body}`)
  return response.json().token
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` }
}

export async function phoneAction(app: App, action: 'scan' | 'confirm' | 'cancel', id: string, token: string) {
  return app.inject({ method: 'POST', url: `/api/qr/${id}/${action}`, headers: bearer(token) })
}

/** Scan and confirm as alice. */
export async function approve(app: App, id: string, username = 'alice') {
  const token = await phoneToken(app, username)
  await phoneAction(app, 'scan', id, token)
  return phoneAction(app, 'confirm', id, token)
}

export interface SseEvent {
  event?: string
  id?: string
  data?: string
  retry?: string
  comments: string[]
}

/** A raw SSE reader over node:http (eventsource-parser reads the format), apart from the SDK the tests also check. */
export function openSse(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = []
  const waiters: { predicate: () => boolean; resolve: () => void }[] = []
  // Comments (heartbeats, the shutdown notice) and retry are kept as entries of their own, in arrival order.
  const parser = createParser({
    onEvent: ({ event, id, data }) =>
      events.push({
        comments: [],
        data,
        ...(event !== undefined ? { event } : {}),
        ...(id !== undefined ? { id } : {}),
      }),
    onComment: (comment) => events.push({ comments: [comment.trim()] }),
    onRetry: (retry) => events.push({ comments: [], retry: String(retry) }),
  })
  let statusCode = 0
  let responseHeaders: IncomingHttpHeaders = {}
  let body = ''
  let ended = false
  const notify = () => {
    for (const waiter of [...waiters]) {
      if (waiter.predicate()) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  }
  let req: ReturnType<typeof httpRequest> | undefined
  const ready = new Promise<void>((resolve, reject) => {
    req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      statusCode = res.statusCode ?? 0
      responseHeaders = res.headers
      res.setEncoding('utf8')
      resolve()
      res.on('data', (chunk: string) => {
        body += chunk
        if (statusCode !== 200) return
        parser.feed(chunk)
        notify()
      })
      res.on('end', () => {
        ended = true
        notify()
      })
      res.on('error', () => undefined)
    })
    req.on('error', reject)
    req.end()
  })
  const stream = {
    ready,
    events,
    get statusCode() {
      return statusCode
    },
    get headers() {
      return responseHeaders
    },
    get body() {
      return body
    },
    get ended() {
      return ended
    },
    statuses: () => events.filter((e) => e.event === 'status').map((e) => JSON.parse(e.data!)),
    until(predicate: () => boolean): Promise<void> {
      if (predicate()) return Promise.resolve()
      return new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
    close: () => req?.destroy(),
  }
  return stream
}

/** A WebSocket client that records frames and how it was closed. */
export function openWs(url: string, options: WebSocket.ClientOptions = {}) {
  const socket = new WebSocket(url, options)
  const frames: Record<string, unknown>[] = []
  const waiters: { predicate: () => boolean; resolve: () => void }[] = []
  let closeCode: number | undefined
  let pings = 0
  const notify = () => {
    for (const waiter of [...waiters]) {
      if (waiter.predicate()) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  }
  socket.on('message', (data) => {
    frames.push(JSON.parse(String(data)))
    notify()
  })
  socket.on('ping', () => {
    pings++
    notify()
  })
  socket.on('close', (code) => {
    closeCode = code
    notify()
  })
  const refused = new Promise<{ statusCode: number; body: string }>((resolve) => {
    socket.on('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body }))
    })
  })
  socket.on('error', () => undefined)
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('unexpected-response', () => reject(new Error('upgrade refused')))
  })
  // A test that expects a refusal awaits `refused` and never `opened`.
  opened.catch(() => undefined)
  return {
    socket,
    frames,
    refused,
    opened,
    get closeCode() {
      return closeCode
    },
    get pings() {
      return pings
    },
    until(predicate: () => boolean): Promise<void> {
      if (predicate()) return Promise.resolve()
      return new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
  }
}

/** Rejects after `limitMs` naming what was awaited, so a wait that never ends fails with its reason. */
function within<T>(what: string, limitMs: number, wait: (resolve: (value: T) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let stop = () => {}
    const timer = setTimeout(() => {
      stop()
      reject(new Error(`timed out waiting for ${what}`))
    }, limitMs)
    stop = wait((value) => {
      clearTimeout(timer)
      stop()
      resolve(value)
    })
  })
}

/**
 * Resolves once `predicate` holds about the app's watch connections (their counts, and what their
 * release frees: open watches, cap slots, feed listeners). Checked again each time a connection comes
 * or goes, and every 10 ms for what changes without one: a watch whose store read was still out when
 * its client left closes when the read returns, after its connection was already gone.
 */
export function whenLive(app: App, predicate: () => boolean, what: string, limitMs = 15_000): Promise<void> {
  if (predicate()) return Promise.resolve()
  return within<void>(what, limitMs, (resolve) => {
    const check = () => predicate() && resolve()
    const stopObserving = app.live.observe(check)
    const fallback = setInterval(check, 10)
    return () => {
      stopObserving()
      clearInterval(fallback)
    }
  })
}

/** Records what a callback is handed, and resolves waits for what it has seen so far: `seen.until(...)`. */
export function recorded<T>() {
  const seen: T[] = []
  const waiters = new Set<() => void>()
  return {
    seen,
    push(item: T) {
      seen.push(item)
      for (const waiter of [...waiters]) waiter()
    },
    until(predicate: (seen: T[]) => boolean, what: string, limitMs = 15_000): Promise<void> {
      if (predicate(seen)) return Promise.resolve()
      return within<void>(what, limitMs, (resolve) => {
        const check = () => predicate(seen) && resolve()
        waiters.add(check)
        return () => waiters.delete(check)
      })
    },
  }
}
