import { LocalListeners } from './local-listeners.js'
import type { LoginStatusView } from './login.js'
import type { ChangeFeed, StatusListener } from './ports.js'

/** In-process fan-out: a change is handed straight to this process's watchers. */
export class MemoryChangeFeed implements ChangeFeed {
  private readonly listeners: LocalListeners

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.listeners = new LocalListeners(onListenerError)
  }

  async publish(status: LoginStatusView, changedAt: number): Promise<void> {
    this.listeners.dispatch(status, changedAt)
  }

  subscribe(id: string, listener: StatusListener): () => void {
    return this.listeners.add(id, listener)
  }

  stats(): { channels: number; listeners: number } {
    return this.listeners.stats()
  }

  async close(): Promise<void> {
    this.listeners.clear()
  }
}
