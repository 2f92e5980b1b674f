import { QrLoginError } from './errors.js'
import { sleep, type HttpOptions } from './http.js'
import { transports, type TransportContext } from './transports.js'
import {
  autoOrder,
  endsWatch,
  type LoginHandle,
  type LoginStatusView,
  type SocketIoTransports,
  type TrafficEvent,
  type TransportChoice,
  type TransportName,
  type WebSocketFactory,
} from './types.js'

export interface WatchOptions {
  transport?: TransportChoice
  /** The version you already have: it is not delivered again. */
  since?: number
  signal?: AbortSignal
  onTraffic?: (event: TrafficEvent) => void
  /** Backoff between reconnects: starts here, doubles, stops growing at maxRetryDelayMs. */
  retryDelayMs?: number
  maxRetryDelayMs?: number
  /** How many failures in a row, with nothing delivered, before `auto` moves to the next transport. */
  failuresBeforeFallback?: number
  longPollWaitSeconds?: number
  /** transport 'socket.io': its ways in (default: polling upgraded to WebSocket). */
  socketIoTransports?: SocketIoTransports
}

export interface WatchDeps {
  http: HttpOptions
  webSocket?: WebSocketFactory
}

/**
 * Every status of a login, in version order, none twice, until one that ends
 * watching (confirmed, consumed, cancelled, expired). Reconnects with backoff
 * and resumes from the last version; `auto` falls back WebSocket → SSE → long
 * poll → poll when a transport cannot be used.
 */
export async function* watchLogin(
  deps: WatchDeps,
  login: LoginHandle,
  options: WatchOptions = {},
): AsyncGenerator<LoginStatusView> {
  const order: readonly TransportName[] =
    !options.transport || options.transport === 'auto' ? autoOrder : [options.transport]
  const retryDelayMs = options.retryDelayMs ?? 250
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 5000
  const failuresBeforeFallback = options.failuresBeforeFallback ?? 3
  const traffic = options.onTraffic ?? (() => {})
  const stop = new AbortController()
  const outer = options.signal
  const onOuterAbort = () => stop.abort()
  outer?.addEventListener('abort', onOuterAbort, { once: true })

  let lastVersion = options.since ?? 0
  let finished = false
  const queue: LoginStatusView[] = []
  let wake: (() => void) | undefined
  let failure: unknown
  let running = true

  const context = (transport: TransportName): TransportContext => ({
    http: deps.http,
    login,
    signal: stop.signal,
    webSocket: deps.webSocket,
    longPollWaitSeconds: options.longPollWaitSeconds ?? 25,
    socketIoTransports: options.socketIoTransports,
    lastVersion: () => lastVersion,
    finished: () => finished,
    traffic,
    deliver(status) {
      if (finished || status.version <= lastVersion) return
      lastVersion = status.version
      finished = endsWatch(status.status)
      traffic({ type: 'status', transport, status, receivedAt: Date.now() })
      queue.push(status)
      wake?.()
    },
  })

  const run = async () => {
    let index = 0
    let failures = 0
    traffic({ type: 'transport', transport: order[0] })
    while (!finished) {
      const transport = order[index]
      const versionBefore = lastVersion
      try {
        await transports[transport](context(transport))
        if (!finished) throw new QrLoginError('DROPPED', 0, `${transport} stopped before the login ended`)
      } catch (error) {
        if (stop.signal.aborted) return
        // A refusal (401, 403, 404, 410...) will not get better by asking again.
        if (!(error instanceof QrLoginError) || !error.retryable) throw error
        failures = lastVersion > versionBefore ? 1 : failures + 1
        const canFallBack = index < order.length - 1
        if (
          canFallBack &&
          (error.code === 'UNSUPPORTED' || failures >= failuresBeforeFallback) &&
          lastVersion === versionBefore
        ) {
          traffic({ type: 'fallback', from: transport, to: order[index + 1], error })
          index++
          failures = 0
          traffic({ type: 'transport', transport: order[index] })
          continue
        }
        const backoffMs =
          Math.min(maxRetryDelayMs, retryDelayMs * 2 ** Math.max(0, failures - 1)) * (0.75 + Math.random() * 0.5)
        const delayMs = Math.max(backoffMs, error.retryAfterMs ?? 0)
        traffic({ type: 'retry', transport, delayMs: Math.round(delayMs), error })
        await sleep(delayMs, stop.signal)
      }
    }
  }

  run().then(
    () => {
      running = false
      wake?.()
    },
    (error: unknown) => {
      running = false
      if (!stop.signal.aborted || error instanceof QrLoginError) failure = error
      wake?.()
    },
  )

  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift()!
        continue
      }
      if (failure) throw failure
      if (!running || outer?.aborted) return
      await new Promise<void>((resolve) => (wake = resolve))
      wake = undefined
    }
  } finally {
    outer?.removeEventListener('abort', onOuterAbort)
    stop.abort()
  }
}
