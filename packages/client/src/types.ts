import type {
  ApprovalMethod,
  ConfirmBody,
  CreatedLogin,
  HistoryEntry,
  LoginStatusView,
  Passkey,
  PasskeyAssertion,
  PasskeyAttestation,
  PasskeyOptions,
  PcSession,
  PcSignedIn,
  Requester,
  ScanResult,
  User,
} from '@qr-login/wire'

// What the service sends and takes: the wire package's types, made from the schemas the server uses.
export type { ApprovalMethod, CreatedLogin, LoginStatusView, PcSession, PcSignedIn, Requester }
export type LoginStatus = LoginStatusView['status']
export type UserProfile = User
/** What a phone learns by scanning: who asks (browser, system, address), for which app, and the number choices. */
export type ScannedLogin = ScanResult
/** One of the phone user's passkeys, as listed. */
export type PasskeyInfo = Passkey
/** A sign-in request in its user's history, as the phone lists it. */
export type HistoryItem = HistoryEntry
/** WebAuthn options as the service makes them: give them to @simplewebauthn/browser as optionsJSON. */
export type PasskeyOptionsJSON = PasskeyOptions & Record<string, unknown>
/** What @simplewebauthn/browser's startAuthentication() resolves to: the answer to a passkey prompt. */
export type PasskeyAssertionJSON = PasskeyAssertion
/** What @simplewebauthn/browser's startRegistration() resolves to: a new passkey. */
export type PasskeyRegistrationJSON = PasskeyAttestation
/** Either of the two. */
export type PasskeyResponseJSON = PasskeyAssertionJSON | PasskeyRegistrationJSON
/** Number matching's pick, or a passkey's answer (made with user verification): how confirm() approves. */
export type ConfirmOptions = NonNullable<ConfirmBody>

export type TransportName = 'poll' | 'long-poll' | 'sse' | 'ws' | 'socket.io'
export type TransportChoice = TransportName | 'auto'

/**
 * `auto` tries these in order and falls back when one cannot be used. socket.io is not among them:
 * it does what `ws` does at a higher cost per watcher (docs/benchmarks.md), and needs the watch token in hand.
 */
export const autoOrder: readonly TransportName[] = ['ws', 'sse', 'long-poll', 'poll']

/** What a watch needs to know of a login. */
export interface LoginHandle {
  id: string
  watchToken?: string
  pollIntervalMs?: number
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
