import { ExpiringMap } from './expiring-map.js'
import { isTerminal, type LoginRecord } from './login.js'
import {
  historyLimit,
  type Clock,
  type HistoryEntry,
  type HistoryStore,
  type LoginStore,
  type SessionRecord,
  type SessionStore,
} from './ports.js'

/**
 * Logins and user codes in this process: maps whose entries are forgotten at their own time (one
 * sweep timer per map). Records are treated as immutable values, so readers can never see a
 * half-applied write.
 */
export class MemoryLoginStore implements LoginStore {
  private readonly logins: ExpiringMap<LoginRecord>
  /** user code → login id */
  private readonly userCodes: ExpiringMap<string>
  /** Ids of logins not yet ended. In one process the service's expiry timers end each at its expiresAt. */
  private readonly live = new Set<string>()

  constructor(clock: Clock) {
    this.logins = new ExpiringMap(clock, { onForget: (id) => this.live.delete(id) })
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

  async countLive(): Promise<number> {
    return this.live.size
  }

  stats() {
    return { logins: this.logins.size, timers: this.logins.timers + this.userCodes.timers }
  }

  close(): void {
    this.userCodes.clear()
    this.logins.clear()
    this.live.clear()
  }
}

/** Sessions in this process, with an index by user so a phone can list its user's computers. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions: ExpiringMap<SessionRecord>
  /** username → token hashes of that user's sessions */
  private readonly sessionsByUser = new Map<string, Set<string>>()

  constructor(clock: Clock) {
    this.sessions = new ExpiringMap(clock, { onForget: (hash, session) => this.unindexSession(hash, session) })
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

  async listSessions(username: string): Promise<SessionRecord[]> {
    const sessions: SessionRecord[] = []
    for (const hash of this.sessionsByUser.get(username) ?? []) {
      const session = this.sessions.get(hash)
      if (session) sessions.push(session)
    }
    return sessions
  }

  stats() {
    return { sessions: this.sessions.size, timers: this.sessions.timers }
  }

  close(): void {
    this.sessions.clear()
    this.sessionsByUser.clear()
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

interface KeptHistoryEntry {
  entry: HistoryEntry
  keepUntil: number
}

interface KeptHistory {
  /** Oldest first, so a sign-in is a push; up to twice the limit before the oldest are cut, so cuts are rare. */
  entries: KeptHistoryEntry[]
  /** The latest keepUntil of any entry: the list lives as long as that. */
  keepUntil: number
}

/** Each user's history in this process, listed newest first; the list lives as long as its newest entry. */
export class MemoryHistoryStore implements HistoryStore {
  private readonly history: ExpiringMap<KeptHistory>

  constructor(private readonly clock: Clock) {
    this.history = new ExpiringMap(clock)
  }

  async addHistory(username: string, entry: HistoryEntry, keepUntil: number): Promise<void> {
    const kept = this.history.get(username)
    if (!kept) {
      this.history.set(username, { entries: [{ entry, keepUntil }], keepUntil }, keepUntil)
      return
    }
    // In place, O(1) per sign-in: copying or shifting the list on every sign-in showed in the profile.
    kept.entries.push({ entry, keepUntil })
    if (kept.entries.length >= 2 * historyLimit) kept.entries.splice(0, kept.entries.length - historyLimit)
    if (keepUntil > kept.keepUntil) {
      kept.keepUntil = keepUntil
      this.history.set(username, kept, keepUntil)
    }
  }

  async listHistory(username: string): Promise<HistoryEntry[]> {
    const now = this.clock.now()
    const entries = this.history.get(username)?.entries ?? []
    const listed: HistoryEntry[] = []
    for (let i = entries.length - 1; i >= 0 && listed.length < historyLimit; i--)
      if (entries[i].keepUntil > now) listed.push(entries[i].entry)
    return listed
  }

  stats() {
    return { users: this.history.size, timers: this.history.timers }
  }

  close(): void {
    this.history.clear()
  }
}
