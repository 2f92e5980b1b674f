import { LoginError, type HistoryEntry, type LoginRecord, type LoginStore, type SessionRecord } from '@qr-login/core'

/** A memory store that can be made unreachable, as a Redis store is when Redis is down. */
export class SwitchableStore implements LoginStore {
  down = false
  constructor(private readonly inner: LoginStore) {}
  private check() {
    if (this.down) throw new LoginError('STORE_UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:6379')
  }
  async insert(record: LoginRecord, keepUntil: number) {
    this.check()
    return this.inner.insert(record, keepUntil)
  }
  async reserveUserCode(code: string, loginId: string, keepUntil: number) {
    this.check()
    return this.inner.reserveUserCode(code, loginId, keepUntil)
  }
  async findByUserCode(code: string) {
    this.check()
    return this.inner.findByUserCode(code)
  }
  async addHistory(username: string, entry: HistoryEntry, keepUntil: number) {
    this.check()
    return this.inner.addHistory(username, entry, keepUntil)
  }
  async listHistory(username: string) {
    this.check()
    return this.inner.listHistory(username)
  }
  async get(id: string) {
    this.check()
    return this.inner.get(id)
  }
  async compareAndSet(next: LoginRecord, expectedVersion: number, keepUntil: number) {
    this.check()
    return this.inner.compareAndSet(next, expectedVersion, keepUntil)
  }
  async putSession(session: SessionRecord, keepUntil: number) {
    this.check()
    return this.inner.putSession(session, keepUntil)
  }
  async getSession(tokenHash: string) {
    this.check()
    return this.inner.getSession(tokenHash)
  }
  async deleteSession(tokenHash: string) {
    this.check()
    return this.inner.deleteSession(tokenHash)
  }
  async countLive() {
    this.check()
    return this.inner.countLive()
  }
  async listSessions(username: string) {
    this.check()
    return this.inner.listSessions(username)
  }
  stats() {
    return this.inner.stats()
  }
  close() {
    return this.inner.close()
  }
}
