import type { ApprovalMethod, LoginRecord, LoginStatusView, UserProfile } from './login.js'

/**
 * Persistence of logins and the user codes typed for them. Every write names the moment after which
 * the entry may be forgotten, so no store ever fills with dead logins.
 * Implementations throw LoginError('STORE_UNAVAILABLE') when they cannot answer,
 * and never leave a half-written entry behind.
 */
export interface LoginStore {
  /** false when the id is taken (never overwrites). */
  insert(record: LoginRecord, keepUntil: number): Promise<boolean>
  /**
   * Claims a user code (the one typed on the phone) for a login until `keepUntil`; false when another
   * login holds it. Separate from insert, so each write touches one key (one Redis Cluster slot).
   */
  reserveUserCode(code: string, loginId: string, keepUntil: number): Promise<boolean>
  /** The login a user code was reserved for, while the reservation lasts. */
  findByUserCode(code: string): Promise<string | undefined>
  /**
   * Ends a reservation early, when its login is no longer waiting to be scanned (a code then finds
   * nothing anyway); a code since reserved by another login is left alone.
   */
  releaseUserCode(code: string, loginId: string): Promise<void>
  get(id: string): Promise<LoginRecord | undefined>
  /** Atomic compare-and-set on `version`: exactly one of racing writers of the same version wins. */
  compareAndSet(next: LoginRecord, expectedVersion: number, keepUntil: number): Promise<boolean>
  /**
   * Logins not yet ended, across every instance sharing the store: counted from insert until a
   * compare-and-set to a terminal status (a store may also stop once expiresAt has passed).
   * What MAX_LIVE_LOGINS caps; approximate under races by design (a cap, not a ledger).
   */
  countLive(): Promise<number>
  /** Logins held and timers running in this process, where the adapter can count them (not Redis: nothing is held here). */
  stats?(): { logins: number; timers: number }
}

/** Signed-in PC and phone sessions, by the hash of their token. Throws LoginError('STORE_UNAVAILABLE'). */
export interface SessionStore {
  putSession(session: SessionRecord, keepUntil: number): Promise<void>
  getSession(tokenHash: string): Promise<SessionRecord | undefined>
  deleteSession(tokenHash: string): Promise<void>
  /** Every live session of this user, of either kind (a phone lists and revokes its user's PC sessions). */
  listSessions(username: string): Promise<SessionRecord[]>
  /** Sessions held and timers running in this process, where the adapter can count them. */
  stats?(): { sessions: number; timers: number }
}

/** Each user's sign-in history, as the phone lists it. Throws LoginError('STORE_UNAVAILABLE'). */
export interface HistoryStore {
  /** Adds to a user's sign-in history, kept until `keepUntil`; the store keeps the newest historyLimit entries. */
  addHistory(username: string, entry: HistoryEntry, keepUntil: number): Promise<void>
  /** The user's history still kept, newest first. */
  listHistory(username: string): Promise<HistoryEntry[]>
}

/** The three stores a LoginService reads and writes. */
export interface LoginStores {
  logins: LoginStore
  sessions: SessionStore
  history: HistoryStore
}

/**
 * The OpenID provider's signing keys: one key set (JSON), made once and then kept for good, so
 * tokens verify across restarts and across instances. Throws LoginError('STORE_UNAVAILABLE').
 */
export interface KeyStore {
  /** The kept key set; undefined while none is kept. */
  read(): Promise<string | undefined>
  /** Keeps `keys` unless a key set is kept already; resolves to the one kept: of racing writers, the first one's. */
  keepFirst(keys: string): Promise<string>
}

/**
 * Everything one kind of storage holds, chosen once (STORE) and owning its connections: the stores,
 * the change feed that carries status changes between instances, and the signing keys.
 */
export interface Backend extends LoginStores {
  readonly name: 'memory' | 'sqlite' | 'redis'
  passkeys: PasskeyStore
  oidc: OidcArtefactStore
  keys: KeyStore
  feed: ChangeFeed
  /** Resolves once the storage has answered a round trip (what /readyz asks); STORE_UNAVAILABLE when it cannot. */
  ping(): Promise<void>
  /** Ends the feed and every store, and closes the connections or files they share; once. */
  close(): Promise<void>
}

export type SessionKind = 'pc' | 'phone'

/** How far back a user's history goes, in entries: what the phone shows. */
export const historyLimit = 50

/** One sign-in request as its user's phone remembers it: what happened, where, when. */
export interface HistoryEntry {
  loginId: string
  outcome: 'approved' | 'cancelled' | 'expired' | 'wrong-number'
  /** When it happened (ms). */
  at: number
  ip: string
  browser: string
  os: string
  /** The application that asked, when one did (OIDC). */
  app?: string
  /** For an approval: tap or passkey. */
  method?: ApprovalMethod
}

export interface SessionRecord {
  /** A public handle (never the secret): how a phone names a PC session it revokes. */
  id?: string
  tokenHash: string
  kind: SessionKind
  username: string
  createdAt: number
  expiresAt: number
  /** The QR login a PC session was minted from, and the PC it was minted for. */
  loginId?: string
  ip?: string
  userAgent?: string
  browser?: string
  os?: string
  /** A PC session: how the phone approved the login it was minted from. */
  approvedWith?: ApprovalMethod
}

/** A WebAuthn credential a phone user added: everything needed to verify its later assertions. */
export interface StoredPasskey {
  /** The credential id, base64url: unique across every user. */
  id: string
  /** The COSE public key, base64url. */
  publicKey: string
  /** The authenticator's signature counter at its last verified use (0 for authenticators that keep none). */
  counter: number
  transports?: string[]
  /** The relying party (host name) it was made for: a passkey only works where it was added. */
  rpId: string
  deviceType: 'singleDevice' | 'multiDevice'
  backedUp: boolean
  /** What the user sees in the list: the browser and system it was added on. */
  label: string
  createdAt: number
  lastUsedAt?: number
}

export type AddPasskeyResult = 'added' | 'taken' | 'full'

/**
 * Passkeys and the one-time WebAuthn challenges that prove them. Passkeys are account data and are
 * kept until removed; each challenge is kept until its time and handed out at most once.
 * Implementations throw LoginError('STORE_UNAVAILABLE') when they cannot answer.
 */
export interface PasskeyStore {
  /** 'taken' when the credential id is already registered (to anyone), 'full' when the user has maxPerUser. */
  addPasskey(username: string, passkey: StoredPasskey, maxPerUser: number): Promise<AddPasskeyResult>
  /** Oldest first. */
  listPasskeys(username: string): Promise<StoredPasskey[]>
  /** Records a verified assertion's counter and time; false when the passkey is gone. */
  recordPasskeyUse(username: string, id: string, counter: number, at: number): Promise<boolean>
  /** false when the user has no such passkey. */
  removePasskey(username: string, id: string): Promise<boolean>
  /** Replaces whatever challenge is kept under `key`. */
  putChallenge(key: string, challenge: string, keepUntil: number): Promise<void>
  /** The challenge kept under `key`, removed as it is read: of racing takers, one gets it. */
  takeChallenge(key: string): Promise<string | undefined>
  /** Entries held and timers running in this process, where the adapter can count them. */
  stats?(): { passkeys: number; challenges: number; timers: number }
}

/** What an OIDC provider stores: one artefact (an interaction, a code, a session, a grant, a token…) by kind and id. */
export type OidcPayload = Record<string, unknown>

/**
 * The OpenID provider's artefacts, each kept until its own expiry. The shape oidc-provider's adapter
 * interface asks for, without oidc-provider: indexes by grant (revoking a grant revokes its tokens),
 * by device user code and by session uid are kept by the store. Throws LoginError('STORE_UNAVAILABLE').
 */
export interface OidcArtefactStore {
  /** Writes (or rewrites) an artefact; `expiresInSeconds` undefined: kept until destroyed. */
  upsert(kind: string, id: string, payload: OidcPayload, expiresInSeconds?: number): Promise<void>
  /** The artefact, with `consumed` (a time in seconds) once consumed; undefined once gone. */
  find(kind: string, id: string): Promise<OidcPayload | undefined>
  findByUserCode(kind: string, userCode: string): Promise<OidcPayload | undefined>
  findByUid(kind: string, uid: string): Promise<OidcPayload | undefined>
  /** Marks it consumed (a code used once): kept, so a second use is seen and refused. */
  consume(kind: string, id: string): Promise<void>
  destroy(kind: string, id: string): Promise<void>
  /** Destroys every artefact of the grant (codes, tokens, device codes). */
  revokeByGrantId(grantId: string): Promise<void>
  /** Entries held and timers running in this process, where the adapter can count them. */
  stats?(): { artefacts: number; timers: number }
}

/** Kinds whose artefacts belong to a grant: revoking the grant destroys them. */
export const grantBoundKinds: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
])

/** `changedAt`: when the change was written (ms), for measuring change → delivery delay; absent on re-reads. */
export type StatusListener = (status: LoginStatusView, changedAt?: number) => void

/** Fan-out of status changes to every watcher of a login, on this instance or any other. */
export interface ChangeFeed {
  publish(status: LoginStatusView, changedAt: number): Promise<void>
  /** The listener hears every change published after this call returns. */
  subscribe(id: string, listener: StatusListener): () => void
  /**
   * Number of logins with at least one local listener, and of listeners; a feed between processes also
   * counts the status messages it has heard since it started (what each change costs in messages).
   */
  stats(): { channels: number; listeners: number; messages?: number }
  close(): Promise<void>
}

export interface TimerHandle {
  cancel(): void
}

/** Time is injected so tests move it by hand instead of sleeping. */
export interface Clock {
  now(): number
  /** Calls `fn` once `delayMs` has passed (on this clock). */
  setTimer(delayMs: number, fn: () => void | Promise<void>): TimerHandle
}

/** Where ids and secrets come from: a cryptographic source in production, a script in tests. */
export interface Secrets {
  /** A 21-character nanoid. */
  loginId(): string
  /** A fresh secret of at least 128 bits, URL-safe. */
  token(): string
  /** A one-way hash of a secret: the only form a store ever holds. */
  hash(secret: string): string
  /** Constant-time comparison of a presented secret with a stored hash. */
  matches(secret: string, hash: string): boolean
  /** Number matching: a random two-digit code, and it with two other codes in random order. */
  matchCode(): { code: string; choices: string[] }
  /** A code to type on the phone: 8 letters of userCodeAlphabet (RFC 8628 §6.1), without the dash. */
  userCode(): string
}

/**
 * Who may sign in on the phone: the account port. This project ships two adapters, the demo
 * accounts (the default) and a users file (USERS_FILE, scrypt hashes); a deployment plugs in its
 * own directory (LDAP, a database, another identity provider) by implementing these three.
 */
export interface Accounts {
  /** The account, when the password is right; undefined otherwise (never saying which part was wrong). */
  verify(username: string, password: string): Promise<UserProfile | undefined>
  /** Look-up by user name, for sessions and the OpenID provider's claims. */
  find(username: string): UserProfile | undefined
  /** The accounts the phone may offer as quick picks (the demo ones); empty for a real directory. */
  list(): UserProfile[]
}
