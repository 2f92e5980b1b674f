import type { Result } from 'ioredis'
import type { RedisClient } from './client.js'
import type { AddPasskeyResult, Clock, PasskeyStore, StoredPasskey } from '@qr-login/core'
import { noWait, replicated, type Durability } from './durability.js'
import { guard, relativeTtl } from './guard.js'
import { keys } from './keys.js'

// A user's passkeys and their uses are two hashes in one slot: the cap is checked and the write made at once.
const addScript = `
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`

const recordUseScript = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`

const removeScript = `
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    qrAddPasskey(passkeys: string, id: string, json: string, max: string): Result<number, Context>
    qrRecordPasskeyUse(passkeys: string, uses: string, id: string, use: string): Result<number, Context>
    qrRemovePasskey(passkeys: string, uses: string, id: string): Result<number, Context>
  }
}

/**
 * Passkeys in Redis, shared by every instance; challenges under a TTL, taken with GETDEL so each is used
 * once. A passkey's writes (added, used, removed) wait for `durability`'s replicas; a challenge's do not:
 * it lives for a minute, and one lost with its master is only asked again.
 */
export class RedisPasskeyStore implements PasskeyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly clock: Clock,
    private readonly prefix = 'qr:',
    private readonly durability: Durability = noWait,
  ) {
    redis.defineCommand('qrAddPasskey', { numberOfKeys: 1, lua: addScript })
    redis.defineCommand('qrRecordPasskeyUse', { numberOfKeys: 2, lua: recordUseScript })
    redis.defineCommand('qrRemovePasskey', { numberOfKeys: 2, lua: removeScript })
  }

  addPasskey(username: string, passkey: StoredPasskey, maxPerUser: number): Promise<AddPasskeyResult> {
    return guard(async () => {
      const owner = keys.passkeyOwner(this.prefix, passkey.id)
      if ((await this.redis.set(owner, username, 'NX')) !== 'OK') return 'taken'
      let added = 0
      try {
        const json = JSON.stringify(passkey)
        added = await this.redis.qrAddPasskey(
          keys.passkeys(this.prefix, username),
          passkey.id,
          json,
          String(maxPerUser),
        )
      } finally {
        // The claim on the id goes with a passkey that was not written (over the cap, or Redis failed).
        if (added !== 1) await this.redis.del(owner).catch(() => undefined)
      }
      if (added !== 1) return 'full'
      await replicated(this.redis, [owner, keys.passkeys(this.prefix, username)], this.durability)
      return 'added'
    })
  }

  listPasskeys(username: string): Promise<StoredPasskey[]> {
    return guard(async () => {
      const [stored, uses] = await Promise.all([
        this.redis.hgetall(keys.passkeys(this.prefix, username)),
        this.redis.hgetall(keys.passkeyUses(this.prefix, username)),
      ])
      return Object.entries(stored)
        .map(([id, json]) => {
          const passkey = JSON.parse(json) as StoredPasskey
          const use = uses[id]?.split(':').map(Number)
          return use ? { ...passkey, counter: use[0], lastUsedAt: use[1] } : passkey
        })
        .sort((a, b) => a.createdAt - b.createdAt)
    })
  }

  recordPasskeyUse(username: string, id: string, counter: number, at: number): Promise<boolean> {
    return guard(async () => {
      const done = await this.redis.qrRecordPasskeyUse(
        keys.passkeys(this.prefix, username),
        keys.passkeyUses(this.prefix, username),
        id,
        `${counter}:${at}`,
      )
      // The counter is what detects a cloned authenticator: a use lost with its master would let one pass.
      if (done === 1) await replicated(this.redis, [keys.passkeys(this.prefix, username)], this.durability)
      return done === 1
    })
  }

  removePasskey(username: string, id: string): Promise<boolean> {
    return guard(async () => {
      const removed = await this.redis.qrRemovePasskey(
        keys.passkeys(this.prefix, username),
        keys.passkeyUses(this.prefix, username),
        id,
      )
      if (removed !== 1) return false
      await this.redis.del(keys.passkeyOwner(this.prefix, id))
      await replicated(
        this.redis,
        [keys.passkeys(this.prefix, username), keys.passkeyOwner(this.prefix, id)],
        this.durability,
      )
      return true
    })
  }

  putChallenge(key: string, challenge: string, keepUntil: number): Promise<void> {
    return guard(async () => {
      await this.redis.set(keys.challenge(this.prefix, key), challenge, 'PX', relativeTtl(this.clock, keepUntil))
    })
  }

  takeChallenge(key: string): Promise<string | undefined> {
    return guard(async () => (await this.redis.getdel(keys.challenge(this.prefix, key))) ?? undefined)
  }
}
