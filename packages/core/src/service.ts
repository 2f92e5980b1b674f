import { LoginError, isLoginError } from './errors.js'
import { ExpiryTimers } from './expiry.js'
import {
  formatUserCode,
  isTerminal,
  toPhoneView,
  toStatusView,
  type ApprovalMethod,
  type AppRequest,
  type LoginRecord,
  type LoginStatusView,
  type Requester,
  type UserProfile,
} from './login.js'
import type {
  Accounts,
  ChangeFeed,
  Clock,
  HistoryEntry,
  HistoryStore,
  LoginStore,
  LoginStores,
  Secrets,
} from './ports.js'
import { Sessions, type MintedSession, type PcDescription, type PcSessionHolder, type SignedIn } from './sessions.js'
import { decide, expireIfDue, historyOutcome, type LoginAction } from './transitions.js'
import { OpenWatch, type Watch, type WatchHost, type WatchOptions } from './watch.js'

export type { PcDescription, PcSession, PcSessionHolder, SignedIn } from './sessions.js'
export type { Watch, WatchOptions } from './watch.js'

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
  /** How long a sign-in request stays in its user's history (default 30 days). */
  historyRetentionMs?: number
  /** REQUIRE_PASSKEY: only a confirm with a verified passkey assertion approves. */
  requirePasskey?: boolean
  /** REQUIRE_SAME_NETWORK: a confirm from a phone outside the PC's network (by this test) is refused. */
  requireSameNetwork?: (pcIp: string, phoneIp: string) => boolean
}

/** What a PC asks for beyond a login: the application it signs in to, and the account that should approve. */
export interface LoginRequest {
  app?: AppRequest
  /** login_hint: only this account's phone may scan the login. Any name is taken: none is looked up. */
  loginHint?: string
}

export interface ConfirmOptions {
  /** With number matching: the phone user's pick; a wrong one cancels the login (a phished user guesses). */
  matchCode?: string
  /** 'passkey' only once the caller has verified an assertion made for this login by this user. */
  method?: ApprovalMethod
  /** The phone's address, for REQUIRE_SAME_NETWORK. */
  phoneIp?: string
}

export interface LoginServiceDeps {
  stores: LoginStores
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

export interface CreatedLogin {
  status: LoginStatusView
  watchToken: string
  /** The code to type on the phone, as shown: BCDF-GHJK. */
  userCode: string
}

export interface ScannedLogin {
  status: LoginStatusView
  requester: Requester
  /** The application asking, when one does (OIDC). */
  app?: { name: string }
  /** With number matching: the three codes the phone offers, one of them shown on the PC. */
  matchChoices?: string[]
}

const backgroundRetryMs = 1000
const defaultHistoryRetentionMs = 30 * 24 * 3600 * 1000

export class LoginService {
  private readonly store: LoginStore
  private readonly historyStore: HistoryStore
  private readonly feed: ChangeFeed
  private readonly clock: Clock
  private readonly secrets: Secrets
  /** Who may sign in: the phone's accounts, and the profiles a login's approver is shown with. */
  readonly accounts: Accounts
  private readonly settings: LoginSettings
  private readonly reportBackgroundError: (error: unknown, context: string) => void
  private readonly onTransition: (status: LoginStatusView) => void
  private readonly expiry: ExpiryTimers
  private openWatches = 0
  private readonly watchHost: WatchHost = {
    trackExpiry: (status) => this.trackExpiry(status),
    closed: () => this.openWatches--,
  }
  /** Phone and PC sessions; the exchange mints the PC's. */
  readonly sessions: Sessions

  constructor(deps: LoginServiceDeps) {
    this.store = deps.stores.logins
    this.historyStore = deps.stores.history
    this.feed = deps.feed
    this.clock = deps.clock
    this.secrets = deps.secrets
    this.accounts = deps.accounts
    this.settings = deps.settings
    this.reportBackgroundError = deps.onBackgroundError ?? (() => {})
    this.onTransition = deps.onTransition ?? (() => {})
    this.expiry = new ExpiryTimers(this.clock, (id) => this.expireIfDue(id))
    this.sessions = new Sessions({
      store: deps.stores.sessions,
      clock: this.clock,
      secrets: this.secrets,
      accounts: this.accounts,
      sessionTtlMs: this.settings.sessionTtlMs,
    })
  }

  // ---- PC side ---------------------------------------------------------

  /** `app`: the application asking through the OpenID provider, when one is; its login can only be redeemed by it. */
  async createLogin(pc: PcDescription, { app, loginHint }: LoginRequest = {}): Promise<CreatedLogin> {
    if (this.settings.maxLiveLogins !== undefined && (await this.store.countLive()) >= this.settings.maxLiveLogins) {
      throw new LoginError('RATE_LIMITED', 'Too many logins are waiting right now; try again shortly')
    }
    const now = this.clock.now()
    const watchToken = this.secrets.token()
    for (;;) {
      const id = this.secrets.loginId()
      const userCode = await this.reserveUserCode(id, now + this.settings.qrTtlMs)
      const record: LoginRecord = {
        id,
        userCode,
        status: 'pending',
        version: 1,
        createdAt: now,
        expiresAt: now + this.settings.qrTtlMs,
        watchTokenHash: this.secrets.hash(watchToken),
        requester: { ...pc, createdAt: new Date(now).toISOString() },
        changeTimes: [now],
        ...(this.settings.matchCode ? { match: this.secrets.matchCode() } : {}),
        ...(app ? { app: { ...app } } : {}),
        ...(loginHint ? { loginHint } : {}),
      }
      if (await this.store.insert(record, this.keepUntil(record))) {
        this.expiry.arm(record.id, record.expiresAt)
        const status = toStatusView(record)
        this.onTransition(status)
        return { status, watchToken, userCode: formatUserCode(userCode) }
      }
    }
  }

  /**
   * The login a code typed on the phone belongs to, while it waits to be scanned. Any other case,
   * unknown code or a login in another state, is the same CODE_NOT_FOUND: a refusal says nothing more.
   */
  async resolveUserCode(code: string): Promise<string> {
    const id = await this.store.findByUserCode(code)
    const record = id === undefined ? undefined : await this.loadIfExists(id)
    if (!record || record.status !== 'pending') throw new LoginError('CODE_NOT_FOUND')
    return record.id
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
  async timeline(
    id: string,
    watchToken: string | undefined,
  ): Promise<{ now: number; changes: { version: number; at: number }[] }> {
    const record = await this.load(id)
    this.checkWatchToken(record, watchToken)
    return { now: this.clock.now(), changes: record.changeTimes.map((at, index) => ({ version: index + 1, at })) }
  }

  /**
   * Subscribes first and reads second, so no change made in between is lost;
   * checks the token before anything is delivered.
   */
  async watch(id: string, watchToken: string | undefined, options: WatchOptions): Promise<Watch> {
    if (options.signal?.aborted) throw new LoginError('VALIDATION_ERROR', 'The watch was aborted before it opened')
    const watch = new OpenWatch(this.watchHost, options)
    watch.subscribe(this.feed.subscribe(id, watch.deliver))
    this.openWatches++
    let current: LoginStatusView
    try {
      const record = await this.load(id)
      this.checkWatchToken(record, watchToken)
      current = toStatusView(record)
    } catch (error) {
      watch.close()
      throw error
    }
    watch.authorize(current)
    return watch
  }

  async exchange(id: string, watchToken: string | undefined, pc: PcDescription): Promise<SignedIn & PcSessionHolder> {
    this.checkWatchToken(await this.load(id), watchToken)
    // The session exists before the login is consumed, so a consumed login always has its session;
    // a lost race only leaves an unreachable one, discarded below.
    let minted: MintedSession | undefined
    try {
      const consumed = await this.transition(id, { type: 'exchange' }, async (record) => {
        minted ??= await this.sessions.mintPc(id, record.scannedBy!.username, pc, record.approvedWith ?? 'tap')
      })
      return {
        user: this.profileOf(consumed.scannedBy!),
        token: minted!.token,
        approvedWith: consumed.approvedWith ?? 'tap',
      }
    } catch (error) {
      await minted?.discard().catch((cause: unknown) => this.reportBackgroundError(cause, 'exchange cleanup'))
      throw error
    }
  }

  /**
   * Consumes a confirmed login for the application's interaction it was made for: who approved it, and
   * how. Once only, as an exchange; no session of this service is made (the provider keeps its own).
   */
  async redeemForApp(id: string, watchToken: string | undefined, interaction: string): Promise<PcSessionHolder> {
    const record = await this.load(id)
    this.checkWatchToken(record, watchToken)
    if (record.app?.interaction !== interaction)
      throw new LoginError('WATCH_TOKEN_INVALID', 'This login was not made for this sign-in request')
    const consumed = await this.transition(id, { type: 'exchange' })
    return { user: this.profileOf(consumed.scannedBy!), approvedWith: consumed.approvedWith ?? 'tap' }
  }

  // ---- Phone side --------------------------------------------------------

  async scan(id: string, user: UserProfile): Promise<ScannedLogin> {
    const record = await this.transition(id, { type: 'scan', user })
    return {
      status: toPhoneView(record),
      requester: { ...record.requester },
      ...(record.app ? { app: { name: record.app.name, ...(record.app.logo ? { logo: record.app.logo } : {}) } } : {}),
      ...(record.match ? { matchChoices: [...record.match.choices] } : {}),
    }
  }

  async confirm(id: string, user: UserProfile, options: ConfirmOptions = {}): Promise<LoginStatusView> {
    return toPhoneView(await this.transition(id, { type: 'confirm', user, ...options }))
  }

  /**
   * Throws what confirming would be refused with now, other than a missing or wrong number pick:
   * a passkey prompt is only worth showing to the user who scanned, while the login waits for them.
   */
  async checkConfirmable(id: string, user: UserProfile, phoneIp?: string): Promise<{ expiresAt: number }> {
    const record = await this.load(id)
    const action: LoginAction = { type: 'confirm', user, method: 'passkey', matchCode: record.match?.code, phoneIp }
    const decision = decide(record, action, this.clock.now(), this.settings)
    if (decision.outcome === 'refused') throw decision.error
    return { expiresAt: record.expiresAt }
  }

  async cancel(id: string, user: UserProfile): Promise<LoginStatusView> {
    return toPhoneView(await this.transition(id, { type: 'cancel', user }))
  }

  // ---- History -------------------------------------------------------------

  /**
   * A device's sign-in (the OpenID device grant) approved on this user's phone, in their history beside the
   * QR logins: the app, the device's address and system, and how it was approved. Reported, never thrown.
   */
  async recordDeviceApproval(
    user: UserProfile,
    approval: { id: string; app: string; device: { ip: string; browser: string; os: string }; method: ApprovalMethod },
  ): Promise<void> {
    const at = this.clock.now()
    const entry: HistoryEntry = {
      loginId: approval.id,
      outcome: 'approved',
      at,
      ...approval.device,
      app: approval.app,
      method: approval.method,
    }
    await this.historyStore
      .addHistory(user.username, entry, at + (this.settings.historyRetentionMs ?? defaultHistoryRetentionMs))
      .catch((error: unknown) => this.reportBackgroundError(error, 'history'))
  }

  /** A user's sign-in history, newest first: what the phone lists. */
  history(user: UserProfile): Promise<HistoryEntry[]> {
    return this.historyStore.listHistory(user.username)
  }

  // ---- Housekeeping ------------------------------------------------------------

  /** Counts of everything this instance holds, so tests can prove nothing leaks. */
  stats() {
    return {
      watches: this.openWatches,
      expiryTimers: this.expiry.size,
      feed: this.feed.stats(),
    }
  }

  /** Stops this instance's expiry timers; the stores and the feed belong to whoever gave them (their backend). */
  close(): void {
    this.expiry.clear()
  }

  // ---- Internals -----------------------------------------------------------

  /** Reads a login, first turning it into `expired` if its time has passed. */
  private async load(id: string): Promise<LoginRecord> {
    for (;;) {
      const record = await this.store.get(id)
      if (!record) throw new LoginError('QR_NOT_FOUND')
      const expired = expireIfDue(record, this.clock.now())
      if (!expired) return record
      if (await this.commit(record, expired)) {
        await this.remember(record, expired)
        return expired
      }
    }
  }

  /** The login, or undefined when there is none (a code's reservation outlives a login whose insert lost a race for its id). */
  private async loadIfExists(id: string): Promise<LoginRecord | undefined> {
    try {
      return await this.load(id)
    } catch (error) {
      if (isLoginError(error, 'QR_NOT_FOUND')) return undefined
      throw error
    }
  }

  /**
   * Load, decide (transitions.ts), compare-and-set; on a lost race decide
   * again against the winner's state. Bounded: every lost race is someone
   * else's transition, and a login has at most four. `beforeWrite` runs once
   * a write is decided, before it is made (the exchange mints its session).
   */
  private async transition(
    id: string,
    action: LoginAction,
    beforeWrite?: (record: LoginRecord) => Promise<void>,
  ): Promise<LoginRecord> {
    for (;;) {
      const record = await this.load(id)
      const decision = decide(record, action, this.clock.now(), this.settings)
      if (decision.outcome === 'refused') throw decision.error
      if (decision.outcome === 'unchanged') return record
      await beforeWrite?.(record)
      if (!(await this.commit(record, decision.record))) continue
      await this.remember(record, decision.record, 'user' in action ? action.user : undefined, decision.refusal)
      if (decision.refusal) throw decision.refusal
      return decision.record
    }
  }

  /**
   * The request's outcome in its user's history (the one who scanned, or who cancelled it unscanned):
   * written once, by whoever won the compare-and-set. A failed write is reported, never the action's failure.
   */
  private async remember(
    previous: LoginRecord,
    next: LoginRecord,
    actor?: UserProfile,
    refusal?: LoginError,
  ): Promise<void> {
    const outcome = historyOutcome(previous, next, refusal)
    const username = next.scannedBy?.username ?? actor?.username
    if (!outcome || !username) return
    const at = this.clock.now()
    const { ip, browser, os } = next.requester
    const entry: HistoryEntry = { loginId: next.id, outcome, at, ip, browser, os }
    if (next.app) entry.app = next.app.name
    if (outcome === 'approved') entry.method = next.approvedWith ?? 'tap'
    await this.historyStore
      .addHistory(username, entry, at + (this.settings.historyRetentionMs ?? defaultHistoryRetentionMs))
      .catch((error: unknown) => this.reportBackgroundError(error, 'history'))
  }

  private async commit(record: LoginRecord, proposed: LoginRecord): Promise<boolean> {
    const next = { ...proposed, changeTimes: [...record.changeTimes, this.clock.now()] }
    const written = this.store.compareAndSet(next, record.version, this.keepUntil(next))
    // The code typed on the phone finds only a login waiting to be scanned: past that, its reservation
    // would only hold memory until the QR's own lifetime ran out. Released whether this write wins or
    // not (every transition leaves pending, so the winner's would release it too), and asked for in the
    // same turn, so the embedded database commits both in one transaction, one fsync.
    if (record.status === 'pending' && next.status !== 'pending' && record.userCode)
      void this.store
        .releaseUserCode(record.userCode, record.id)
        .catch((error: unknown) => this.reportBackgroundError(error, 'user code'))
    if (!(await written)) return false
    const status = toStatusView(next)
    this.trackExpiry(status, next.expiresAt)
    this.onTransition(status)
    await this.feed
      .publish(status, next.changeTimes.at(-1)!)
      .catch((error) => this.reportBackgroundError(error, 'publish'))
    return true
  }

  /** `expiresAt` in ms when the caller has it; a status heard from the feed has only its text. */
  private trackExpiry(status: LoginStatusView, expiresAt = Date.parse(status.expiresAt)): void {
    if (isTerminal(status.status)) this.expiry.disarm(status.id)
    else this.expiry.arm(status.id, expiresAt)
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

  /** A fresh code, held for this login while it can be scanned. With 20^8 codes a clash is rare; each one draws again. */
  private async reserveUserCode(loginId: string, until: number): Promise<string> {
    for (;;) {
      const code = this.secrets.userCode()
      if (await this.store.reserveUserCode(code, loginId, until)) return code
    }
  }

  private keepUntil(record: LoginRecord): number {
    return (record.endedAt ?? record.expiresAt) + this.settings.retentionMs
  }

  private checkWatchToken(record: LoginRecord, watchToken: string | undefined): void {
    if (!watchToken) throw new LoginError('WATCH_TOKEN_REQUIRED')
    if (!this.secrets.matches(watchToken, record.watchTokenHash)) {
      throw new LoginError('WATCH_TOKEN_INVALID')
    }
  }

  private profileOf(user: UserProfile): UserProfile {
    return this.accounts.find(user.username) ?? { ...user }
  }
}
