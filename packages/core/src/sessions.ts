import { LoginError } from './errors.js'
import type { ApprovalMethod, Requester, UserProfile } from './login.js'
import type { Accounts, Clock, Secrets, SessionKind, SessionRecord, SessionStore } from './ports.js'

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

/** A PC session's user, and how the phone approved the login it was minted from. */
export interface PcSessionHolder {
  user: UserProfile
  approvedWith: ApprovalMethod
}

export type PcDescription = Omit<Requester, 'createdAt'>

export interface SessionDeps {
  store: SessionStore
  clock: Clock
  secrets: Secrets
  accounts: Accounts
  sessionTtlMs: number
}

/** A PC session minted for an exchange, before the login is consumed: discarded if the exchange loses. */
export interface MintedSession {
  token: string
  discard(): Promise<void>
}

/**
 * Phone and PC sessions: signing the phone in, minting the PC's session when
 * a login is exchanged, who a token belongs to, and the phone's list of the
 * computers it signed in. The store keeps only hashes of their tokens.
 */
export class Sessions {
  constructor(private readonly deps: SessionDeps) {}

  async signInPhone(username: string, password: string): Promise<SignedIn> {
    const user = await this.deps.accounts.verify(username, password)
    if (!user) throw new LoginError('BAD_CREDENTIALS')
    const token = this.deps.secrets.token()
    const now = this.deps.clock.now()
    await this.put({
      tokenHash: this.deps.secrets.hash(token),
      kind: 'phone',
      username: user.username,
      createdAt: now,
      expiresAt: now + this.deps.sessionTtlMs,
    })
    return { user, token }
  }

  async mintPc(
    loginId: string,
    username: string,
    pc: PcDescription,
    approvedWith: ApprovalMethod,
  ): Promise<MintedSession> {
    const token = this.deps.secrets.token()
    const tokenHash = this.deps.secrets.hash(token)
    const now = this.deps.clock.now()
    await this.put({
      id: this.deps.secrets.loginId(),
      tokenHash,
      kind: 'pc',
      username,
      createdAt: now,
      expiresAt: now + this.deps.sessionTtlMs,
      loginId,
      ...pc,
      approvedWith,
    })
    return { token, discard: () => this.deps.store.deleteSession(tokenHash) }
  }

  /** The user a session token belongs to, or undefined for a missing, expired or foreign-kind token. */
  async user(kind: SessionKind, token: string | undefined): Promise<UserProfile | undefined> {
    const session = await this.live(kind, token)
    return session && this.deps.accounts.find(session.username)
  }

  /** As user('pc'), with how the session's login was approved. */
  async pc(token: string | undefined): Promise<PcSessionHolder | undefined> {
    const session = await this.live('pc', token)
    const user = session && this.deps.accounts.find(session.username)
    return user && { user, approvedWith: session.approvedWith ?? 'tap' }
  }

  private async live(kind: SessionKind, token: string | undefined): Promise<SessionRecord | undefined> {
    if (!token) return undefined
    const session = await this.deps.store.getSession(this.deps.secrets.hash(token))
    if (!session || session.kind !== kind || session.expiresAt <= this.deps.clock.now()) return undefined
    return session
  }

  /** Ends a session of this kind; a token of another kind is left alone. */
  async end(kind: SessionKind, token: string | undefined): Promise<void> {
    if (!token) return
    const tokenHash = this.deps.secrets.hash(token)
    const session = await this.deps.store.getSession(tokenHash)
    if (session?.kind === kind) await this.deps.store.deleteSession(tokenHash)
  }

  /** The PC sessions QR logins opened for this user, newest first: what the phone lists under "signed-in computers". */
  async listPc(user: UserProfile): Promise<PcSession[]> {
    const now = this.deps.clock.now()
    const sessions = await this.deps.store.listSessions(user.username)
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
  async revokePc(user: UserProfile, sessionId: string): Promise<void> {
    const sessions = await this.deps.store.listSessions(user.username)
    const session = sessions.find((each) => each.kind === 'pc' && each.id === sessionId)
    if (!session) throw new LoginError('SESSION_NOT_FOUND')
    await this.deps.store.deleteSession(session.tokenHash)
  }

  private put(session: SessionRecord): Promise<void> {
    return this.deps.store.putSession(session, session.expiresAt)
  }
}
