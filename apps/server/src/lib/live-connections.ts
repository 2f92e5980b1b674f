import type { Clock, TimerHandle } from '@qr-login/core'

/**
 * Every open watch connection, so a graceful close can end them (they would
 * otherwise keep app.close() waiting), and a shared ticker per kind for
 * heartbeats instead of a timer per connection.
 */
export interface LiveConnection {
  /** Called on shutdown: tell the client to reconnect elsewhere, then end. */
  shutdown(): void
  /** Called once per interval of its kind (heartbeat, ping). */
  tick?(): void
}

export interface ConnectionKindOptions<Kind extends string> {
  kind: Kind
  /** Heartbeat interval; none when absent. */
  heartbeatMs?: number
}

/**
 * How often the ticker wakes: each tick visits one slice of the connections, so an interval's heartbeats are
 * spread over it in small groups. With 50 slices a tick wrote 100 of 5,000 heartbeats at once, a millisecond
 * that requests arriving meanwhile waited out (the p99 in docs/benchmarks.md); every 25 ms it is a handful.
 */
const tickMs = 25
const slicesFor = (heartbeatMs: number) => Math.max(1, Math.round(heartbeatMs / tickMs))

interface Heartbeat {
  slices: Set<LiveConnection>[]
  everyMs: number
  /** The slice the next tick visits. */
  current: number
  /** Set while the kind holds connections: an idle server (or a test's clock jumping a week) never wakes for it. */
  timer?: TimerHandle
}

interface KindState {
  /** Each connection, with the heartbeat slice it sits in. */
  connections: Map<LiveConnection, Set<LiveConnection> | undefined>
  heartbeat?: Heartbeat
  nextSlice: number
}

export class LiveConnections<Kind extends string = string> {
  private readonly kinds = new Map<Kind, KindState>()
  private readonly observers = new Set<() => void>()
  private shuttingDown = false

  /** The clock's timers drive the heartbeats, so a test moves them with its clock; shutdown() cancels them. */
  constructor(
    private readonly clock: Clock,
    kinds: readonly ConnectionKindOptions<Kind>[],
  ) {
    for (const { kind, heartbeatMs } of kinds) {
      const state: KindState = { connections: new Map(), nextSlice: 0 }
      this.kinds.set(kind, state)
      if (heartbeatMs === undefined) continue
      const slices = Array.from({ length: slicesFor(heartbeatMs) }, () => new Set<LiveConnection>())
      state.heartbeat = { slices, everyMs: heartbeatMs / slices.length, current: 0 }
    }
  }

  /** One slice per tick: every connection is visited once per interval, the work spread evenly across it. */
  private tick(heartbeat: Heartbeat): void {
    // Cancelled when the kind's last connection goes and at shutdown, so a tick always has connections to visit.
    heartbeat.timer = this.clock.setTimer(heartbeat.everyMs, () => {
      const slice = heartbeat.slices[heartbeat.current]
      heartbeat.current = (heartbeat.current + 1) % heartbeat.slices.length
      this.tick(heartbeat)
      for (const connection of slice) connection.tick?.()
    })
  }

  private stopTicking(heartbeat: Heartbeat | undefined): void {
    heartbeat?.timer?.cancel()
    if (heartbeat) heartbeat.timer = undefined
  }

  /** Until remove(); no closure per connection: thousands are held at once. */
  add(kind: Kind, connection: LiveConnection): void {
    // A request that was still on its way in (awaiting the store or a rate-limit counter) when shutdown began
    // must not be held open afterwards: it would keep close() waiting. It is told to reconnect at once.
    if (this.shuttingDown) {
      queueMicrotask(() => connection.shutdown())
      return
    }
    const state = this.state(kind)
    const heartbeat = state.heartbeat
    const slice = heartbeat?.slices[state.nextSlice++ % heartbeat.slices.length]
    slice?.add(connection)
    state.connections.set(connection, slice)
    if (heartbeat && !heartbeat.timer) this.tick(heartbeat)
    this.changed()
  }

  /** Idempotent. */
  remove(kind: Kind, connection: LiveConnection): void {
    const state = this.state(kind)
    state.connections.get(connection)?.delete(connection)
    if (!state.connections.delete(connection)) return
    if (state.connections.size === 0) this.stopTicking(state.heartbeat)
    this.changed()
  }

  /**
   * Calls `observer` after every add and remove, until the returned function is called: for what must
   * follow a connection's coming or going (a test awaiting a release) without asking again and again.
   */
  observe(observer: () => void): () => void {
    this.observers.add(observer)
    return () => this.observers.delete(observer)
  }

  count(kind: Kind): number {
    return this.state(kind).connections.size
  }

  /** Connections of every kind, and how many sit in heartbeat slices (both back to 0 when everything is released). */
  stats(): { connections: number; heartbeats: number } {
    let connections = 0
    let heartbeats = 0
    for (const state of this.kinds.values()) {
      connections += state.connections.size
      for (const slice of state.heartbeat?.slices ?? []) heartbeats += slice.size
    }
    return { connections, heartbeats }
  }

  shutdown(): void {
    this.shuttingDown = true
    for (const state of this.kinds.values()) {
      for (const connection of [...state.connections.keys()]) connection.shutdown()
      state.connections.clear()
      for (const slice of state.heartbeat?.slices ?? []) slice.clear()
      this.stopTicking(state.heartbeat)
    }
    this.changed()
  }

  private changed(): void {
    if (this.observers.size === 0) return
    for (const observer of [...this.observers]) observer()
  }

  private state(kind: Kind): KindState {
    const state = this.kinds.get(kind)
    if (!state) throw new Error(`Unknown connection kind ${kind}`)
    return state
  }
}
