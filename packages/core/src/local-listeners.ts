import type { LoginStatusView } from './login.js'
import type { StatusListener } from './ports.js'

/**
 * The watchers of each login held by this process: what every change feed
 * keeps locally, whatever carries the changes between processes.
 */
export class LocalListeners {
  private readonly byLogin = new Map<string, Set<StatusListener>>()

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  /** Returns the function that removes it; a login's entry goes with its last listener. */
  add(id: string, listener: StatusListener): () => void {
    let listeners = this.byLogin.get(id)
    if (!listeners) {
      listeners = new Set()
      this.byLogin.set(id, listeners)
    }
    listeners.add(listener)
    return () => {
      const current = this.byLogin.get(id)
      if (!current?.delete(listener)) return
      if (current.size === 0) this.byLogin.delete(id)
    }
  }

  /** Hands a status to every local listener of its login; one failing listener does not stop the others. */
  dispatch(status: LoginStatusView, changedAt?: number): void {
    const listeners = this.byLogin.get(status.id)
    if (!listeners) return
    for (const listener of [...listeners]) {
      try {
        listener(status, changedAt)
      } catch (error) {
        this.onListenerError(error)
      }
    }
  }

  /** The logins watched here. */
  ids(): string[] {
    return [...this.byLogin.keys()]
  }

  stats(): { channels: number; listeners: number } {
    let listeners = 0
    for (const set of this.byLogin.values()) listeners += set.size
    return { channels: this.byLogin.size, listeners }
  }

  clear(): void {
    this.byLogin.clear()
  }
}
