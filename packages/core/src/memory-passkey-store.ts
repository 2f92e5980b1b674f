import { ExpiringMap } from './expiring-map.js'
import type { AddPasskeyResult, Clock, PasskeyStore, StoredPasskey } from './ports.js'

/** The embedded passkey store: passkeys in a map per user, challenges in an ExpiringMap (one timer for all). */
export class MemoryPasskeyStore implements PasskeyStore {
  /** username → credential id → passkey */
  private readonly passkeys = new Map<string, Map<string, StoredPasskey>>()
  /** credential id → its owner, so an id is registered once across every user */
  private readonly owners = new Map<string, string>()
  private readonly challenges: ExpiringMap<string>

  constructor(clock: Clock) {
    this.challenges = new ExpiringMap(clock)
  }

  async addPasskey(username: string, passkey: StoredPasskey, maxPerUser: number): Promise<AddPasskeyResult> {
    if (this.owners.has(passkey.id)) return 'taken'
    const mine = this.passkeys.get(username) ?? new Map<string, StoredPasskey>()
    if (mine.size >= maxPerUser) return 'full'
    mine.set(passkey.id, { ...passkey })
    this.passkeys.set(username, mine)
    this.owners.set(passkey.id, username)
    return 'added'
  }

  async listPasskeys(username: string): Promise<StoredPasskey[]> {
    return [...(this.passkeys.get(username)?.values() ?? [])]
      .map((passkey) => ({ ...passkey }))
      .sort((a, b) => a.createdAt - b.createdAt)
  }

  async recordPasskeyUse(username: string, id: string, counter: number, at: number): Promise<boolean> {
    const passkey = this.passkeys.get(username)?.get(id)
    if (!passkey) return false
    this.passkeys.get(username)!.set(id, { ...passkey, counter, lastUsedAt: at })
    return true
  }

  async removePasskey(username: string, id: string): Promise<boolean> {
    const mine = this.passkeys.get(username)
    if (!mine?.delete(id)) return false
    this.owners.delete(id)
    if (mine.size === 0) this.passkeys.delete(username)
    return true
  }

  async putChallenge(key: string, challenge: string, keepUntil: number): Promise<void> {
    this.challenges.set(key, challenge, keepUntil)
  }

  async takeChallenge(key: string): Promise<string | undefined> {
    const challenge = this.challenges.get(key)
    this.challenges.delete(key)
    return challenge
  }

  stats() {
    return { passkeys: this.owners.size, challenges: this.challenges.size, timers: this.challenges.timers }
  }

  async close(): Promise<void> {
    this.challenges.clear()
    this.passkeys.clear()
    this.owners.clear()
  }
}
