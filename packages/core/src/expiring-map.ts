import TinyQueue from 'tinyqueue'
import type { Clock, TimerHandle } from './ports.js'

interface Kept<V> {
  value: V
  keepUntil: number
  /** The sweep this entry is queued for; a renewal within the same interval queues nothing new. */
  sweepAt: number
}

interface Due {
  at: number
  key: string
}

export interface ExpiringMapOptions<V> {
  /** Sweeps are this far apart at most once something is due: a busy map wakes about once per interval, not once per entry. */
  sweepEveryMs?: number
  /** Called for each entry the sweep drops (not for delete()), so indexes kept beside the map can follow. */
  onForget?(key: string, value: V): void
}

/**
 * A map whose entries are forgotten at their own time, with one timer for
 * the whole map: a priority queue of deadlines and a sweep at the earliest.
 * A timer per entry, cancelled and made again on every write, cost a handful
 * of objects that outlived the request each time (measured: docs/benchmarks.md).
 * Reads are exact: an entry whose time has passed is gone, swept or not.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, Kept<V>>()
  /** Deadlines, stale ones included (an entry renewed or deleted since): the sweep checks each against its entry. */
  private readonly queue = new TinyQueue<Due>([], (a, b) => a.at - b.at)
  private timer: TimerHandle | undefined
  private timerAt = Infinity
  private readonly sweepEveryMs: number

  constructor(
    private readonly clock: Clock,
    private readonly options: ExpiringMapOptions<V> = {},
  ) {
    this.sweepEveryMs = options.sweepEveryMs ?? 1000
  }

  get(key: string): V | undefined {
    const kept = this.entries.get(key)
    return kept && kept.keepUntil > this.clock.now() ? kept.value : undefined
  }

  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  /** Keeps `value` under `key` until `keepUntil` (ms since the epoch), replacing what was there. */
  set(key: string, value: V, keepUntil: number): void {
    const kept = this.entries.get(key)
    const sweepAt = Math.ceil(keepUntil / this.sweepEveryMs) * this.sweepEveryMs
    if (kept) {
      kept.value = value
      kept.keepUntil = keepUntil
      if (kept.sweepAt === sweepAt) return
      kept.sweepAt = sweepAt
    } else {
      this.entries.set(key, { value, keepUntil, sweepAt })
    }
    if (sweepAt === Infinity) return
    this.queue.push({ at: sweepAt, key })
    if (sweepAt < this.timerAt) this.arm(sweepAt)
  }

  /** Removes the entry, its time passed or not, and returns what it held. */
  delete(key: string): V | undefined {
    const kept = this.entries.get(key)
    if (!kept) return undefined
    this.entries.delete(key)
    return kept.value
  }

  /** Entries held, counting those whose time has passed but whose sweep has not come yet. */
  get size(): number {
    return this.entries.size
  }

  /** Timers held: one while anything is queued. */
  get timers(): number {
    return this.timer ? 1 : 0
  }

  clear(): void {
    this.timer?.cancel()
    this.timer = undefined
    this.timerAt = Infinity
    this.entries.clear()
    this.queue.data.length = 0
    this.queue.length = 0
  }

  private arm(at: number): void {
    this.timer?.cancel()
    this.timerAt = at
    this.timer = this.clock.setTimer(at - this.clock.now(), () => this.sweep())
  }

  private sweep(): void {
    this.timer = undefined
    this.timerAt = Infinity
    const now = this.clock.now()
    for (let due = this.queue.peek(); due && due.at <= now; due = this.queue.peek()) {
      this.queue.pop()
      const kept = this.entries.get(due.key)
      if (!kept || kept.sweepAt !== due.at) continue
      this.entries.delete(due.key)
      this.options.onForget?.(due.key, kept.value)
    }
    const next = this.queue.peek()
    if (next) this.arm(next.at)
  }
}
