import type { Duplex } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { endsWatch, type Clock, type LoginService, type LoginStatusView, type Watch } from '@qr-login/core'
import type { WatchTransportName } from '../transports/index.js'
import type { LiveConnections } from './live-connections.js'
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
  /** Calls `listener` once when it goes away; returns the function that stops listening. */
  onGone(listener: () => void): () => void
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
 */
export class WatchStream {
  /** The newest status known to this watch. */
  current: LoginStatusView | undefined
  private readonly queue: Delivery[] = []
  private readonly releases: (() => void)[] = []
  private watch: Watch | undefined
  private sink: WatchSink | undefined
  /** An end or restart asked for before the transport attached its sink, honoured once it does. */
  private endBeforeAttach: 'end' | 'restart' | undefined
  private released = false

  /** Throws RATE_LIMITED (holding nothing) when the caps are full. */
  constructor(
    private readonly request: WatchRequest,
    private readonly deps: WatchStreamDeps,
  ) {
    this.releases.push(deps.admit(request.loginId, request.ip))
    // Listening before anything is awaited: a client that leaves during the store's round trip is noticed.
    this.releases.push(request.client.onGone(() => this.close()))
    this.releases.push(
      deps.live.add(request.transport, { tick: () => this.sink?.ping?.(), shutdown: () => this.restart() }),
    )
    if (request.maxDurationMs !== undefined) {
      const timer = deps.clock.setTimer(request.maxDurationMs, () => {
        if (this.sink) this.close()
        else this.endBeforeAttach ??= 'end'
      })
      this.releases.push(() => timer.cancel())
    }
  }

  get closed(): boolean {
    return this.released
  }

  /** The client already holds the final status (it reconnected with it): nothing will ever be sent. */
  get holdsFinal(): boolean {
    return this.queue.length === 0 && this.current !== undefined && endsWatch(this.current.status)
  }

  /** @internal Opens the core watch; WatchStreams.open calls it. */
  async start(): Promise<void> {
    const { loginId, token, since } = this.request
    const watch = await this.deps.logins.watch(loginId, token, {
      since,
      onStatus: (status, changedAt) => this.deliver(status, changedAt),
    })
    this.watch = watch
    this.current ??= watch.current
    if (this.released) watch.close()
    else if (this.request.client.gone()) this.close()
  }

  /** The transport can write now: buffered statuses go out, then every later one as it comes. */
  attach(sink: WatchSink): void {
    if (this.released) return sink.end()
    this.sink = sink
    for (const delivery of this.queue.splice(0)) {
      this.forward(delivery)
      if (this.released) return
    }
    if (this.endBeforeAttach === 'restart') this.restart()
    else if (this.endBeforeAttach === 'end') this.close()
  }

  /** Ends the watch and gives back everything it holds; idempotent. The transport calls it when it is done early. */
  close(): void {
    if (this.released) return
    this.release()
    this.sink?.end()
  }

  private restart(): void {
    if (this.released) return
    if (!this.sink) {
      this.endBeforeAttach = 'restart'
      return
    }
    this.release()
    this.sink.restart()
  }

  private deliver(status: LoginStatusView, changedAt?: number): void {
    if (this.released) return
    this.current = status
    if (this.sink) this.forward({ status, changedAt })
    else this.queue.push({ status, changedAt })
  }

  private forward({ status, changedAt }: Delivery): void {
    this.sink!.send(status)
    this.deps.delivered(this.request.transport, changedAt)
    if (endsWatch(status.status)) this.close()
  }

  private release(): void {
    this.released = true
    this.watch?.close()
    for (const release of this.releases.splice(0)) release()
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
export function httpClient(reply: FastifyReply): WatchClient {
  const response = reply.raw
  return {
    gone: () => response.destroyed || response.writableEnded,
    onGone(listener) {
      response.once('close', listener)
      return () => response.off('close', listener)
    },
  }
}

/**
 * A client is gone once its connection closes: for a watch that outlives its
 * HTTP request (an upgraded WebSocket), and holds none of it.
 */
export function connectionClient(socket: Duplex): WatchClient {
  return {
    gone: () => socket.destroyed,
    onGone(listener) {
      socket.once('close', listener)
      return () => socket.off('close', listener)
    },
  }
}
