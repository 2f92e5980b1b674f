/**
 * Every open SSE stream, WebSocket and long poll, so a graceful close can end
 * them (they would otherwise keep app.close() waiting), and a shared ticker for
 * heartbeats instead of a timer per connection.
 */
export interface LiveConnection {
  /** Called on shutdown: tell the client to reconnect elsewhere, then end. */
  shutdown(): void
  /** Called once per interval of its kind (heartbeat, ping). */
  tick?(): void
}

export type ConnectionKind = 'sse' | 'ws' | 'long-poll'

/** Slices per interval: each tick visits one slice, so 10,000 heartbeats are never written in one go. */
const slicesPerInterval = 50

export class LiveConnections {
  private readonly byKind: Record<ConnectionKind, Set<LiveConnection>> = {
    sse: new Set(),
    ws: new Set(),
    'long-poll': new Set(),
  }
  private readonly slices: Partial<Record<ConnectionKind, Set<LiveConnection>[]>> = {}
  private readonly nextSlice: Record<ConnectionKind, number> = { sse: 0, ws: 0, 'long-poll': 0 }
  private readonly tickers: NodeJS.Timeout[] = []
  private shuttingDown = false

  constructor(intervals: Partial<Record<ConnectionKind, number>>) {
    for (const [kind, ms] of Object.entries(intervals) as [ConnectionKind, number][]) {
      const slices = Array.from({ length: slicesPerInterval }, () => new Set<LiveConnection>())
      this.slices[kind] = slices
      let current = 0
      // One slice per tick: every connection is visited once per interval, the work spread evenly across it.
      const timer = setInterval(() => {
        for (const connection of slices[current]!) connection.tick?.()
        current = (current + 1) % slicesPerInterval
      }, ms / slicesPerInterval)
      timer.unref()
      this.tickers.push(timer)
    }
  }

  add(kind: ConnectionKind, connection: LiveConnection): () => void {
    // A request that was still on its way in (awaiting the store or a rate-limit counter) when shutdown began
    // must not be held open afterwards: it would keep close() waiting. It is told to reconnect at once.
    if (this.shuttingDown) {
      queueMicrotask(() => connection.shutdown())
      return () => {}
    }
    const slices = this.slices[kind]
    const slice = this.nextSlice[kind]++ % slicesPerInterval
    slices?.[slice]!.add(connection)
    this.byKind[kind].add(connection)
    return () => {
      slices?.[slice]!.delete(connection)
      this.byKind[kind].delete(connection)
    }
  }

  count(kind: ConnectionKind): number {
    return this.byKind[kind].size
  }

  shutdown(): void {
    this.shuttingDown = true
    for (const timer of this.tickers) clearInterval(timer)
    for (const [kind, connections] of Object.entries(this.byKind) as [ConnectionKind, Set<LiveConnection>][]) {
      for (const connection of [...connections]) connection.shutdown()
      connections.clear()
      for (const slice of this.slices[kind] ?? []) slice.clear()
    }
  }
}
