import type { Result } from 'ioredis'
import type { RedisClient } from './client.js'
import {
  historyLimit,
  isTerminal,
  type Clock,
  type HistoryEntry,
  type LoginRecord,
  type LoginStore,
  type HistoryStore,
  type SessionRecord,
  type SessionStore,
} from '@qr-login/core'
import { guard, relativeTtl } from './guard.js'
import { durably, noWait, type Durability } from './durability.js'
import { keys } from './keys.js'

// A login is a hash: v (its version, compared by the scripts) and d (the record as JSON).
const insertScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`

const compareAndSetScript = `
local current = redis.call('HGET', KEYS[1], 'v')
if not current or current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`

// A user's session index lives as long as the longest-lived session in it.
const indexSessionScript = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`

// A user's history: newest first, trimmed, and kept as long as its longest-lived entry.
const addHistoryScript = `
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`

// A reservation is ended only by the login that holds it.
const releaseUserCodeScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

// The live-login index: drop what has expired, add or remove this login, and live as long as its latest entry.
const indexLiveScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if ARGV[4] == '1' then redis.call('ZREM', KEYS[1], ARGV[2]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    qrInsert(key: string, version: string, json: string, ttlMs: string): Result<number, Context>
    qrCompareAndSet(
      key: string,
      expected: string,
      version: string,
      json: string,
      ttlMs: string,
    ): Result<number, Context>
    qrIndexSession(key: string, tokenHash: string, ttlMs: string): Result<number, Context>
    qrAddHistory(key: string, json: string, limit: string, ttlMs: string): Result<number, Context>
    qrReleaseUserCode(key: string, loginId: string): Result<number, Context>
    qrIndexLive(
      key: string,
      now: string,
      id: string,
      expiresAt: string,
      remove: string,
      ttlMs: string,
    ): Result<number, Context>
  }
}

export type { Durability } from './durability.js'

/** How the live-login index (what MAX_LIVE_LOGINS counts) is kept. */
export interface LiveIndex {
  /** Keys the index is split over, by a hash of the login id; 1 keeps it in one key. */
  keys: number
  /**
   * How long a count read from Redis is reused, plus this store's own inserts since; 0 reads every time.
   * Reading a split index costs one ZCOUNT per key, so at scale it is read now and then, not per login.
   */
  countCacheMs: number
}

/**
 * Logins and their user codes in Redis. Every transition is one Lua script, so
 * compare-and-set is atomic across every instance; every key carries a TTL,
 * so Redis never fills with dead logins.
 *
 * With `durability.replicas` above 0, a login's writes are
 * acknowledged only once that many replicas have them: a master that dies
 * right after a confirm cannot take the confirmation with it, because the
 * replica that takes over already holds it.
 */
export class RedisLoginStore implements LoginStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly clock: Clock,
    private readonly prefix = 'qr:',
    private readonly durability: Durability = noWait,
    private readonly live: LiveIndex = { keys: 1, countCacheMs: 0 },
  ) {
    redis.defineCommand('qrInsert', { numberOfKeys: 1, lua: insertScript })
    redis.defineCommand('qrCompareAndSet', { numberOfKeys: 1, lua: compareAndSetScript })
    redis.defineCommand('qrIndexLive', { numberOfKeys: 1, lua: indexLiveScript })
    redis.defineCommand('qrReleaseUserCode', { numberOfKeys: 1, lua: releaseUserCodeScript })
  }

  insert(record: LoginRecord, keepUntil: number): Promise<boolean> {
    return guard(async () => {
      const key = keys.login(this.prefix, record.id)
      const args = [key, String(record.version), JSON.stringify(record), ttl(this.clock, keepUntil)] as const
      const done = await durably(
        this.redis,
        this.durability,
        () => this.redis.qrInsert(...args),
        (pipeline) => pipeline.qrInsert(...args),
      )
      if (done === 1) {
        this.insertsCounted++
        this.indexLive(record)
      }
      return done === 1
    })
  }

  reserveUserCode(code: string, loginId: string, keepUntil: number): Promise<boolean> {
    return guard(async () => {
      const done = await this.redis.set(
        keys.userCode(this.prefix, code),
        loginId,
        'PX',
        ttl(this.clock, keepUntil),
        'NX',
      )
      return done === 'OK'
    })
  }

  findByUserCode(code: string): Promise<string | undefined> {
    return guard(async () => (await this.redis.get(keys.userCode(this.prefix, code))) ?? undefined)
  }

  releaseUserCode(code: string, loginId: string): Promise<void> {
    return guard(async () => {
      await this.redis.qrReleaseUserCode(keys.userCode(this.prefix, code), loginId)
    })
  }

  get(id: string): Promise<LoginRecord | undefined> {
    return guard(async () => {
      const json = await this.redis.hget(keys.login(this.prefix, id), 'd')
      return json ? (JSON.parse(json) as LoginRecord) : undefined
    })
  }

  compareAndSet(next: LoginRecord, expectedVersion: number, keepUntil: number): Promise<boolean> {
    return guard(async () => {
      const args = [
        keys.login(this.prefix, next.id),
        String(expectedVersion),
        String(next.version),
        JSON.stringify(next),
        ttl(this.clock, keepUntil),
      ] as const
      const done = await durably(
        this.redis,
        this.durability,
        () => this.redis.qrCompareAndSet(...args),
        (pipeline) => pipeline.qrCompareAndSet(...args),
      )
      if (done === 1) this.indexLive(next)
      return done === 1
    })
  }

  private insertsCounted = 0
  private liveCount?: { readAt: number; value: number; insertsBefore: number }
  private liveCountReading?: Promise<number>

  countLive(): Promise<number> {
    const cached = this.liveCount
    if (cached && this.clock.now() - cached.readAt < this.live.countCacheMs)
      return Promise.resolve(cached.value + this.insertsCounted - cached.insertsBefore)
    // Callers that arrive while a count is being read share it rather than sending N more ZCOUNTs each.
    this.liveCountReading ??= this.readLiveCount().finally(() => (this.liveCountReading = undefined))
    return this.liveCountReading
  }

  private readLiveCount(): Promise<number> {
    const readAt = this.clock.now()
    const insertsBefore = this.insertsCounted
    return guard(async () => {
      const counts = await Promise.all(
        Array.from({ length: this.live.keys }, (_, part) =>
          this.redis.zcount(keys.liveLogins(this.prefix, part, this.live.keys), `(${readAt}`, '+inf'),
        ),
      )
      const value = counts.reduce((sum, count) => sum + count, 0)
      if (this.live.countCacheMs > 0) this.liveCount = { readAt, value, insertsBefore }
      // Inserts made while the count was read may be in it already: counted twice at worst, never missed.
      return value + this.insertsCounted - insertsBefore
    })
  }

  /**
   * Keeps the live-login index (a sorted set scored by expiresAt) in step, after the write it follows.
   * Best effort: the write has happened and must not be reported as failed; an entry left behind
   * stops counting at its expiresAt and is pruned by a later write.
   */
  private indexLive(record: LoginRecord): void {
    // Not awaited, so a transition reaches its watchers without waiting for the index. Commands on one
    // connection run in order: this instance's next count already sees the update.
    const part = this.live.keys === 1 ? 0 : livePart(record.id, this.live.keys)
    void this.redis
      .qrIndexLive(
        keys.liveLogins(this.prefix, part, this.live.keys),
        String(this.clock.now()),
        record.id,
        String(record.expiresAt),
        isTerminal(record.status) ? '1' : '0',
        ttl(this.clock, record.expiresAt),
      )
      .catch(() => undefined)
  }
}

/**
 * Sessions in Redis, each under its own key with a TTL, and a per-user index of their hashes (readers
 * prune what has expired). A new session waits for `durability`'s replicas before it is handed out.
 */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly clock: Clock,
    private readonly prefix = 'qr:',
    private readonly durability: Durability = noWait,
  ) {
    redis.defineCommand('qrIndexSession', { numberOfKeys: 1, lua: indexSessionScript })
  }

  putSession(session: SessionRecord, keepUntil: number): Promise<void> {
    return guard(async () => {
      const ttlMs = ttl(this.clock, keepUntil)
      // The index first: if the session write then fails, the index only holds a hash that readers prune.
      await this.redis.qrIndexSession(keys.userSessions(this.prefix, session.username), session.tokenHash, ttlMs)
      const args = [keys.session(this.prefix, session.tokenHash), JSON.stringify(session), 'PX', Number(ttlMs)] as const
      await durably(
        this.redis,
        this.durability,
        () => this.redis.set(...args),
        (pipeline) => pipeline.set(...args),
      )
    })
  }

  getSession(tokenHash: string): Promise<SessionRecord | undefined> {
    return guard(async () => {
      const json = await this.redis.get(keys.session(this.prefix, tokenHash))
      return json ? (JSON.parse(json) as SessionRecord) : undefined
    })
  }

  deleteSession(tokenHash: string): Promise<void> {
    return guard(async () => {
      await this.redis.del(keys.session(this.prefix, tokenHash))
    })
  }

  listSessions(username: string): Promise<SessionRecord[]> {
    return guard(async () => {
      const index = keys.userSessions(this.prefix, username)
      const hashes = await this.redis.smembers(index)
      if (hashes.length === 0) return []
      // One GET each (sent together), not MGET: on a cluster each session lives in a slot of its own.
      const found = await Promise.all(hashes.map((hash) => this.redis.get(keys.session(this.prefix, hash))))
      const gone = hashes.filter((_, at) => !found[at])
      if (gone.length > 0) await this.redis.srem(index, ...gone)
      return found.filter((json): json is string => Boolean(json)).map((json) => JSON.parse(json) as SessionRecord)
    })
  }
}

/** Each user's history in Redis: one list, newest first, trimmed by the script that adds to it. */
export class RedisHistoryStore implements HistoryStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly clock: Clock,
    private readonly prefix = 'qr:',
  ) {
    redis.defineCommand('qrAddHistory', { numberOfKeys: 1, lua: addHistoryScript })
  }

  addHistory(username: string, entry: HistoryEntry, keepUntil: number): Promise<void> {
    return guard(async () => {
      const json = JSON.stringify({ entry, keepUntil })
      await this.redis.qrAddHistory(
        keys.history(this.prefix, username),
        json,
        String(historyLimit),
        ttl(this.clock, keepUntil),
      )
    })
  }

  listHistory(username: string): Promise<HistoryEntry[]> {
    return guard(async () => {
      const now = this.clock.now()
      const kept = (await this.redis.lrange(keys.history(this.prefix, username), 0, -1)).map(
        (json) => JSON.parse(json) as { entry: HistoryEntry; keepUntil: number },
      )
      return kept.filter((each) => each.keepUntil > now).map((each) => each.entry)
    })
  }
}

/** A TTL for Redis, relative to now, as the string a script argument takes. */
function ttl(clock: Clock, keepUntil: number): string {
  return String(relativeTtl(clock, keepUntil))
}

/** Which key of a split live index holds this login: a string hash (FNV-1a) of its id. */
function livePart(id: string, parts: number): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < id.length; index++) hash = Math.imul(hash ^ id.charCodeAt(index), 0x01000193)
  return (hash >>> 0) % parts
}
