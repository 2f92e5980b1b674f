import { endsWatch, type LoginStatusView } from './login.js'

/** Held for the watch's life; onStatus is called as its method. */
export interface WatchOptions {
  /** The version the watcher already has: it is not sent again. */
  since?: number
  /**
   * Called with the current status at once, then with every later one, in version order, never twice.
   * `changedAt` (ms) comes with changes heard live, so a transport can measure its delivery delay.
   */
  onStatus(status: LoginStatusView, changedAt?: number): void
  /** Aborting it closes the watch, as close() does. */
  signal?: AbortSignal
}

export interface Watch {
  readonly current: LoginStatusView
  /** Idempotent. A watch also closes itself after delivering a status that ends watching. */
  close(): void
}

/** What a watch needs from the service that opened it. */
export interface WatchHost {
  trackExpiry(status: LoginStatusView): void
  closed(): void
}

/**
 * One open watch. A class rather than closures over local state: a server
 * holds thousands, and each closure was memory per watcher.
 */
export class OpenWatch implements Watch {
  current!: LoginStatusView
  private authorized = false
  private closed = false
  private lastDelivered = 0
  /** The newest status heard before the token was checked, delivered after if it is newer than the read. */
  private early: LoginStatusView | undefined
  private unsubscribe: (() => void) | undefined
  private readonly onAbort: (() => void) | undefined

  constructor(
    private readonly host: WatchHost,
    private readonly options: WatchOptions,
  ) {
    if (options.signal) {
      this.onAbort = () => this.close()
      options.signal.addEventListener('abort', this.onAbort)
    }
  }

  /** The feed's listener: the one function a watch needs. */
  readonly deliver = (status: LoginStatusView, changedAt?: number): void => {
    if (this.closed) return
    if (!this.authorized) {
      if (!this.early || status.version > this.early.version) this.early = status
      return
    }
    if (status.version <= this.lastDelivered) return
    this.lastDelivered = status.version
    this.host.trackExpiry(status)
    if (endsWatch(status.status)) this.close()
    this.options.onStatus(status, changedAt)
  }

  subscribe(unsubscribe: () => void): void {
    this.unsubscribe = unsubscribe
  }

  /** The token checked and `read` the stored status: from here on statuses are delivered. */
  authorize(read: LoginStatusView): void {
    const current = this.early && this.early.version > read.version ? this.early : read
    this.current = current
    this.early = undefined
    this.authorized = true
    if (this.options.since === current.version) {
      this.lastDelivered = current.version
      this.host.trackExpiry(current)
      if (endsWatch(current.status)) this.close()
      return
    }
    try {
      this.deliver(current)
    } catch (error) {
      this.close()
      throw error
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.unsubscribe?.()
    if (this.onAbort) this.options.signal?.removeEventListener('abort', this.onAbort)
    this.host.closed()
  }
}
