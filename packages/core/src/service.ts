import { LoginError, isLoginError } from './errors.js'
import { ExpiryTimers } from './expiry.js'
import {
  endsWatch,
  isTerminal,
  toPhoneView,
  toStatusView,
  type LoginRecord,
  type LoginStatusView,
  type Requester,
  type UserProfile,
} from './login.js'
import type { Accounts, ChangeFeed, Clock, LoginStore, Secrets, SessionKind, SessionRecord } from './ports.js'

export interface LoginSettings {
  qrTtlMs: number
  confirmWindowMs: number
  exchangeWindowMs: number
  retentionMs: number
  sessionTtlMs: number
  /** Logins that may wait at once (not yet ended), across every instance sharing the store; more are refused with RATE_LIMITED. Unlimited when absent. */
  maxLiveLogins?: number
  /** Number matching: the phone must pick the PC's two-digit code among three; a wrong pick cancels. */
  matchCode?: boolean
}

export interface LoginServiceDeps {
  store: LoginStore
  feed: ChangeFeed
  clock: Clock
  secrets: Secrets
  accounts: Accounts
  settings: LoginSettings
  /** Failures nobody awaits (background expiry, publishing): reported, never thrown. */
  onBackgroundError?: (error: unknown, context: string) => void
  /** Every version this instance writes, creation included (for metrics); called once each, on the writing instance only. */
  onTransition?: (status: LoginStatusView) => void
}

export type PcDescription = Omit<Requester, 'createdAt'>

export interface CreatedLogin {
  status: LoginStatusView
  watchToken: string
}

export interface ScannedLogin {
  status: LoginStatusView
  requester: Requester
  /** With number matching: the three codes the phone offers, one of them shown on the PC. */
  matchChoices?: string[]
}

export interface WatchOptions {
  /** The version the watcher already has: it is not sent again. */
  since?: number
  /**
   * Called with the current status at once, then with every later one, in version order, never twice.
   * `changedAt` (ms) comes with changes heard live, so a transport can measure its delivery delay.
   */
  onStatus: (status: LoginStatusView, changedAt?: number) => void
  /** Aborting it closes the watch, as close() does. */
  signal?: AbortSignal
}

export interface Watch {
  readonly current: LoginStatusView
  /** Idempotent. A watch also closes itself after delivering a status that ends watching. */
  close(): void
}

/** A PC session as its user's phone sees it: where and when, never the secret. */
export interface PcSession {
  id: string
  ip: string
  userAgent: string
  browser: string
  os: string
  createdAt: string
  expiresAt: string
}

export interface SignedIn {
  user: UserProfile
  token: string
}

const backgroundRetryMs = 1000

export class LoginService {
  private readonly store: LoginStore
  private readonly feed: ChangeFeed
  private readonly clock: Clock
  private readonly secrets: Secrets
  private readonly accounts: Accounts
  private readonly settings: LoginSettings
  private readonly reportBackgroundError: (error: unknown, context: string) => void
  private readonly onTransition: (status: LoginStatusView) => void
  private readonly expiry: ExpiryTimers
  private openWatches = 0

  constructor(deps: LoginServiceDeps) {
    this.store = deps.store
    this.feed = deps.feed
    this.clock = deps.clock
    this.secrets = deps.secrets
    this.accounts = deps.accounts
    this.settings = deps.settings
    this.reportBackgroundError = deps.onBackgroundError ?? (() => {})
    this.onTransition = deps.onTransition ?? (() => {})
    this.expiry = new ExpiryTimers(this.clock, (id) => this.expireIfDue(id))
  }

  // ---- PC side ---------------------------------------------------------

  async createLogin(pc: PcDescription): Promise<CreatedLogin> {
    if (this.settings.maxLiveLogins !== undefined && (await this.store.countLive()) >= this.settings.maxLiveLogins) {
      throw new LoginError('RATE_LIMITED', 'Too many logins are waiting right now; try again shortly')
    }
    const now = this.clock.now()
    const watchToken = this.secrets.token()
    for (;;) {
      const record: LoginRecord = {
        id: this.secrets.loginId(),
        status: 'pending',
        version: 1,
        createdAt: now,
        expiresAt: now + this.settings.qrTtlMs,
        watchTokenHash: this.secrets.hash(watchToken),
        requester: { ...pc, createdAt: new Date(now).toISOString() },
        changeTimes: [now],
        ...(this.settings.matchCode ? { match: this.secrets.matchCode() } : {}),
      }
      if (await this.store.insert(record, this.keepUntil(record))) {
        this.expiry.arm(record.id, record.expiresAt)
        const status = toStatusView(record)
        this.onTransition(status)
        return { status, watchToken }
      }
    }
  }

  /** For what anyone who saw the QR may do (fetch its image): says only whether the login exists. */
  async assertExists(id: string): Promise<void> {
    await this.load(id)
  }

  /** Short poll. */
  async read(id: string, watchToken: string | undefined): Promise<LoginStatusView> {
    const record = await this.load(id)
    this.checkWatchToken(record, watchToken)
    return toStatusView(record)
  }

  /** When each version was written, and the server's clock now, so a client can measure change → arrival delay. */
  async timeline(id: string, watchToken: string | undefined): Promise<{ now: number; changes: { version: number; at: number }[] }> {
    const record = await this.load(id)
    this.checkWatchToken(record, watchToken)
    return { now: this.clock.now(), changes: record.changeTimes.map((at, index) => ({ version: index + 1, at })) }
  }

  /**
   * Subscribes first and reads second, so no change made in between is lost;
   * checks the token before anything is delivered.
   */
  async watch(id: string, watchToken: string | undefined, options: WatchOptions): Promise<Watch> {
    let authorized = false
    let closed = false
    let lastDelivered = 0
    let early: LoginStatusView | undefined

    const close = () => {
      if (closed) return
      closed = true
      unsubscribe()
      options.signal?.removeEventListener('abort', close)
      this.openWatches--
    }
    const deliver = (status: LoginStatusView, changedAt?: number) => {
      if (closed) return
      if (!authorized) {
        if (!early || status.version > early.version) early = status
        return
      }
      if (status.version <= lastDelivered) return
      lastDelivered = status.version
      this.trackExpiry(status)
      if (endsWatch(status.status)) close()
      options.onStatus(status, changedAt)
    }

    if (options.signal?.aborted) throw new LoginError('VALIDATION_ERROR', 'The watch was aborted before it opened')
    const unsubscribe = this.feed.subscribe(id, deliver)
    this.openWatches++
    options.signal?.addEventListener('abort', close)
    let current: LoginStatusView
    try {
      const record = await this.load(id)
      this.checkWatchToken(record, watchToken)
      current = toStatusView(record)
    } catch (error) {
      close()
      throw error
    }
    if (early && early.version > current.version) current = early
    authorized = true
    if (options.since === current.version) {
      lastDelivered = current.version
      this.trackExpiry(current)
      if (endsWatch(current.status)) close()
    } else {
      try {
        deliver(current)
      } catch (error) {
        close()
        throw error
      }
    }
    return { current, close }
  }

  /**
   * Long poll: the first status with a version above `since`, or, after
   * `waitMs` (or once `signal` aborts), the latest one unchanged.
   */
  waitForChange(
    id: string,
    watchToken: string | undefined,
    since: number,
    waitMs: number,
    signal?: AbortSignal,
    /** Told when the answer was written, if it is a change heard live (for delay metrics). */
    onAnswer?: (changedAt: number | undefined) => void,
  ): Promise<LoginStatusView> {
    return new Promise((resolve, reject) => {
      let watch: Watch | undefined
      let latest: LoginStatusView | undefined
      let latestChangedAt: number | undefined
      let due = false
      let settled = false

      const cleanUp = () => {
        settled = true
        timer.cancel()
        signal?.removeEventListener('abort', finish)
        watch?.close()
      }
      // Due before the watch is open (a status delivered while opening, a timeout, an abort):
      // answer once it is, so the answer never leaves a watch behind. One handle per held
      // request, and no AbortController of our own: thousands of these are held at once.
      function finish() {
        if (settled) return
        if (!watch) {
          due = true
          return
        }
        cleanUp()
        onAnswer?.(latestChangedAt)
        resolve(latest ?? watch.current)
      }
      const timer = this.clock.setTimer(waitMs, finish)
      if (signal?.aborted) due = true
      else signal?.addEventListener('abort', finish)

      const onStatus = (status: LoginStatusView, changedAt?: number) => {
        latest = status
        latestChangedAt = changedAt
        if (status.version > since) finish()
      }
      this.watch(id, watchToken, { since, onStatus }).then(
        (opened) => {
          watch = opened
          if (settled) return opened.close()
          if (due) finish()
        },
        (error: unknown) => {
          cleanUp()
          reject(error)
        },
      )
    })
  }

  async exchange(id: string, watchToken: string | undefined, pc: PcDescription): Promise<SignedIn> {
    this.checkWatchToken(await this.load(id), watchToken)
    // The session exists before the login is consumed, so a consumed login
    // always has its session; a lost race only leaves an unreachable one, removed below.
    const token = this.secrets.token()
    const tokenHash = this.secrets.hash(token)
    let minted: SessionRecord | undefined
    const mint = async (username: string) => {
      const now = this.clock.now()
      minted = {
        id: this.secrets.loginId(),
        tokenHash,
        kind: 'pc',
        username,
        createdAt: now,
        expiresAt: now + this.settings.sessionTtlMs,
        loginId: id,
        ...pc,
      }
      await this.store.putSession(minted, minted.expiresAt)
    }
    try {
      const consumed = await this.transition(id, async (record, now) => {
        switch (record.status) {
          case 'confirmed':
            if (!minted) await mint(record.scannedBy!.username)
            return { ...record, status: 'consumed', version: record.version + 1, endedAt: now }
          case 'pending':
          case 'scanned':
            throw new LoginError('NOT_CONFIRMED', 'The login has not been confirmed on the phone yet')
          default:
            throw this.refusal(record)
        }
      })
      return { user: this.profileOf(consumed.scannedBy!), token }
    } catch (error) {
      if (minted) await this.store.deleteSession(tokenHash).catch((cause) => this.reportBackgroundError(cause, 'exchange cleanup'))
      throw error
    }
  }

  // ---- Phone side --------------------------------------------------------

  async scan(id: string, user: UserProfile): Promise<ScannedLogin> {
    const record = await this.transition(id, (current, now) => {
      switch (current.status) {
        case 'pending':
          return {
            ...current,
            status: 'scanned',
            version: current.version + 1,
            expiresAt: Math.max(current.expiresAt, now + this.settings.confirmWindowMs),
            scannedBy: { ...user },
          }
        case 'scanned':
          if (current.scannedBy!.username === user.username) return undefined
          throw new LoginError('ALREADY_SCANNED', 'Another account has already scanned this QR code')
        case 'confirmed':
          if (current.scannedBy!.username !== user.username) {
            throw new LoginError('ALREADY_SCANNED', 'Another account has already scanned this QR code')
          }
          throw new LoginError('INVALID_TRANSITION', 'This login has already been confirmed')
        default:
          throw this.refusal(current)
      }
    })
    return {
      status: toPhoneView(record),
      requester: { ...record.requester },
      ...(record.match ? { matchChoices: [...record.match.choices] } : {}),
    }
  }

  /** With number matching, `matchCode` is the phone user's pick: a wrong one cancels the login (a phished user guesses). */
  async confirm(id: string, user: UserProfile, matchCode?: string): Promise<LoginStatusView> {
    let wrongPick = false
    const record = await this.transition(id, (current, now) => {
      wrongPick = false
      switch (current.status) {
        case 'scanned':
          this.checkScanner(current, user)
          if (current.match && matchCode === undefined) {
            throw new LoginError('VALIDATION_ERROR', 'Pick the number shown on the computer (matchCode)')
          }
          if (current.match && matchCode !== current.match.code) {
            wrongPick = true
            return { ...current, status: 'cancelled', version: current.version + 1, endedAt: now }
          }
          return { ...current, status: 'confirmed', version: current.version + 1, expiresAt: now + this.settings.exchangeWindowMs }
        case 'pending':
          throw new LoginError('NOT_SCANNED', 'Scan the QR code before confirming')
        case 'confirmed':
          this.checkScanner(current, user)
          throw new LoginError('INVALID_TRANSITION', 'This login has already been confirmed')
        default:
          throw this.refusal(current)
      }
    })
    if (wrongPick) throw new LoginError('MATCH_CODE_MISMATCH', 'That is not the number shown on the computer; the sign-in was cancelled')
    return toPhoneView(record)
  }

  async cancel(id: string, user: UserProfile): Promise<LoginStatusView> {
    const record = await this.transition(id, (current, now) => {
      switch (current.status) {
        case 'scanned':
          this.checkScanner(current, user)
          return { ...current, status: 'cancelled', version: current.version + 1, endedAt: now }
        case 'pending':
          return { ...current, status: 'cancelled', version: current.version + 1, endedAt: now }
        case 'confirmed':
          throw new LoginError('INVALID_TRANSITION', 'A confirmed login can no longer be cancelled')
        default:
          throw this.refusal(current)
      }
    })
    return toPhoneView(record)
  }

  // ---- Sessions ----------------------------------------------------------------

  listAccounts(): UserProfile[] {
    return this.accounts.list()
  }

  async signInPhone(username: string, password: string): Promise<SignedIn> {
    const user = this.accounts.verify(username, password)
    if (!user) throw new LoginError('BAD_CREDENTIALS', 'Unknown user name or wrong password')
    const token = this.secrets.token()
    const now = this.clock.now()
    const session: SessionRecord = {
      tokenHash: this.secrets.hash(token),
      kind: 'phone',
      username: user.username,
      createdAt: now,
      expiresAt: now + this.settings.sessionTtlMs,
    }
    await this.store.putSession(session, session.expiresAt)
    return { user, token }
  }

  /** The user a session token belongs to, or undefined for a missing, expired or foreign-kind token. */
  async sessionUser(kind: SessionKind, token: string | undefined): Promise<UserProfile | undefined> {
    if (!token) return undefined
    const session = await this.store.getSession(this.secrets.hash(token))
    if (!session || session.kind !== kind || session.expiresAt <= this.clock.now()) return undefined
    return this.accounts.find(session.username)
  }

  /** Ends a session of this kind; a token of another kind is left alone. */
  async endSession(kind: SessionKind, token: string | undefined): Promise<void> {
    if (!token) return
    const tokenHash = this.secrets.hash(token)
    const session = await this.store.getSession(tokenHash)
    if (session?.kind === kind) await this.store.deleteSession(tokenHash)
  }

  /** The PC sessions QR logins opened for this user, newest first: what the phone lists under "signed-in computers". */
  async listPcSessions(user: UserProfile): Promise<PcSession[]> {
    const now = this.clock.now()
    const sessions = await this.store.listSessions(user.username)
    return sessions
      .filter((session) => session.kind === 'pc' && session.id && session.expiresAt > now)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((session) => ({
        id: session.id!,
        ip: session.ip ?? '',
        userAgent: session.userAgent ?? '',
        browser: session.browser ?? '',
        os: session.os ?? '',
        createdAt: new Date(session.createdAt).toISOString(),
        expiresAt: new Date(session.expiresAt).toISOString(),
      }))
  }

  /** Ends one of this user's PC sessions: that PC is signed out at its next request. Someone else's id is not found. */
  async revokePcSession(user: UserProfile, sessionId: string): Promise<void> {
    const sessions = await this.store.listSessions(user.username)
    const session = sessions.find((each) => each.kind === 'pc' && each.id === sessionId)
    if (!session) throw new LoginError('SESSION_NOT_FOUND', 'This user has no such session')
    await this.store.deleteSession(session.tokenHash)
  }

  // ---- Housekeeping ------------------------------------------------------------

  /** Counts of everything this instance holds, so tests can prove nothing leaks. */
  stats() {
    return {
      watches: this.openWatches,
      expiryTimers: this.expiry.size,
      feed: this.feed.stats(),
      store: this.store.stats(),
    }
  }

  async close(): Promise<void> {
    this.expiry.clear()
    await this.feed.close()
    await this.store.close()
  }

  // ---- Internals -----------------------------------------------------------

  /** Reads a login, first turning it into `expired` if its time has passed. */
  private async load(id: string): Promise<LoginRecord> {
    for (;;) {
      const record = await this.store.get(id)
      if (!record) throw new LoginError('QR_NOT_FOUND', 'No QR login with this id')
      const now = this.clock.now()
      if (isTerminal(record.status) || record.expiresAt > now) return record
      const expired: LoginRecord = { ...record, status: 'expired', version: record.version + 1, endedAt: record.expiresAt }
      if (await this.commit(record, expired)) return expired
    }
  }

  /**
   * Read, decide, compare-and-set; on a lost race decide again against the
   * winner's state. Bounded: every lost race is someone else's transition,
   * and a login has at most four.
   */
  private async transition(
    id: string,
    decide: (record: LoginRecord, now: number) => LoginRecord | undefined | Promise<LoginRecord | undefined>,
  ): Promise<LoginRecord> {
    for (;;) {
      const record = await this.load(id)
      const next = await decide(record, this.clock.now())
      if (!next) return record
      if (await this.commit(record, next)) return next
    }
  }

  private async commit(record: LoginRecord, proposed: LoginRecord): Promise<boolean> {
    const next = { ...proposed, changeTimes: [...record.changeTimes, this.clock.now()] }
    if (!(await this.store.compareAndSet(next, record.version, this.keepUntil(next)))) return false
    const status = toStatusView(next)
    this.trackExpiry(status)
    this.onTransition(status)
    await this.feed.publish(status, next.changeTimes.at(-1)!).catch((error) => this.reportBackgroundError(error, 'publish'))
    return true
  }

  private trackExpiry(status: LoginStatusView): void {
    if (isTerminal(status.status)) this.expiry.disarm(status.id)
    else this.expiry.arm(status.id, Date.parse(status.expiresAt))
  }

  private async expireIfDue(id: string): Promise<void> {
    try {
      const record = await this.load(id)
      if (!isTerminal(record.status)) this.expiry.arm(id, record.expiresAt)
    } catch (error) {
      if (isLoginError(error, 'QR_NOT_FOUND')) return
      this.reportBackgroundError(error, 'expiry')
      this.expiry.arm(id, this.clock.now() + backgroundRetryMs)
    }
  }

  private keepUntil(record: LoginRecord): number {
    return (record.endedAt ?? record.expiresAt) + this.settings.retentionMs
  }

  private checkWatchToken(record: LoginRecord, watchToken: string | undefined): void {
    if (!watchToken) throw new LoginError('WATCH_TOKEN_REQUIRED', 'This login can only be read with its watch token')
    if (!this.secrets.matches(watchToken, record.watchTokenHash)) {
      throw new LoginError('WATCH_TOKEN_INVALID', 'The watch token does not belong to this login')
    }
  }

  private checkScanner(record: LoginRecord, user: UserProfile): void {
    if (record.scannedBy?.username !== user.username) {
      throw new LoginError('NOT_SCANNER', 'Only the account that scanned this QR code can do that')
    }
  }

  private refusal(record: LoginRecord): LoginError {
    switch (record.status) {
      case 'expired':
        return new LoginError('QR_EXPIRED', 'This QR code has expired')
      case 'consumed':
        return new LoginError('ALREADY_CONSUMED', 'This login has already been used')
      default:
        return new LoginError('INVALID_TRANSITION', `This login is ${record.status}`)
    }
  }

  private profileOf(user: UserProfile): UserProfile {
    return this.accounts.find(user.username) ?? { ...user }
  }
}
