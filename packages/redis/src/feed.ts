import type { RedisClient } from './client.js'
import { LocalListeners, LoginError, type ChangeFeed, type LoginStatusView, type StatusListener } from '@qr-login/core'
import { keys } from './keys.js'

/**
 * Status changes through Redis pub/sub: every instance hears every change and
 * hands it to its own watchers. Pub/sub forgets what it sent while a
 * subscriber was away, so each time the subscription is (re)established,
 * every login watched here is read again and its current status delivered
 * (watchers drop versions they already have).
 */
export class RedisChangeFeed implements ChangeFeed {
  private readonly listeners: LocalListeners
  private readonly channel: string
  private subscribed = false
  private closed = false
  private messages = 0

  constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    /** Reads a login's current status from the store, for the resync after a reconnect. */
    private readonly reload: (id: string) => Promise<LoginStatusView | undefined>,
    private readonly onError: (error: unknown, context: string) => void = () => {},
    prefix = 'qr:',
  ) {
    this.channel = keys.statusChannel(prefix)
    this.listeners = new LocalListeners((error) => onError(error, 'status listener'))
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return
      this.messages++
      try {
        const { status, changedAt } = JSON.parse(message) as { status: LoginStatusView; changedAt: number }
        this.dispatch(status, changedAt)
      } catch (error) {
        this.onError(error, 'status message')
      }
    })
    subscriber.on('close', () => {
      this.subscribed = false
    })
    subscriber.on('ready', () => void this.establish())
    subscriber.on('error', (error: unknown) => this.onError(error, 'redis subscriber'))
  }

  /** Connects and subscribes; resolves once changes are being heard (or rejects if Redis cannot be reached now). */
  async start(): Promise<void> {
    await this.subscriber.connect()
    await this.establish()
  }

  get listening(): boolean {
    return this.subscribed
  }

  async publish(status: LoginStatusView, changedAt: number): Promise<void> {
    try {
      await this.publisher.publish(this.channel, JSON.stringify({ status, changedAt }))
    } catch (error) {
      throw new LoginError('STORE_UNAVAILABLE', `Redis publish: ${(error as Error)?.message ?? error}`, {
        cause: error,
      })
    }
  }

  subscribe(id: string, listener: StatusListener): () => void {
    return this.listeners.add(id, listener)
  }

  stats(): { channels: number; listeners: number; messages: number } {
    return { ...this.listeners.stats(), messages: this.messages }
  }

  /** Stops following; the subscriber connection is its backend's to close. */
  async close(): Promise<void> {
    this.closed = true
    this.listeners.clear()
  }

  private async establish(): Promise<void> {
    if (this.closed || this.subscribed) return
    try {
      // Confirmed by Redis before we read anything: a change after this point reaches us.
      await this.subscriber.subscribe(this.channel)
    } catch (error) {
      this.onError(error, 'redis subscribe')
      return
    }
    this.subscribed = true
    await Promise.all(
      this.listeners.ids().map(async (id) => {
        try {
          const status = await this.reload(id)
          if (status) this.dispatch(status)
        } catch (error) {
          this.onError(error, 'resync')
        }
      }),
    )
  }

  private dispatch(status: LoginStatusView, changedAt?: number): void {
    this.listeners.dispatch(status, changedAt)
  }
}
