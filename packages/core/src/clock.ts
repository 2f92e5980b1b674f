import type { Clock, TimerHandle } from './ports.js'

const maxTimeoutMs = 2 ** 31 - 1

/** Wall-clock time and Node timers. Owners cancel their timers on close, so they may keep the process alive meanwhile. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    let timer: NodeJS.Timeout
    const dueAt = Date.now() + Math.max(0, delayMs)
    const arm = (ms: number) => {
      timer = setTimeout(
        () => {
          const left = dueAt - Date.now()
          if (left > 0) arm(left)
          else void fn()
        },
        Math.min(ms, maxTimeoutMs),
      )
    }
    arm(Math.max(0, delayMs))
    return { cancel: () => clearTimeout(timer) }
  },
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
