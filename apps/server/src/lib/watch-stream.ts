import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  endsWatch,
  type Clock,
  type LoginService,
  type LoginStatusView,
  type TimerHandle,
  type Watch,
} from '@qr-login/core'
import type { WatchTransportName } from '../transports/transport.js'
import type { LiveConnection, LiveConnections } from './live-connections.js'
import { presentedToken } from './request-auth.js'

/**
 * What a transport writes to. The lifecycle decides when each is called, so
 * a transport only says how its bytes look.
 */
export interface WatchSink {
  /** One status, in version order, never twice. */
  send(status: LoginStatusView): void
  /** Called once when the watch is over: a status that ends watching was sent, its time ran out, or the client left. */
  end(): void
  /** Called instead of end() when the server shuts down: tell the client to reconnect, then finish. */
  restart(): void
  /** Once per heartbeat interval of the transport (registry), if it has one. */
  ping?(): void
}

/** The far end of a watch, however it is connected. */
export interface WatchClient {
  /** True once it has gone away. */
  gone(): boolean
  /** Calls `listener` once when it goes away. */
  onGone(listener: () => void): void
  /** Stops calling `listener`. */
  offGone(listener: () => void): void
}

export interface WatchRequest {
  transport: WatchTransportName
  loginId: string
  token: string | undefined
  ip: string
  /** The version the client already has: not sent again. */
  since?: number
  client: WatchClient
  /** The watch ends (sink.end) after this long: a long poll's wait. */
  maxDurationMs?: number
}

export interface WatchStreamDeps {
  logins: Pick<LoginService, 'watch'>
  live: LiveConnections
  /** Takes a place under the watcher caps: throws RATE_LIMITED, or returns its release. */
  admit(loginId: string, ip: string): () => void
  delivered(transport: WatchTransportName, changedAt: number | undefined): void
  clock: Clock
}

interface Delivery {
  status: LoginStatusView
  changedAt?: number
}

/**
 * One watcher's lifecycle, the same for every transport: admitted under the
 * caps, registered for heartbeats and shutdown, the core watch opened,
 * statuses buffered until the transport can write and then handed over in
 * order, delivery measured, the end after a status that ends watching, and
 * everything given back exactly once, whenever the client leaves.
 *
 * It is its own live connection (tick, shutdown) and holds its releases as
 * fields, not as closures in a list: thousands are held at once, and each
 * closure was memory per watcher (docs/benchmarks.md).
 */
export class WatchStream implements LiveConnection {
  /** The newest status known to this watch. */
  current: LoginStatusView | undefined
  /** Statuses heard before the transport attached; none once it has. */
  private queue: Delivery[] | undefined
  private watch: Watch | undefined
  private sink: WatchSink | undefined
  /** An end or restart asked for before the transport attached its sink, honoured once it does. */
  private endBeforeAttach: 'end' | 'restart' | undefined
  private released = false
  private readonly releaseCaps: () => void
  private readonly clientGone = () => this.close()
  private readonly timer: TimerHandle | undefined

  /** Throws RATE_LIMITED (holding nothing) when the caps are full. */
  constructor(
    private readonly request: WatchRequest,
    private readonly deps: WatchStreamDeps,
  ) {
    this.releaseCaps = deps.admit(request.loginId, request.ip)
    // Listening before anything is awaited: a client that leaves during the store's round trip is noticed.
    request.client.onGone(this.clientGone)
    deps.live.add(request.transport, this)
    if (request.maxDurationMs !== undefined) {
      this.timer = deps.clock.setTimer(request.maxDurationMs, () => {
        if (this.sink) this.close()
        else this.endBeforeAttach ??= 'end'
      })
    }
  }

  get closed(): boolean {
    return this.released
  }

  /** The version the client already has (WatchOptions). */
  get since(): number | undefined {
    return this.request.since
  }

  /** The client already holds the final status (it reconnected with it): nothing will ever be sent. */
  get holdsFinal(): boolean {
    return !this.queue?.length && this.current !== undefined && endsWatch(this.current.status)
  }

  /** @internal Opens the core watch; WatchStreams.open calls it. */
  async start(): Promise<void> {
    const { loginId, token } = this.request
    // This stream is the watch's options: its since, and its onStatus called as a method.
    const watch = await this.deps.logins.watch(loginId, token, this)
    this.watch = watch
    this.current ??= watch.current
    if (this.released) watch.close()
    else if (this.request.client.gone()) this.close()
  }

  /** The transport can write now: buffered statuses go out, then every later one as it comes. */
  attach(sink: WatchSink): void {
    if (this.released) return sink.end()
    this.sink = sink
    const queued = this.queue
    this.queue = undefined
    for (const delivery of queued ?? []) {
      this.forward(delivery.status, delivery.changedAt)
      if (this.released) return
    }
    if (this.endBeforeAttach === 'restart') this.shutdown()
    else if (this.endBeforeAttach === 'end') this.close()
  }

  /** Ends the watch and gives back everything it holds; idempotent. The transport calls it when it is done early. */
  close(): void {
    if (this.released) return
    this.release()
    this.sink?.end()
  }

  /** @internal Heartbeat, from LiveConnections. */
  tick(): void {
    this.sink?.ping?.()
  }

  /** @internal The server is shutting down (LiveConnections): the client is told to reconnect. */
  shutdown(): void {
    if (this.released) return
    if (!this.sink) {
      this.endBeforeAttach = 'restart'
      return
    }
    this.release()
    this.sink.restart()
  }

  /** @internal A status from the core watch. */
  onStatus(status: LoginStatusView, changedAt?: number): void {
    if (this.released) return
    this.current = status
    if (this.sink) this.forward(status, changedAt)
    else (this.queue ??= []).push({ status, changedAt })
  }

  private forward(status: LoginStatusView, changedAt: number | undefined): void {
    this.sink!.send(status)
    this.deps.delivered(this.request.transport, changedAt)
    if (endsWatch(status.status)) this.close()
  }

  private release(): void {
    this.released = true
    this.watch?.close()
    this.releaseCaps()
    this.request.client.offGone(this.clientGone)
    this.deps.live.remove(this.request.transport, this)
    this.timer?.cancel()
  }
}

export class WatchStreams {
  constructor(private readonly deps: WatchStreamDeps) {}

  /**
   * Admits and opens a watch. Throws a refusal (caps, token, unknown id, store)
   * holding nothing; resolves undefined, holding nothing, when the client left
   * while it opened.
   */
  async open(request: WatchRequest): Promise<WatchStream | undefined> {
    if (request.client.gone()) return undefined
    const stream = new WatchStream(request, this.deps)
    try {
      await stream.start()
    } catch (error) {
      stream.close()
      throw error
    }
    return stream.closed ? undefined : stream
  }

  /**
   * For a transport that answers over this request's own connection (SSE, WebSocket, long poll).
   * The client is the response unless the transport says otherwise.
   */
  openHttp(
    request: FastifyRequest,
    reply: FastifyReply,
    transport: WatchTransportName,
    { client = httpClient(reply), ...options }: { since?: number; maxDurationMs?: number; client?: WatchClient } = {},
  ): Promise<WatchStream | undefined> {
    return this.open({
      transport,
      loginId: (request.params as { id: string }).id,
      token: presentedToken(request, 'qr_watch').token,
      ip: request.ip,
      client,
      ...options,
    })
  }
}

/**
 * An HTTP client is gone once its response is closed: the socket closed, or
 * the response finished (after which nothing more can be written either).
 */
class ResponseClient implements WatchClient {
  constructor(private readonly response: ServerResponse) {}

  gone(): boolean {
    return this.response.destroyed || this.response.writableEnded
  }

  onGone(listener: () => void): void {
    this.response.on('close', listener)
  }

  offGone(listener: () => void): void {
    this.response.off('close', listener)
  }
}

/**
 * A client is gone once its connection closes: for a watch that outlives its
 * HTTP request (an upgraded WebSocket), and holds none of it.
 */
class ConnectionClient implements WatchClient {
  constructor(private readonly socket: Duplex) {}

  gone(): boolean {
    return this.socket.destroyed
  }

  onGone(listener: () => void): void {
    this.socket.on('close', listener)
  }

  offGone(listener: () => void): void {
    this.socket.off('close', listener)
  }
}

export function httpClient(reply: FastifyReply): WatchClient {
  return new ResponseClient(reply.raw)
}

export function connectionClient(socket: Duplex): WatchClient {
  return new ConnectionClient(socket)
}
