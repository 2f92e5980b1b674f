import type { Clock, TimerHandle } from './ports.js'

/**
 * One timer per login that may still expire, so expiry reaches watchers
 * without anyone asking. Firing only says "look again": the store decides.
 */
export class ExpiryTimers {
  private readonly timers = new Map<string, { at: number; handle: TimerHandle }>()

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (id: string) => Promise<void>,
  ) {}

  arm(id: string, at: number): void {
    const existing = this.timers.get(id)
    if (existing?.at === at) return
    existing?.handle.cancel()
    const handle = this.clock.setTimer(at - this.clock.now(), () => {
      if (this.timers.get(id)?.handle !== handle) return
      this.timers.delete(id)
      return this.onDue(id)
    })
    this.timers.set(id, { at, handle })
  }

  disarm(id: string): void {
    this.timers.get(id)?.handle.cancel()
    this.timers.delete(id)
  }

  get size(): number {
    return this.timers.size
  }

  clear(): void {
    for (const { handle } of this.timers.values()) handle.cancel()
    this.timers.clear()
  }
}
