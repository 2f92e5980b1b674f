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

/** Slices per interval: each tick visits one slice, so 10,000 heartbeats are never written in one go. */
const slicesPerInterval = 50

interface KindState {
  /** Each connection, with the heartbeat slice it sits in. */
  connections: Map<LiveConnection, Set<LiveConnection> | undefined>
  slices?: Set<LiveConnection>[]
  nextSlice: number
}

export class LiveConnections<Kind extends string = string> {
  private readonly kinds = new Map<Kind, KindState>()
  private readonly tickers: NodeJS.Timeout[] = []
  private readonly observers = new Set<() => void>()
  private shuttingDown = false

  constructor(kinds: readonly ConnectionKindOptions<Kind>[]) {
    for (const { kind, heartbeatMs } of kinds) {
      const state: KindState = { connections: new Map(), nextSlice: 0 }
      this.kinds.set(kind, state)
      if (heartbeatMs === undefined) continue
      const slices = Array.from({ length: slicesPerInterval }, () => new Set<LiveConnection>())
      state.slices = slices
      let current = 0
      // One slice per tick: every connection is visited once per interval, the work spread evenly across it.
      const timer = setInterval(() => {
        for (const connection of slices[current]) connection.tick?.()
        current = (current + 1) % slicesPerInterval
      }, heartbeatMs / slicesPerInterval)
      timer.unref()
      this.tickers.push(timer)
    }
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
    const slice = state.slices?.[state.nextSlice++ % slicesPerInterval]
    slice?.add(connection)
    state.connections.set(connection, slice)
    this.changed()
  }

  /** Idempotent. */
  remove(kind: Kind, connection: LiveConnection): void {
    const state = this.state(kind)
    state.connections.get(connection)?.delete(connection)
    if (state.connections.delete(connection)) this.changed()
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
      for (const slice of state.slices ?? []) heartbeats += slice.size
    }
    return { connections, heartbeats }
  }

  shutdown(): void {
    this.shuttingDown = true
    for (const timer of this.tickers) clearInterval(timer)
    for (const state of this.kinds.values()) {
      for (const connection of [...state.connections.keys()]) connection.shutdown()
      state.connections.clear()
      for (const slice of state.slices ?? []) slice.clear()
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
