import { ExpiringMap } from './expiring-map.js'
import { isTerminal, type LoginRecord } from './login.js'
import {
  historyLimit,
  type Clock,
  type HistoryEntry,
  type LoginStore,
  type SessionRecord,
  type StoreStats,
} from './ports.js'

interface KeptHistoryEntry {
  entry: HistoryEntry
  keepUntil: number
}

/**
 * The embedded store: maps whose entries are forgotten at their own time
 * (one sweep timer per map). Records are treated as immutable values, so
 * readers can never see a half-applied write.
 */
export class MemoryLoginStore implements LoginStore {
  private readonly logins: ExpiringMap<LoginRecord>
  private readonly sessions: ExpiringMap<SessionRecord>
  /** username → token hashes of that user's sessions */
  private readonly sessionsByUser = new Map<string, Set<string>>()
  /** username → history, newest first; the list lives as long as its newest entry. Only this store holds the list. */
  private readonly history: ExpiringMap<KeptHistoryEntry[]>
  /** user code → login id */
  private readonly userCodes: ExpiringMap<string>
  /** Ids of logins not yet ended. In one process the service's expiry timers end each at its expiresAt. */
  private readonly live = new Set<string>()

  constructor(private readonly clock: Clock) {
    this.logins = new ExpiringMap(clock, { onForget: (id) => this.live.delete(id) })
    this.sessions = new ExpiringMap(clock, { onForget: (hash, session) => this.unindexSession(hash, session) })
    this.history = new ExpiringMap(clock)
    this.userCodes = new ExpiringMap(clock)
  }

  async insert(record: LoginRecord, keepUntil: number): Promise<boolean> {
    if (this.logins.has(record.id)) return false
    this.logins.set(record.id, record, keepUntil)
    if (!isTerminal(record.status)) this.live.add(record.id)
    return true
  }

  async reserveUserCode(code: string, loginId: string, keepUntil: number): Promise<boolean> {
    if (this.userCodes.has(code)) return false
    this.userCodes.set(code, loginId, keepUntil)
    return true
  }

  async findByUserCode(code: string): Promise<string | undefined> {
    return this.userCodes.get(code)
  }

  async releaseUserCode(code: string, loginId: string): Promise<void> {
    if (this.userCodes.get(code) === loginId) this.userCodes.delete(code)
  }

  async get(id: string): Promise<LoginRecord | undefined> {
    return this.logins.get(id)
  }

  async compareAndSet(next: LoginRecord, expectedVersion: number, keepUntil: number): Promise<boolean> {
    if (this.logins.get(next.id)?.version !== expectedVersion) return false
    this.logins.set(next.id, next, keepUntil)
    if (isTerminal(next.status)) this.live.delete(next.id)
    return true
  }

  async putSession(session: SessionRecord, keepUntil: number): Promise<void> {
    this.forgetSession(session.tokenHash)
    const hashes = this.sessionsByUser.get(session.username) ?? new Set()
    hashes.add(session.tokenHash)
    this.sessionsByUser.set(session.username, hashes)
    this.sessions.set(session.tokenHash, session, keepUntil)
  }

  async getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    return this.sessions.get(tokenHash)
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.forgetSession(tokenHash)
  }

  async countLive(): Promise<number> {
    return this.live.size
  }

  async listSessions(username: string): Promise<SessionRecord[]> {
    const sessions: SessionRecord[] = []
    for (const hash of this.sessionsByUser.get(username) ?? []) {
      const session = this.sessions.get(hash)
      if (session) sessions.push(session)
    }
    return sessions
  }

  async addHistory(username: string, entry: HistoryEntry, keepUntil: number): Promise<void> {
    const kept = this.history.get(username)
    if (!kept) {
      this.history.set(username, [{ entry, keepUntil }], keepUntil)
      return
    }
    // In place: a copy of the whole list on every sign-in would outlive the request each time.
    kept.unshift({ entry, keepUntil })
    if (kept.length > historyLimit) kept.length = historyLimit
    let newest = keepUntil
    for (const each of kept) newest = Math.max(newest, each.keepUntil)
    this.history.set(username, kept, newest)
  }

  async listHistory(username: string): Promise<HistoryEntry[]> {
    const now = this.clock.now()
    return (this.history.get(username) ?? []).filter((each) => each.keepUntil > now).map((each) => each.entry)
  }

  /** Held in this process: it answers whenever the process does. */
  async ping(): Promise<void> {}

  stats(): StoreStats {
    return {
      logins: this.logins.size,
      sessions: this.sessions.size,
      timers: this.logins.timers + this.sessions.timers + this.userCodes.timers + this.history.timers,
    }
  }

  async close(): Promise<void> {
    this.history.clear()
    this.userCodes.clear()
    this.logins.clear()
    this.sessions.clear()
    this.sessionsByUser.clear()
    this.live.clear()
  }

  private forgetSession(tokenHash: string): void {
    const session = this.sessions.delete(tokenHash)
    if (session) this.unindexSession(tokenHash, session)
  }

  private unindexSession(tokenHash: string, session: SessionRecord): void {
    const hashes = this.sessionsByUser.get(session.username)
    hashes?.delete(tokenHash)
    if (hashes?.size === 0) this.sessionsByUser.delete(session.username)
  }
}
