import { sendJson, type HttpOptions } from './http.js'
import type {
  ConfirmOptions,
  CreatedLogin,
  HistoryItem,
  LoginHandle,
  LoginStatusView,
  PasskeyInfo,
  PasskeyOptionsJSON,
  PasskeyAssertionJSON,
  PasskeyRegistrationJSON,
  PcSession,
  PcSignedIn,
  ScannedLogin,
  UserProfile,
  WebSocketFactory,
} from './types.js'
import { watchLogin, type WatchOptions } from './watch.js'

export interface ClientOptions {
  /** The service's base URL; '' (the default) means the page's own origin. */
  baseUrl?: string
  /** Defaults to the global fetch. */
  fetch?: typeof fetch
  /**
   * Defaults to the global WebSocket, which sends no headers: in a browser the qr_watch cookie carries
   * the watch token. In Node pass `nodeWebSocket` (from `@qr-login/client/node`), which sends it as a
   * bearer header; without it the upgrade is refused and `auto` falls back to SSE.
   */
  webSocket?: WebSocketFactory
  /** Extra headers on every HTTP request (Node: a User-Agent, say). */
  headers?: Record<string, string>
}

function defaultWebSocket(): WebSocketFactory | undefined {
  const Native = (globalThis as { WebSocket?: new (url: string) => ReturnType<WebSocketFactory> }).WebSocket
  return Native ? (url) => new Native(url) : undefined
}

const loginPath = (id: string) => `/api/qr/${encodeURIComponent(id)}`

/**
 * The PC side of a QR login: create, watch, exchange, and the session it yields.
 * Everything a login page or an automated login-flow test needs.
 */
export class QrLoginClient {
  readonly http: HttpOptions
  readonly webSocket?: WebSocketFactory

  constructor(options: ClientOptions = {}) {
    this.http = {
      baseUrl: options.baseUrl ?? '',
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      headers: options.headers ?? {},
    }
    this.webSocket = options.webSocket ?? defaultWebSocket()
  }

  /** `path`: where to create it, when not POST /api/qr (the OpenID provider's sign-in page creates its own). */
  /**
   * `loginHint`: only that account's phone may scan the login (any other gets 403 WRONG_ACCOUNT); at most
   * 64 characters. `path`: another endpoint that creates one (an application's QR page).
   */
  createLogin(options: { path?: string; loginHint?: string } = {}): Promise<CreatedLogin> {
    return sendJson(this.http, options.path ?? '/api/qr', {
      method: 'POST',
      ...(options.loginHint ? { body: JSON.stringify({ loginHint: options.loginHint }) } : {}),
    })
  }

  /** One read of the status (a short poll). */
  status(login: LoginHandle): Promise<LoginStatusView> {
    return sendJson(this.http, loginPath(login.id), { token: login.watchToken })
  }

  /** Every status in order until one that ends watching; see WatchOptions for transports and resumption. */
  watch(login: LoginHandle, options: WatchOptions = {}): AsyncGenerator<LoginStatusView> {
    return watchLogin({ http: this.http, webSocket: this.webSocket }, login, options)
  }

  /** Waits for the login to end; resolves with its last status. */
  async waitForEnd(login: LoginHandle, options: WatchOptions = {}): Promise<LoginStatusView> {
    let last: LoginStatusView | undefined
    for await (const status of this.watch(login, options)) last = status
    if (!last) throw new Error('The watch ended without a status')
    return last
  }

  /** Trades a confirmed login for this browser's own session (the `sid` cookie). */
  exchange(login: LoginHandle): Promise<PcSignedIn> {
    return sendJson(this.http, `${loginPath(login.id)}/exchange`, { method: 'POST', token: login.watchToken })
  }

  /** Who this browser is signed in as, and how the phone approved it. */
  me(): Promise<PcSignedIn> {
    return sendJson(this.http, '/api/me')
  }

  logout(): Promise<void> {
    return sendJson(this.http, '/api/logout', { method: 'POST' })
  }

  demoUsers(): Promise<UserProfile[]> {
    return sendJson(this.http, '/api/demo-users')
  }

  /** Signs a phone in; the returned PhoneClient acts as that user. */
  async signInPhone(username: string, password: string): Promise<PhoneClient> {
    const { user, token } = await sendJson<{ user: UserProfile; token: string }>(this.http, '/api/mobile/session', {
      method: 'POST',
      body: JSON.stringify({ username, password }),
    })
    return new PhoneClient(this.http, user, token)
  }

  /** A phone that is already signed in: by its token, or (in the phone page) by its m_session cookie. */
  phone(token?: string): PhoneClient {
    return new PhoneClient(this.http, undefined, token)
  }
}

/** The phone side: scan, confirm, cancel, as the signed-in user. */
export class PhoneClient {
  constructor(
    private readonly http: HttpOptions,
    readonly user: UserProfile | undefined,
    /** Sent as a bearer token; without it the browser's m_session cookie is used. */
    readonly token: string | undefined,
  ) {}

  me(): Promise<{ user: UserProfile }> {
    return sendJson(this.http, '/api/mobile/me', { token: this.token })
  }

  /** Can't scan? The login a code typed on the phone belongs to (case, spaces and dashes ignored); then scan its id. */
  /** A device's code (OpenID device flow) has no `id`: its `scanUrl` is the device's confirm screen, for a browser. */
  resolveCode(code: string): Promise<{ id?: string; scanUrl: string }> {
    return sendJson(this.http, '/api/mobile/code', {
      method: 'POST',
      token: this.token,
      body: JSON.stringify({ code }),
    })
  }

  scan(id: string): Promise<ScannedLogin> {
    return sendJson(this.http, `${loginPath(id)}/scan`, { method: 'POST', token: this.token })
  }

  /**
   * Approves. A string is the number picked (number matching: a wrong one cancels the login); the
   * options form also takes a passkey's answer to passkeyOptions(id).
   */
  confirm(id: string, options?: string | ConfirmOptions): Promise<LoginStatusView> {
    const body = typeof options === 'string' ? { matchCode: options } : options
    return sendJson(this.http, `${loginPath(id)}/confirm`, {
      method: 'POST',
      token: this.token,
      ...(body && Object.keys(body).length > 0 ? { body: JSON.stringify(body) } : {}),
    })
  }

  /** A passkey prompt for approving this scanned login: pass it to @simplewebauthn/browser startAuthentication(). */
  passkeyOptions(id: string): Promise<PasskeyOptionsJSON> {
    return sendJson(this.http, `${loginPath(id)}/passkey-options`, { method: 'POST', token: this.token })
  }

  /** A passkey prompt for approving a device's sign-in (the OpenID device grant), by the code it shows. */
  devicePasskeyOptions(userCode: string): Promise<PasskeyOptionsJSON> {
    return sendJson(this.http, '/api/mobile/device/passkey-options', {
      method: 'POST',
      token: this.token,
      body: JSON.stringify({ userCode }),
    })
  }

  /** Answers it: the device's confirm, submitted next, then counts as approved with a passkey. */
  async approveDeviceWithPasskey(userCode: string, passkey: PasskeyAssertionJSON): Promise<void> {
    await sendJson(this.http, '/api/mobile/device/passkey', {
      method: 'POST',
      token: this.token,
      body: JSON.stringify({ userCode, passkey }),
    })
  }

  /** This user's passkeys, oldest first. */
  async passkeys(): Promise<PasskeyInfo[]> {
    return (await sendJson<{ passkeys: PasskeyInfo[] }>(this.http, '/api/mobile/passkeys', { token: this.token }))
      .passkeys
  }

  /** A prompt to add a passkey: pass it to @simplewebauthn/browser startRegistration(), then to addPasskey(). */
  passkeyRegistrationOptions(): Promise<PasskeyOptionsJSON> {
    return sendJson(this.http, '/api/mobile/passkeys/options', { method: 'POST', token: this.token })
  }

  async addPasskey(registration: PasskeyRegistrationJSON): Promise<PasskeyInfo> {
    const { passkey } = await sendJson<{ passkey: PasskeyInfo }>(this.http, '/api/mobile/passkeys', {
      method: 'POST',
      token: this.token,
      body: JSON.stringify(registration),
    })
    return passkey
  }

  async removePasskey(passkeyId: string): Promise<void> {
    await sendJson(this.http, `/api/mobile/passkeys/${encodeURIComponent(passkeyId)}`, {
      method: 'DELETE',
      token: this.token,
    })
  }

  /** The computers QR logins signed in for this user, newest first. */
  async sessions(): Promise<PcSession[]> {
    return (await sendJson<{ sessions: PcSession[] }>(this.http, '/api/mobile/sessions', { token: this.token }))
      .sessions
  }

  /** This user's recent sign-in requests, newest first: approved, cancelled, expired or a wrong number picked. */
  async history(): Promise<HistoryItem[]> {
    return (await sendJson<{ entries: HistoryItem[] }>(this.http, '/api/mobile/history', { token: this.token })).entries
  }

  /** Signs that computer out. */
  async revokeSession(sessionId: string): Promise<void> {
    await sendJson(this.http, `/api/mobile/sessions/${encodeURIComponent(sessionId)}`, {
      method: 'DELETE',
      token: this.token,
    })
  }

  cancel(id: string): Promise<LoginStatusView> {
    return sendJson(this.http, `${loginPath(id)}/cancel`, { method: 'POST', token: this.token })
  }
}

/** The login id and the service's base URL inside a scan URL (`<base>/m/<id>`). */
export function parseScanUrl(scanUrl: string): { baseUrl: string; id: string } {
  const url = new URL(scanUrl)
  const match = /^(.*)\/m\/([A-Za-z0-9_-]{21})\/?$/.exec(url.pathname)
  if (!match) throw new Error(`Not a QR login scan URL: ${scanUrl}`)
  return { baseUrl: url.origin + match[1], id: match[2] }
}
