import TinyQueue from 'tinyqueue'
import type { Clock, TimerHandle } from './ports.js'

interface Kept<V> {
  value: V
  keepUntil: number
  /** The sweep its keepUntil falls in. */
  sweepAt: number
  /** The sweep its live queue item is for: never later than sweepAt (a sweep that finds it renewed queues it again). */
  queuedAt: number
}

interface Due {
  at: number
  key: string
}

const byTime = (a: Due, b: Due) => a.at - b.at

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
  /**
   * One live item per entry, at or before its sweep, and stale ones (an entry deleted, or renewed to an
   * earlier time), which the sweep skips and a rebuild drops once they outnumber the entries.
   */
  private queue = new TinyQueue<Due>([], byTime)
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
      kept.sweepAt = sweepAt
      // Kept longer: its queued item stays, and the sweep that reaches it queues it again for the new time.
      if (sweepAt >= kept.queuedAt) return
      kept.queuedAt = sweepAt
    } else {
      this.entries.set(key, { value, keepUntil, sweepAt, queuedAt: sweepAt })
    }
    this.enqueue(key, sweepAt)
  }

  /** Removes the entry, its time passed or not, and returns what it held. */
  delete(key: string): V | undefined {
    const kept = this.entries.get(key)
    if (!kept) return undefined
    this.entries.delete(key)
    if (this.queue.length > 2 * this.entries.size + 1024) this.rebuild()
    return kept.value
  }

  /** Entries held, counting those whose time has passed but whose sweep has not come yet. */
  get size(): number {
    return this.entries.size
  }

  /** Deadlines queued, stale ones included: at most twice the entries, and a few. */
  get queued(): number {
    return this.queue.length
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

  private enqueue(key: string, at: number): void {
    if (at === Infinity) return
    // The rebuild queues every entry at its own time, this one included.
    if (this.queue.length > 2 * this.entries.size + 1024) this.rebuild()
    else this.queue.push({ at, key })
    if (at < this.timerAt) this.arm(at)
  }

  /** Drops the stale items: the queue again holds one item per entry, at its sweep. */
  private rebuild(): void {
    const items: Due[] = []
    for (const [key, kept] of this.entries) {
      kept.queuedAt = kept.sweepAt
      if (kept.sweepAt !== Infinity) items.push({ at: kept.sweepAt, key })
    }
    this.queue = new TinyQueue(items, byTime)
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
      if (!kept || kept.queuedAt !== due.at) continue
      if (kept.sweepAt > now) {
        kept.queuedAt = kept.sweepAt
        if (kept.sweepAt !== Infinity) this.queue.push({ at: kept.sweepAt, key: due.key })
        continue
      }
      this.entries.delete(due.key)
      this.options.onForget?.(due.key, kept.value)
    }
    const next = this.queue.peek()
    if (next) this.arm(next.at)
  }
}
