/**
 * Every open SSE stream, WebSocket and long poll, so a graceful close can end
 * them (they would otherwise keep app.close() waiting), and one shared ticker
 * for heartbeats instead of a timer per connection.
 */
export interface LiveConnection {
  /** Called on shutdown: tell the client to reconnect elsewhere, then end. */
  shutdown(): void
  /** Called on every tick of the matching kind. */
  tick?(): void
}

export type ConnectionKind = 'sse' | 'ws' | 'long-poll'

export class LiveConnections {
  private readonly byKind: Record<ConnectionKind, Set<LiveConnection>> = {
    sse: new Set(),
    ws: new Set(),
    'long-poll': new Set(),
  }
  private readonly tickers: NodeJS.Timeout[] = []

  constructor(intervals: Partial<Record<ConnectionKind, number>>) {
    for (const [kind, ms] of Object.entries(intervals) as [ConnectionKind, number][]) {
      const timer = setInterval(() => {
        for (const connection of this.byKind[kind]) connection.tick?.()
      }, ms)
      timer.unref()
      this.tickers.push(timer)
    }
  }

  add(kind: ConnectionKind, connection: LiveConnection): () => void {
    this.byKind[kind].add(connection)
    return () => this.byKind[kind].delete(connection)
  }

  count(kind: ConnectionKind): number {
    return this.byKind[kind].size
  }

  shutdown(): void {
    for (const timer of this.tickers) clearInterval(timer)
    for (const set of Object.values(this.byKind)) {
      for (const connection of [...set]) connection.shutdown()
      set.clear()
    }
  }
}
