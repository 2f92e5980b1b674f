import type { LoginStatusView } from './login.js'
import type { StatusListener } from './ports.js'

/**
 * The watchers of each login held by this process: what every change feed
 * keeps locally, whatever carries the changes between processes.
 */
export class LocalListeners {
  /** One listener as itself: most logins have one watcher, and a Set's table costs more than the rest of it. */
  private readonly byLogin = new Map<string, StatusListener | Set<StatusListener>>()

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  /** Returns the function that removes it; a login's entry goes with its last listener. */
  add(id: string, listener: StatusListener): () => void {
    const listeners = this.byLogin.get(id)
    if (!listeners) this.byLogin.set(id, listener)
    else if (typeof listeners === 'function') this.byLogin.set(id, new Set([listeners, listener]))
    else listeners.add(listener)
    return () => this.remove(id, listener)
  }

  /** Hands a status to every local listener of its login; one failing listener does not stop the others. */
  dispatch(status: LoginStatusView, changedAt?: number): void {
    const listeners = this.byLogin.get(status.id)
    if (!listeners) return
    if (typeof listeners === 'function') return this.call(listeners, status, changedAt)
    for (const listener of [...listeners]) this.call(listener, status, changedAt)
  }

  /** Whether a login has a listener here. */
  has(id: string): boolean {
    return this.byLogin.has(id)
  }

  /** The logins watched here. */
  ids(): string[] {
    return [...this.byLogin.keys()]
  }

  stats(): { channels: number; listeners: number } {
    let listeners = 0
    for (const each of this.byLogin.values()) listeners += typeof each === 'function' ? 1 : each.size
    return { channels: this.byLogin.size, listeners }
  }

  clear(): void {
    this.byLogin.clear()
  }

  private remove(id: string, listener: StatusListener): void {
    const listeners = this.byLogin.get(id)
    if (listeners === listener) this.byLogin.delete(id)
    else if (typeof listeners === 'object' && listeners.delete(listener) && listeners.size === 0)
      this.byLogin.delete(id)
  }

  private call(listener: StatusListener, status: LoginStatusView, changedAt: number | undefined): void {
    try {
      listener(status, changedAt)
    } catch (error) {
      this.onListenerError(error)
    }
  }
}
