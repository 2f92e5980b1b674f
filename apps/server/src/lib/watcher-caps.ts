/**
 * Counts this instance's held watchers (SSE streams, WebSockets, long polls)
 * per login and per client IP, so one client cannot hold every socket.
 */
export class WatcherCaps {
  private readonly byLogin = new Map<string, number>()
  private readonly byIp = new Map<string, number>()

  constructor(
    private readonly perLogin: number,
    private readonly perIp: number,
  ) {}

  /** The release to call when the watcher ends (idempotent), or why it is refused. */
  admit(loginId: string, ip: string): (() => void) | string {
    if ((this.byLogin.get(loginId) ?? 0) >= this.perLogin) return `At most ${this.perLogin} open watchers per login`
    if ((this.byIp.get(ip) ?? 0) >= this.perIp) return `At most ${this.perIp} open watchers per client address`
    increment(this.byLogin, loginId, 1)
    increment(this.byIp, ip, 1)
    let released = false
    return () => {
      if (released) return
      released = true
      increment(this.byLogin, loginId, -1)
      increment(this.byIp, ip, -1)
    }
  }

  get size(): { logins: number; ips: number } {
    return { logins: this.byLogin.size, ips: this.byIp.size }
  }
}

function increment(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by
  if (next <= 0) counts.delete(key)
  else counts.set(key, next)
}
