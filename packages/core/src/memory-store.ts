import type { LoginRecord } from './login.js'
import type { Clock, LoginStore, SessionRecord, StoreStats, TimerHandle } from './ports.js'

interface Entry<T> {
  value: T
  drop: TimerHandle
}

/**
 * The embedded store: two maps and one forget-timer per entry. Records are
 * treated as immutable values, so readers can never see a half-applied write.
 */
export class MemoryLoginStore implements LoginStore {
  private readonly logins = new Map<string, Entry<LoginRecord>>()
  private readonly sessions = new Map<string, Entry<SessionRecord>>()

  constructor(private readonly clock: Clock) {}

  async insert(record: LoginRecord, keepUntil: number): Promise<boolean> {
    if (this.logins.has(record.id)) return false
    this.keep(this.logins, record.id, record, keepUntil)
    return true
  }

  async get(id: string): Promise<LoginRecord | undefined> {
    return this.logins.get(id)?.value
  }

  async compareAndSet(next: LoginRecord, expectedVersion: number, keepUntil: number): Promise<boolean> {
    const entry = this.logins.get(next.id)
    if (!entry || entry.value.version !== expectedVersion) return false
    entry.drop.cancel()
    this.keep(this.logins, next.id, next, keepUntil)
    return true
  }

  async putSession(session: SessionRecord, keepUntil: number): Promise<void> {
    this.sessions.get(session.tokenHash)?.drop.cancel()
    this.keep(this.sessions, session.tokenHash, session, keepUntil)
  }

  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    return this.sessions.get(tokenHash)?.value
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.sessions.get(tokenHash)?.drop.cancel()
    this.sessions.delete(tokenHash)
  }

  stats(): StoreStats {
    return { logins: this.logins.size, sessions: this.sessions.size, timers: this.logins.size + this.sessions.size }
  }

  async close(): Promise<void> {
    for (const entry of this.logins.values()) entry.drop.cancel()
    for (const entry of this.sessions.values()) entry.drop.cancel()
    this.logins.clear()
    this.sessions.clear()
  }

  private keep<T>(map: Map<string, Entry<T>>, key: string, value: T, keepUntil: number): void {
    const drop = this.clock.setTimer(keepUntil - this.clock.now(), () => {
      if (map.get(key)?.value === value) map.delete(key)
    })
    map.set(key, { value, drop })
  }
}
