import type { Result } from 'ioredis'
import type { RedisClient } from './client.js'
import { grantBoundKinds, type Clock, type OidcArtefactStore, type OidcPayload } from '@qr-login/core'
import { noWait, replicated, type Durability } from './durability.js'
import { guard } from './guard.js'
import { keys } from './keys.js'

// Consuming marks what exists, and never brings back what has expired.
const consumeScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'c', ARGV[1])
return 1`

// A grant's index lives as long as its longest-lived artefact: for ever once one of them has no expiry.
const indexGrantScript = `
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
local current = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PERSIST', KEYS[1])
elseif current == -1 and redis.call('SCARD', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ttl)
elseif current >= 0 and current < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    qrOidcConsume(key: string, at: string): Result<number, Context>
    qrOidcIndexGrant(key: string, member: string, ttlMs: string): Result<number, Context>
  }
}

/**
 * OIDC artefacts in Redis, shared by every instance: any instance serves any step of a flow.
 * Each artefact is one hash under its TTL; the grant, user-code and uid indexes are kept beside it.
 * Every write waits for `durability`'s replicas: a refresh token or a consumed code lost with its
 * master would be a token that stops working, or a code that works twice.
 */
export class RedisOidcArtefactStore implements OidcArtefactStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly clock: Clock,
    private readonly prefix = 'qr:',
    private readonly durability: Durability = noWait,
  ) {
    redis.defineCommand('qrOidcConsume', { numberOfKeys: 1, lua: consumeScript })
    redis.defineCommand('qrOidcIndexGrant', { numberOfKeys: 1, lua: indexGrantScript })
  }

  upsert(kind: string, id: string, payload: OidcPayload, expiresInSeconds?: number): Promise<void> {
    return guard(async () => {
      const key = keys.oidcArtefact(this.prefix, kind, id)
      const ttlMs = expiresInSeconds === undefined ? -1 : Math.max(1, expiresInSeconds * 1000)
      const write = this.redis.multi().del(key).hset(key, 'p', JSON.stringify(payload))
      if (ttlMs > 0) write.pexpire(key, ttlMs)
      await write.exec()
      const indexes: Promise<unknown>[] = []
      const written = [key]
      if (typeof payload.grantId === 'string' && grantBoundKinds.has(kind)) {
        const grant = keys.oidcGrant(this.prefix, payload.grantId)
        written.push(grant)
        indexes.push(this.redis.qrOidcIndexGrant(grant, key, String(ttlMs)))
      }
      for (const [index, value] of [
        ['code', payload.userCode],
        ['uid', payload.uid],
      ] as const) {
        if (typeof value !== 'string') continue
        const indexKey = keys.oidcIndex(this.prefix, kind, index, value)
        written.push(indexKey)
        indexes.push(ttlMs > 0 ? this.redis.set(indexKey, id, 'PX', ttlMs) : this.redis.set(indexKey, id))
      }
      await Promise.all(indexes)
      await replicated(this.redis, written, this.durability)
    })
  }

  find(kind: string, id: string): Promise<OidcPayload | undefined> {
    return guard(() => this.read(keys.oidcArtefact(this.prefix, kind, id)))
  }

  findByUserCode(kind: string, userCode: string): Promise<OidcPayload | undefined> {
    return this.findIndexed(kind, 'code', userCode)
  }

  findByUid(kind: string, uid: string): Promise<OidcPayload | undefined> {
    return this.findIndexed(kind, 'uid', uid)
  }

  consume(kind: string, id: string): Promise<void> {
    return guard(async () => {
      const key = keys.oidcArtefact(this.prefix, kind, id)
      await this.redis.qrOidcConsume(key, String(Math.floor(this.clock.now() / 1000)))
      await replicated(this.redis, [key], this.durability)
    })
  }

  destroy(kind: string, id: string): Promise<void> {
    return guard(async () => {
      const key = keys.oidcArtefact(this.prefix, kind, id)
      await this.redis.del(key)
      await replicated(this.redis, [key], this.durability)
    })
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return guard(async () => {
      const index = keys.oidcGrant(this.prefix, grantId)
      const members = await this.redis.smembers(index)
      await Promise.all(members.map((key) => this.redis.del(key)))
      await this.redis.del(index)
      await replicated(this.redis, [index, ...members], this.durability)
    })
  }

  private findIndexed(kind: string, index: 'code' | 'uid', value: string): Promise<OidcPayload | undefined> {
    return guard(async () => {
      const id = await this.redis.get(keys.oidcIndex(this.prefix, kind, index, value))
      return id === null ? undefined : this.read(keys.oidcArtefact(this.prefix, kind, id))
    })
  }

  private async read(key: string): Promise<OidcPayload | undefined> {
    const { p, c } = await this.redis.hgetall(key)
    if (!p) return undefined
    const payload = JSON.parse(p) as OidcPayload
    return c === undefined ? payload : { ...payload, consumed: Number(c) }
  }
}
