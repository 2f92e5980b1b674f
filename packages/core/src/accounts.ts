import { timingSafeEqual } from 'node:crypto'
import type { UserProfile } from './login.js'
import type { Accounts } from './ports.js'

export interface DemoAccount {
  username: string
  password: string
  displayName?: string
}

export const defaultDemoAccounts: DemoAccount[] = [
  { username: 'alice', password: 'demo' },
  { username: 'bob', password: 'demo' },
  { username: 'carol', password: 'demo' },
]

function titleCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1)
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/** The mock mobile app's accounts: a fixed list, no identity provider behind it. */
export function createDemoAccounts(accounts: DemoAccount[] = defaultDemoAccounts): Accounts {
  const byName = new Map<string, { profile: UserProfile; password: string }>()
  for (const account of accounts) {
    byName.set(account.username, {
      password: account.password,
      profile: {
        username: account.username,
        displayName: account.displayName ?? titleCase(account.username),
        avatarUrl: `/avatars/${encodeURIComponent(account.username)}.svg`,
      },
    })
  }
  return {
    async verify(username, password) {
      const account = byName.get(username)
      return account && sameText(account.password, password) ? { ...account.profile } : undefined
    },
    find(username) {
      const account = byName.get(username)
      return account ? { ...account.profile } : undefined
    },
    list: () => [...byName.values()].map((account) => ({ ...account.profile })),
  }
}
