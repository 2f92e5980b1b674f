import type { KeyStore } from '@qr-login/core'
import type { RedisClient } from './client.js'
import { noWait, replicated, type Durability } from './durability.js'
import { guard } from './guard.js'

/**
 * The OpenID provider's signing keys under one key without a TTL: the first instance to start writes
 * them (SET NX), every other one reads them. Every token the provider signs names these keys, so they
 * reach `durability`'s replicas before any is used.
 */
export class RedisKeyStore implements KeyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly durability: Durability = noWait,
  ) {}

  read(): Promise<string | undefined> {
    return guard(async () => (await this.redis.get(this.key)) ?? undefined)
  }

  keepFirst(keys: string): Promise<string> {
    return guard(async () => {
      await this.redis.set(this.key, keys, 'NX')
      await replicated(this.redis, [this.key], this.durability)
      return (await this.redis.get(this.key)) ?? keys
    })
  }
}
