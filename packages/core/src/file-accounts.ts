import type { UserProfile } from './login.js'
import { hashPassword, isPasswordHash, verifyPassword } from './passwords.js'
import type { Accounts } from './ports.js'

/** One account of a USERS_FILE. */
export interface FileAccount {
  username: string
  displayName: string
  avatarUrl?: string
  passwordHash: string
}

const usernamePattern = /^[a-z0-9_.-]{1,64}$/

/** Checks a USERS_FILE's content; each problem is said with the entry it is in. */
export function parseUsers(json: string): FileAccount[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`)
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error('must hold a non-empty JSON array of accounts')
  const seen = new Set<string>()
  return parsed.map((entry: unknown, index) => {
    const account = entry as Partial<FileAccount> | null
    const where = `entry ${index}`
    if (!account || typeof account !== 'object' || Array.isArray(account)) throw new Error(`${where} is not an object`)
    if (typeof account.username !== 'string' || !usernamePattern.test(account.username))
      throw new Error(`${where}: username must be 1-64 characters a-z, 0-9, _ . or -`)
    if (seen.has(account.username)) throw new Error(`${where}: username "${account.username}" is listed twice`)
    seen.add(account.username)
    if (typeof account.displayName !== 'string' || !account.displayName.trim() || account.displayName.length > 100)
      throw new Error(`${where}: displayName must be a name of 1-100 characters`)
    if (
      account.avatarUrl !== undefined &&
      (typeof account.avatarUrl !== 'string' || !/^(https?:\/\/|\/)/.test(account.avatarUrl))
    )
      throw new Error(`${where}: avatarUrl must be an http(s) URL or a path`)
    if (!isPasswordHash(account.passwordHash))
      throw new Error(`${where}: passwordHash must be what \`npx qr-login hash-password\` prints ($scrypt$…)`)
    return {
      username: account.username,
      displayName: account.displayName,
      ...(account.avatarUrl ? { avatarUrl: account.avatarUrl } : {}),
      passwordHash: account.passwordHash,
    }
  })
}

/**
 * Accounts from a users file, with scrypt hashes: the second adapter of the Accounts port. A name
 * that is not in the file costs as much time as a wrong password, so the answer says nothing more.
 */
export function createFileAccounts(accounts: FileAccount[]): Accounts {
  const byName = new Map(accounts.map((account) => [account.username, account]))
  const profile = (account: FileAccount): UserProfile => ({
    username: account.username,
    displayName: account.displayName,
    avatarUrl: account.avatarUrl ?? `/avatars/${encodeURIComponent(account.username)}.svg`,
  })
  let decoy: Promise<string> | undefined
  return {
    async verify(username, password) {
      const account = byName.get(username)
      if (!account) {
        decoy ??= hashPassword('not a password of anyone')
        await verifyPassword(password, await decoy)
        return undefined
      }
      return (await verifyPassword(password, account.passwordHash)) ? profile(account) : undefined
    },
    find(username) {
      const account = byName.get(username)
      return account && profile(account)
    },
    // Not a list to show: only the demo accounts are offered as quick picks.
    list: () => [],
  }
}
