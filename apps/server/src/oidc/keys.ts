import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose'
import type { KeyStore } from '@qr-login/core'
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
  readKeyFile(file)
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
 * (OIDC_KEYS_FILE), or the ones the store keeps (the database, Redis, or with STORE=memory a private
 * file). A store that keeps none yet takes over the key file an earlier version wrote (.oidc/keys.json),
 * once, so apps' tokens keep verifying; failing that, the first instance to start makes them.
 */
export async function providerKeys(
  { keysFile, operatorKeys }: { keysFile: string; operatorKeys: boolean },
  store: KeyStore,
): Promise<ProviderKeys> {
  if (operatorKeys) return readKeyFile(keysFile)
  const kept = await store.read()
  if (kept) return parseKeys(kept, 'the kept signing keys')
  const earlier = existsSync(keysFile) ? readKeyFile(keysFile) : await generateKeys()
  return parseKeys(await store.keepFirst(JSON.stringify(earlier)), 'the kept signing keys')
}

function readKeyFile(file: string): ProviderKeys {
  try {
    return parseKeys(readFileSync(file, 'utf8'), file)
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(`OIDC_KEYS_FILE: cannot read "${file}" (${(error as Error).message})`)
  }
}
