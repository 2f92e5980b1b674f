import type { LoginStatusView } from './login.js'
import type { ChangeFeed, StatusListener } from './ports.js'

/** In-process fan-out: one set of listeners per login, removed with its last listener. */
export class MemoryChangeFeed implements ChangeFeed {
  private readonly channels = new Map<string, Set<StatusListener>>()

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  async publish(status: LoginStatusView, changedAt: number): Promise<void> {
    const listeners = this.channels.get(status.id)
    if (!listeners) return
    for (const listener of [...listeners]) {
      try {
        listener(status, changedAt)
      } catch (error) {
        this.onListenerError(error)
      }
    }
  }

  subscribe(id: string, listener: StatusListener): () => void {
    let listeners = this.channels.get(id)
    if (!listeners) {
      listeners = new Set()
      this.channels.set(id, listeners)
    }
    listeners.add(listener)
    return () => {
      const current = this.channels.get(id)
      if (!current?.delete(listener)) return
      if (current.size === 0) this.channels.delete(id)
    }
  }

  stats(): { channels: number; listeners: number } {
    let listeners = 0
    for (const set of this.channels.values()) listeners += set.size
    return { channels: this.channels.size, listeners }
  }

  async close(): Promise<void> {
    this.channels.clear()
  }
}
