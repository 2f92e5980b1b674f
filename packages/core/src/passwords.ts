import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/** scrypt (memory-hard), in the PHC string format: $scrypt$ln=15,r=8,p=1$<salt>$<hash>, base64 without padding. */
const defaults = { ln: 15, r: 8, p: 1 }
const keyLength = 32
const phc = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{43})$/

function derive(password: string, salt: Buffer, { ln, r, p }: typeof defaults): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** ln, r, p, maxmem: 256 * 2 ** ln * r + 1024 * 1024 }
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  )
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '')

/** What `npx qr-login hash-password` prints, and a USERS_FILE's passwordHash holds. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await derive(password, salt, defaults)
  return `$scrypt$ln=${defaults.ln},r=${defaults.r},p=${defaults.p}$${b64(salt)}$${b64(hash)}`
}

export function isPasswordHash(value: unknown): value is string {
  const match = typeof value === 'string' ? phc.exec(value) : null
  return Boolean(match && Number(match[1]) >= 10 && Number(match[1]) <= 20)
}

/** Constant time in the hash; false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = phc.exec(stored)
  if (!match || !isPasswordHash(stored)) return false
  const [, ln, r, p, salt, hash] = match
  const expected = Buffer.from(hash, 'base64')
  const actual = await derive(password, Buffer.from(salt, 'base64'), { ln: Number(ln), r: Number(r), p: Number(p) })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
