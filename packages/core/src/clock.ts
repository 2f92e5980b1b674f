import type { Clock, TimerHandle } from './ports.js'

const maxTimeoutMs = 2 ** 31 - 1

/**
 * A Node timer that fires at its due time however long the delay (setTimeout
 * caps one wait at about 24.8 days, so a longer one waits again). An instance
 * and a shared callback, no closures: a server holds one per watched login.
 */
class SystemTimer implements TimerHandle {
  private timer: NodeJS.Timeout

  constructor(
    private readonly dueAt: number,
    private readonly fn: () => void | Promise<void>,
  ) {
    this.timer = setTimeout(fireSystemTimer, Math.min(Math.max(0, dueAt - Date.now()), maxTimeoutMs), this)
  }

  fire(): void {
    const left = this.dueAt - Date.now()
    if (left > 0) this.timer = setTimeout(fireSystemTimer, Math.min(left, maxTimeoutMs), this)
    else void this.fn()
  }

  cancel(): void {
    clearTimeout(this.timer)
  }
}

function fireSystemTimer(timer: SystemTimer): void {
  timer.fire()
}

/** Wall-clock time and Node timers. Owners cancel their timers on close, so they may keep the process alive meanwhile. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (delayMs, fn) => new SystemTimer(Date.now() + Math.max(0, delayMs), fn),
}

interface ManualTimer {
  dueAt: number
  seq: number
  fn: () => void | Promise<void>
}

/**
 * A clock that moves only when told to. `advance` runs every timer that falls
 * due, in order, and waits for the work each one starts.
 */
export class ManualClock implements Clock {
  private current: number
  private seq = 0
  private readonly timers = new Set<ManualTimer>()

  constructor(start = Date.parse('2026-01-01T00:00:00.000Z')) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimer(delayMs: number, fn: () => void | Promise<void>): TimerHandle {
    const timer: ManualTimer = { dueAt: this.current + Math.max(0, delayMs), seq: this.seq++, fn }
    this.timers.add(timer)
    return { cancel: () => this.timers.delete(timer) }
  }

  get pendingTimers(): number {
    return this.timers.size
  }

  async advance(ms: number): Promise<void> {
    const target = this.current + ms
    for (;;) {
      const next = this.nextDue(target)
      if (!next) break
      this.timers.delete(next)
      this.current = Math.max(this.current, next.dueAt)
      await next.fn()
    }
    this.current = target
  }

  private nextDue(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined
    for (const timer of this.timers) {
      if (timer.dueAt > limit) continue
      if (!best || timer.dueAt < best.dueAt || (timer.dueAt === best.dueAt && timer.seq < best.seq)) best = timer
    }
    return best
  }
}
