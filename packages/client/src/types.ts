import type { ApprovalMethod, LoginStatus, LoginStatusView, PcSession, Requester, UserProfile } from '@qr-login/core'

export type { ApprovalMethod, LoginStatus, LoginStatusView, PcSession, Requester, UserProfile }

/** The PC's session: its user, and how the phone approved it (a tap, or a passkey with user verification). */
export interface PcSignedIn {
  user: UserProfile
  approvedWith: ApprovalMethod
}

/** WebAuthn options as the service makes them: give them to @simplewebauthn/browser as optionsJSON. */
export interface PasskeyOptionsJSON {
  challenge: string
  [field: string]: unknown
}

/** What @simplewebauthn/browser's startRegistration() or startAuthentication() resolves to. */
export interface PasskeyResponseJSON {
  id: string
  rawId: string
  type: 'public-key'
  response: object
  clientExtensionResults: object
  authenticatorAttachment?: string
}

/** One of the phone user's passkeys, as listed. */
export interface PasskeyInfo {
  id: string
  /** The browser and system it was added on. */
  label: string
  /** The host name it works on. */
  rpId: string
  backedUp: boolean
  createdAt: string
  lastUsedAt?: string
}

export interface ConfirmOptions {
  /** Number matching: the number picked from ScannedLogin.matchChoices; a wrong one cancels the login. */
  matchCode?: string
  /** The answer to passkeyOptions(id), made with user verification: approves with a passkey. */
  passkey?: PasskeyResponseJSON
}

export type TransportName = 'poll' | 'long-poll' | 'sse' | 'ws' | 'socket.io'
export type TransportChoice = TransportName | 'auto'

/**
 * `auto` tries these in order and falls back when one cannot be used. socket.io is not among them:
 * it does what `ws` does at a higher cost per watcher (docs/benchmarks.md), and needs the watch token in hand.
 */
export const autoOrder: readonly TransportName[] = ['ws', 'sse', 'long-poll', 'poll']

export interface CreatedLogin extends LoginStatusView {
  scanUrl: string
  /** Can't scan? The code to type on the phone instead: BCDF-GHJK. */
  userCode: string
  qrSvgUrl: string
  pollIntervalMs: number
  watchToken: string
  /** The account whose phone alone may scan it, when one was asked for (login_hint). */
  loginHint?: string
}

/** A sign-in request in its user's history, as the phone lists it. */
export interface HistoryItem {
  loginId: string
  outcome: 'approved' | 'cancelled' | 'expired' | 'wrong-number'
  /** ISO 8601 */
  at: string
  ip: string
  browser: string
  os: string
  app?: string
  /** For an approval: how. */
  method?: ApprovalMethod
}

/** What a watch needs to know of a login. */
export interface LoginHandle {
  id: string
  watchToken?: string
  pollIntervalMs?: number
}

export interface ScannedLogin extends LoginStatusView {
  requester: Requester
  /** The application asking through the OpenID provider, when one is. */
  app?: { name: string; logo?: string }
  /** Where the phone is, next to the PC's address: warn when they are not one network. */
  network?: { phoneIp: string; sameNetwork: boolean }
  /** Number matching (MATCH_CODE=1): pass the one the computer shows to confirm(). */
  matchChoices?: string[]
}

/** What each transport costs, reported as it happens (the pages' transport inspector listens to this). */
export type TrafficEvent =
  | { type: 'transport'; transport: TransportName }
  | { type: 'request'; transport: TransportName }
  | { type: 'bytes'; transport: TransportName; bytes: number }
  | { type: 'status'; transport: TransportName; status: LoginStatusView; receivedAt: number }
  | { type: 'retry'; transport: TransportName; delayMs: number; error: Error }
  | { type: 'fallback'; from: TransportName; to: TransportName; error: Error }

/** The part of a WebSocket the SDK uses: the browser's own, or the `ws` package's in Node. */
export interface WebSocketLike {
  readonly readyState: number
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  close(code?: number, reason?: string): void
}

/** socket.io's ways in: its long-polling handshake upgraded to WebSocket (its default), or WebSocket only. */
export type SocketIoTransports = ('polling' | 'websocket')[]

/** Opens a WebSocket; `headers` can only be honoured outside browsers (browsers send the qr_watch cookie instead). */
export type WebSocketFactory = (url: string, headers: Record<string, string>) => WebSocketLike

export function endsWatch(status: LoginStatus): boolean {
  return status === 'confirmed' || status === 'consumed' || status === 'cancelled' || status === 'expired'
}
