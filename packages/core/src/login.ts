/** The QR login record, its states and the public status view every transport sends (its schema: status.ts). */

import type { LoginStatus, LoginStatusView } from './status.js'

// The states are the status view's (status.ts): one module owns them, and this one only imports it.
export { loginStatuses, type LoginStatus, type LoginStatusView } from './status.js'

/** How the phone user approved a sign-in: one tap on a signed-in phone, or a passkey with user verification. */
export const approvalMethods = ['tap', 'passkey'] as const
export type ApprovalMethod = (typeof approvalMethods)[number]

/** A person as the rest of the world may see them: nothing more than these fields ever leaves the core. */
export interface UserProfile {
  username: string
  displayName: string
  avatarUrl: string
}

/** The PC that asked to sign in, shown to the phone before it approves. */
export interface Requester {
  ip: string
  userAgent: string
  browser: string
  os: string
  createdAt: string
}

export interface LoginRecord {
  id: string
  status: LoginStatus
  version: number
  createdAt: number
  expiresAt: number
  /** When the login reached a terminal state; retention counts from here. */
  endedAt?: number
  /** Only a hash: whoever reads the store cannot watch or exchange. */
  watchTokenHash: string
  requester: Requester
  scannedBy?: UserProfile
  /** When each version was written (index 0 is version 1): lets a client measure change → arrival delay. */
  changeTimes: number[]
  /** Number matching (optional): the PC shows `code`, the phone must pick it among `choices`. */
  match?: { code: string; choices: string[] }
  /** The code to type on the phone when scanning is impossible: 8 letters, stored without the dash. */
  userCode?: string
  /** How it was approved, once confirmed: the PC session it becomes records it. */
  approvedWith?: ApprovalMethod
  /** The application that asked (an OIDC client) and the authorization it answers; absent for a sign-in to this service. */
  app?: AppRequest
  /** login_hint: the only account whose phone may scan (or cancel) this login, as the PC asked; any other is refused. */
  loginHint?: string
}

/** Whether a user is the one a login_hint names: user names compare without regard to case. */
export function isHintedAccount(loginHint: string | undefined, username: string): boolean {
  return loginHint === undefined || loginHint.toLowerCase() === username.toLowerCase()
}

/** A sign-in asked for by another application through the OpenID provider. */
export interface AppRequest {
  clientId: string
  /** Its client_name, as the phone shows it: "Acme Notes wants you to sign in". */
  name: string
  /** The provider's interaction this login answers: only that interaction may redeem it. */
  interaction: string
  /** Where the phone finds the app's logo (a path on this service), when it has one. */
  logo?: string
}

const terminalStatuses: ReadonlySet<LoginStatus> = new Set(['consumed', 'cancelled', 'expired'])

export function isTerminal(status: LoginStatus): boolean {
  return terminalStatuses.has(status)
}

/** Watch streams close after sending one of these: nothing a PC waits for can follow. */
export function endsWatch(status: LoginStatus): boolean {
  return status === 'confirmed' || isTerminal(status)
}

export function toStatusView(record: LoginRecord, forPhone = false): LoginStatusView {
  const view: LoginStatusView = {
    id: record.id,
    status: record.status,
    version: record.version,
    expiresAt: new Date(record.expiresAt).toISOString(),
  }
  if (record.scannedBy) {
    view.scannedBy = { displayName: record.scannedBy.displayName, avatarUrl: record.scannedBy.avatarUrl }
  }
  if (!forPhone && record.match && (record.status === 'pending' || record.status === 'scanned'))
    view.matchCode = record.match.code
  return view
}

/** The status as the phone may see it: without the code it must find on the PC's screen. */
export function toPhoneView(record: LoginRecord): LoginStatusView {
  return toStatusView(record, true)
}

export const loginIdPattern = '^[A-Za-z0-9_-]{21}$'
const loginIdRegExp = new RegExp(loginIdPattern)

export function isLoginId(value: unknown): value is string {
  return typeof value === 'string' && loginIdRegExp.test(value)
}

/** RFC 8628 §6.1: consonants only (no vowels, so no words), and no look-alike letters or digits. */
export const userCodeAlphabet = 'BCDFGHJKLMNPQRSTVWXZ'
const userCodeRegExp = new RegExp(`^[${userCodeAlphabet}]{8}$`)

/** What a person typed, as the code: case, spaces and dashes do not matter. Undefined when it cannot be one. */
export function normalizeUserCode(typed: string): string | undefined {
  const code = typed.toUpperCase().replace(/[\s-]+/g, '')
  return userCodeRegExp.test(code) ? code : undefined
}

/** As people read it: BCDF-GHJK. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`
}
