import { isTerminal, type LoginRecord } from './login.js'
import {
  historyLimit,
  type Clock,
  type HistoryEntry,
  type LoginStore,
  type SessionRecord,
  type StoreStats,
  type TimerHandle,
} from './ports.js'

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
  /** username → token hashes of that user's sessions */
  private readonly sessionsByUser = new Map<string, Set<string>>()
  /** username → history, newest first; the list lives as long as its newest entry */
  private readonly history = new Map<string, Entry<{ entry: HistoryEntry; keepUntil: number }[]>>()
  /** user code → login id, each dropped at its own time */
  private readonly userCodes = new Map<string, Entry<string>>()
  /** Ids of logins not yet ended. In one process the service's expiry timers end each at its expiresAt. */
  private readonly live = new Set<string>()

  constructor(private readonly clock: Clock) {}

  async insert(record: LoginRecord, keepUntil: number): Promise<boolean> {
    if (this.logins.has(record.id)) return false
    this.keep(this.logins, record.id, record, keepUntil, () => this.forgetLogin(record.id))
    if (!isTerminal(record.status)) this.live.add(record.id)
    return true
  }

  async reserveUserCode(code: string, loginId: string, keepUntil: number): Promise<boolean> {
    if (this.userCodes.has(code)) return false
    this.keep(this.userCodes, code, loginId, keepUntil)
    return true
  }

  async findByUserCode(code: string): Promise<string | undefined> {
    return this.userCodes.get(code)?.value
  }

  async releaseUserCode(code: string, loginId: string): Promise<void> {
    const entry = this.userCodes.get(code)
    if (entry?.value !== loginId) return
    entry.drop.cancel()
    this.userCodes.delete(code)
  }

  async get(id: string): Promise<LoginRecord | undefined> {
    return this.logins.get(id)?.value
  }

  async compareAndSet(next: LoginRecord, expectedVersion: number, keepUntil: number): Promise<boolean> {
    const entry = this.logins.get(next.id)
    if (!entry || entry.value.version !== expectedVersion) return false
    entry.drop.cancel()
    this.keep(this.logins, next.id, next, keepUntil, () => this.forgetLogin(next.id))
    if (isTerminal(next.status)) this.live.delete(next.id)
    return true
  }

  async putSession(session: SessionRecord, keepUntil: number): Promise<void> {
    this.forgetSession(session.tokenHash)
    const hashes = this.sessionsByUser.get(session.username) ?? new Set()
    hashes.add(session.tokenHash)
    this.sessionsByUser.set(session.username, hashes)
    this.keep(this.sessions, session.tokenHash, session, keepUntil, () => this.forgetSession(session.tokenHash))
  }

  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    return this.sessions.get(tokenHash)?.value
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.forgetSession(tokenHash)
  }

  async countLive(): Promise<number> {
    return this.live.size
  }

  async listSessions(username: string): Promise<SessionRecord[]> {
    return [...(this.sessionsByUser.get(username) ?? [])].map((hash) => this.sessions.get(hash)!.value)
  }

  async addHistory(username: string, entry: HistoryEntry, keepUntil: number): Promise<void> {
    const previous = this.history.get(username)
    previous?.drop.cancel()
    const kept = [{ entry, keepUntil }, ...(previous?.value ?? [])].slice(0, historyLimit)
    this.keep(this.history, username, kept, Math.max(...kept.map((each) => each.keepUntil)))
  }

  async listHistory(username: string): Promise<HistoryEntry[]> {
    const now = this.clock.now()
    return (this.history.get(username)?.value ?? []).filter((each) => each.keepUntil > now).map((each) => each.entry)
  }

  stats(): StoreStats {
    return {
      logins: this.logins.size,
      sessions: this.sessions.size,
      timers: this.logins.size + this.sessions.size + this.userCodes.size + this.history.size,
    }
  }

  async close(): Promise<void> {
    for (const entry of this.logins.values()) entry.drop.cancel()
    for (const entry of this.sessions.values()) entry.drop.cancel()
    for (const entry of this.userCodes.values()) entry.drop.cancel()
    for (const entry of this.history.values()) entry.drop.cancel()
    this.history.clear()
    this.userCodes.clear()
    this.logins.clear()
    this.sessions.clear()
    this.sessionsByUser.clear()
    this.live.clear()
  }

  private forgetLogin(id: string): void {
    this.logins.delete(id)
    this.live.delete(id)
  }

  private forgetSession(tokenHash: string): void {
    const entry = this.sessions.get(tokenHash)
    if (!entry) return
    entry.drop.cancel()
    this.sessions.delete(tokenHash)
    const hashes = this.sessionsByUser.get(entry.value.username)
    hashes?.delete(tokenHash)
    if (hashes?.size === 0) this.sessionsByUser.delete(entry.value.username)
  }

  private keep<T>(map: Map<string, Entry<T>>, key: string, value: T, keepUntil: number, drop?: () => void): void {
    const timer = this.clock.setTimer(keepUntil - this.clock.now(), () => {
      if (map.get(key)?.value !== value) return
      if (drop) drop()
      else map.delete(key)
    })
    map.set(key, { value, drop: timer })
  }
}
