import { createHash, randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose'
import { replicated, type RedisClient } from '@qr-login/redis'
import type { Config } from '../config.js'
import { ConfigError } from '../config-error.js'

/** The provider's private signing keys (a JWKS) and the keys that sign its cookies. */
export interface ProviderKeys {
  jwks: { keys: JWK[] }
  cookieKeys: string[]
}

async function generateKeys(): Promise<ProviderKeys> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  const jwk = await exportJWK(privateKey)
  const kid = await calculateJwkThumbprint(jwk)
  return {
    jwks: { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] },
    cookieKeys: [randomBytes(32).toString('base64url')],
  }
}

/** Checks the operator's key file at start, so a bad one stops the service with a message naming the variable. */
export function checkOperatorKeys(file: string): void {
  try {
    parseKeys(readFileSync(file, 'utf8'), file)
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(`OIDC_KEYS_FILE: cannot read "${file}" (${(error as Error).message})`)
  }
}

/** Reads a key file: ours ({ jwks, cookieKeys }) or the operator's plain private JWKS ({ keys }). */
function parseKeys(json: string, file: string): ProviderKeys {
  const parsed = JSON.parse(json) as Partial<ProviderKeys> & { keys?: JWK[] }
  const jwks = parsed.jwks ?? (parsed.keys ? { keys: parsed.keys } : undefined)
  if (!jwks?.keys?.length || jwks.keys.some((key) => typeof key !== 'object' || !key.kty || !key.d))
    throw new ConfigError(`OIDC_KEYS_FILE: "${file}" holds no private JWK set ({ "keys": [ … ] })`)
  // An operator's JWKS brings no cookie keys: derive them from the private key, so every instance agrees.
  const cookieKeys = parsed.cookieKeys?.length
    ? parsed.cookieKeys
    : [
        createHash('sha256')
          .update(`qr-login cookies:${JSON.stringify(jwks.keys[0])}`)
          .digest('base64url'),
      ]
  return { jwks, cookieKeys }
}

/**
 * Signing keys made once and kept, so tokens verify across restarts and instances: the operator's
 * (OIDC_KEYS_FILE), or in Redis (STORE=redis: the first instance to start writes them, every other
 * one reads them), or in a file (the memory store).
 */
export async function providerKeys(
  config: Config,
  redis: RedisClient | undefined,
  redisKey: string,
): Promise<ProviderKeys> {
  const { keysFile, operatorKeys } = config.oidc
  if (operatorKeys || !redis) {
    try {
      return parseKeys(readFileSync(keysFile, 'utf8'), keysFile)
    } catch (error) {
      if (operatorKeys || (error as NodeJS.ErrnoException).code !== 'ENOENT') {
        if (error instanceof ConfigError) throw error
        throw new ConfigError(`OIDC_KEYS_FILE: cannot read "${keysFile}" (${(error as Error).message})`)
      }
    }
    const made = await generateKeys()
    mkdirSync(dirname(keysFile), { recursive: true, mode: 0o700 })
    // Written aside, then linked into place: a process starting at the same moment reads whole keys or none,
    // and the one that loses the race uses the winner's.
    const aside = `${keysFile}.${process.pid}.${randomBytes(4).toString('hex')}`
    writeFileSync(aside, JSON.stringify(made), { mode: 0o600 })
    try {
      linkSync(aside, keysFile)
      return made
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      return parseKeys(readFileSync(keysFile, 'utf8'), keysFile)
    } finally {
      unlinkSync(aside)
    }
  }
  const made = await generateKeys()
  await redis.set(redisKey, JSON.stringify(made), 'NX')
  // Every token the provider signs names these keys: they reach REDIS_WAIT_REPLICAS before any is used.
  await replicated(redis, [redisKey], config.redisWait)
  const kept = await redis.get(redisKey)
  return kept ? parseKeys(kept, `redis ${redisKey}`) : made
}
