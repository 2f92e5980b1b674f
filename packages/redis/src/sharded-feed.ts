import type { Cluster } from 'ioredis'
import { LocalListeners, LoginError, type ChangeFeed, type LoginStatusView, type StatusListener } from '@qr-login/core'
import { keys } from './keys.js'

/**
 * Status changes through a Redis Cluster's sharded pub/sub: each login has its
 * own channel in its own slot (SPUBLISH/SSUBSCRIBE), so a change travels only
 * through the shard that stores the login, and only to the instances that
 * watch it; nothing crosses the cluster bus.
 *
 * An instance subscribes to a login's channel when its first watcher there
 * arrives and leaves it with the last. A subscription takes a round trip to
 * be confirmed, and pub/sub forgets what it sent while a subscriber was away
 * (a master failed over, say): so once a subscription is confirmed, or
 * renewed after the cluster changed, the login is read again and its
 * current status delivered (watchers drop versions they already have).
 */
export class ShardedRedisChangeFeed implements ChangeFeed {
  private readonly listeners: LocalListeners
  private closed = false
  private messages = 0

  constructor(
    private readonly publisher: Cluster,
    private readonly subscriber: Cluster,
    /** Reads a login's current status from the store, for the resync after a (re)subscription. */
    private readonly reload: (id: string) => Promise<LoginStatusView | undefined>,
    private readonly onError: (error: unknown, context: string) => void = () => {},
    private readonly prefix = 'qr:',
  ) {
    this.listeners = new LocalListeners((error) => onError(error, 'status listener'))
    subscriber.on('smessage', (_channel: string, message: string) => {
      this.messages++
      try {
        const { status, changedAt } = JSON.parse(message) as { status: LoginStatusView; changedAt: number }
        this.listeners.dispatch(status, changedAt)
      } catch (error) {
        this.onError(error, 'status message')
      }
    })
    // ioredis has moved every subscription to the masters that now own the slots: catch up with what was missed.
    subscriber.on('subscribersReady', () => {
      for (const id of this.listeners.ids()) void this.follow(id, 'resync')
    })
    subscriber.on('error', (error: unknown) => this.onError(error, 'redis subscriber'))
  }

  /** Connects to the cluster; rejects if none of its seed nodes can be reached now. */
  async start(): Promise<void> {
    await this.subscriber.connect()
  }

  async publish(status: LoginStatusView, changedAt: number): Promise<void> {
    try {
      await this.publisher.spublish(this.channel(status.id), JSON.stringify({ status, changedAt }))
    } catch (error) {
      throw new LoginError('STORE_UNAVAILABLE', `Redis publish: ${(error as Error)?.message ?? error}`, {
        cause: error,
      })
    }
  }

  subscribe(id: string, listener: StatusListener): () => void {
    const first = !this.listeners.has(id)
    const remove = this.listeners.add(id, listener)
    if (first) void this.follow(id, 'subscribe')
    return () => {
      remove()
      if (!this.closed && !this.listeners.has(id))
        this.subscriber.sunsubscribe(this.channel(id)).catch((error: unknown) => this.onError(error, 'sunsubscribe'))
    }
  }

  stats(): { channels: number; listeners: number; messages: number } {
    return { ...this.listeners.stats(), messages: this.messages }
  }

  /** Stops following; the subscriber connection is its backend's to close. */
  async close(): Promise<void> {
    this.closed = true
    this.listeners.clear()
  }

  private channel(id: string): string {
    return keys.loginStatusChannel(this.prefix, id)
  }

  /** Subscribes (again: Redis ignores a repeat), and once Redis confirms, delivers what the store holds now. */
  private async follow(id: string, why: 'subscribe' | 'resync'): Promise<void> {
    try {
      await this.subscriber.ssubscribe(this.channel(id))
      if (!this.listeners.has(id)) return
      const status = await this.reload(id)
      if (status) this.listeners.dispatch(status)
    } catch (error) {
      // The next subscribersReady (once the cluster has settled) tries again.
      this.onError(error, why === 'subscribe' ? 'ssubscribe' : 'resync')
    }
  }
}
