import { hash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'
import { nanoid } from 'nanoid'
import { userCodeAlphabet } from './login.js'
import type { Secrets } from './ports.js'

/** nanoid ids (126 bits) and 256-bit tokens, both from the operating system's CSPRNG; SHA-256 hashes. */
export const cryptoSecrets: Secrets = {
  loginId: () => nanoid(),
  token: () => randomBytes(32).toString('base64url'),
  // One call (Node ≥ 20.12): a Hash object per request cost more than the hashing itself.
  hash: (secret) => hash('sha256', secret, 'base64url'),
  matches(secret, hash) {
    const presented = Buffer.from(cryptoSecrets.hash(secret))
    const stored = Buffer.from(hash)
    return presented.length === stored.length && timingSafeEqual(presented, stored)
  },
  matchCode() {
    const codes = new Set<string>()
    while (codes.size < 3) codes.add(String(randomInt(10, 100)))
    const [code, ...decoys] = [...codes]
    const choices = [code, ...decoys]
    // Fisher-Yates, so the right code is equally likely in every place.
    for (let i = choices.length - 1; i > 0; i--) {
      const j = randomInt(i + 1)
      ;[choices[i], choices[j]] = [choices[j], choices[i]]
    }
    return { code: code, choices }
  },
  // 20 letters, 8 places: 34.6 bits, unguessable within the failed-look-up limits (README, docs/security.md).
  userCode: () => Array.from({ length: 8 }, () => userCodeAlphabet[randomInt(userCodeAlphabet.length)]).join(''),
}
