import { LoginError, type ErrorCode } from './errors.js'
import { isHintedAccount, isTerminal, type ApprovalMethod, type LoginRecord, type UserProfile } from './login.js'
import type { HistoryEntry } from './ports.js'

/**
 * The state machine's rules as pure functions of (state, action, time): no
 * clock, no store, no ids. The service loads, asks, and compare-and-sets.
 *
 *   pending --scan--> scanned --confirm--> confirmed --exchange--> consumed
 *   pending|scanned --cancel--> cancelled
 *   pending|scanned|confirmed --time--> expired
 */

export type LoginAction =
  | { type: 'scan'; user: UserProfile }
  /**
   * With number matching, `matchCode` is the phone user's pick. `method` is how the user proved it
   * was them: a passkey assertion already verified for this login, or a tap (the default).
   */
  | { type: 'confirm'; user: UserProfile; matchCode?: string; method?: ApprovalMethod; phoneIp?: string }
  | { type: 'cancel'; user: UserProfile }
  | { type: 'exchange' }

export interface TransitionRules {
  confirmWindowMs: number
  exchangeWindowMs: number
  /** REQUIRE_PASSKEY: a confirm without a verified passkey assertion is refused. */
  requirePasskey?: boolean
  /**
   * REQUIRE_SAME_NETWORK: whether a phone at `phoneIp` is on the network of a PC at `pcIp`; a confirm
   * from anywhere else (or from an address not known) is refused, and the login keeps waiting.
   */
  requireSameNetwork?: (pcIp: string, phoneIp: string) => boolean
}

export type Decision =
  /** Write `record`; if `refusal` is set, the caller is refused once it is written (a wrong number pick cancels). */
  | { outcome: 'next'; record: LoginRecord; refusal?: LoginError }
  /** Nothing to write: the action was already done (the same user scanning again). */
  | { outcome: 'unchanged' }
  | { outcome: 'refused'; error: LoginError }

const refuse = (code: ErrorCode, message?: string): Decision => ({
  outcome: 'refused',
  error: new LoginError(code, message),
})

const step = (record: LoginRecord, change: Partial<LoginRecord>): LoginRecord => ({
  ...record,
  ...change,
  version: record.version + 1,
})

const alreadyScanned = () => refuse('ALREADY_SCANNED')
const notScanner = () => refuse('NOT_SCANNER')
const wrongAccount = () => refuse('WRONG_ACCOUNT')

/** Why nothing more can happen to an ended (or otherwise unsuitable) login. */
function refusalFor(record: LoginRecord): Decision {
  switch (record.status) {
    case 'expired':
      return refuse('QR_EXPIRED')
    case 'consumed':
      return refuse('ALREADY_CONSUMED')
    default:
      return refuse('INVALID_TRANSITION', `This login is ${record.status}`)
  }
}

function scan(record: LoginRecord, user: UserProfile, now: number, rules: TransitionRules): Decision {
  if (!isTerminal(record.status) && !isHintedAccount(record.loginHint, user.username)) return wrongAccount()
  switch (record.status) {
    case 'pending':
      return {
        outcome: 'next',
        record: step(record, {
          status: 'scanned',
          expiresAt: Math.max(record.expiresAt, now + rules.confirmWindowMs),
          scannedBy: { ...user },
        }),
      }
    case 'scanned':
      return record.scannedBy!.username === user.username ? { outcome: 'unchanged' } : alreadyScanned()
    case 'confirmed':
      if (record.scannedBy!.username !== user.username) return alreadyScanned()
      return refuse('INVALID_TRANSITION', 'This login has already been confirmed')
    default:
      return refusalFor(record)
  }
}

function confirm(
  record: LoginRecord,
  { user, matchCode, method = 'tap', phoneIp }: Extract<LoginAction, { type: 'confirm' }>,
  now: number,
  rules: TransitionRules,
): Decision {
  switch (record.status) {
    case 'scanned':
      if (record.scannedBy?.username !== user.username) return notScanner()
      // Left waiting, not cancelled: the same phone may join the PC's network and confirm; from elsewhere every
      // try is refused alike, so a phished user's tap can neither approve nor end the attacker's login.
      if (rules.requireSameNetwork && !(phoneIp && rules.requireSameNetwork(record.requester.ip, phoneIp)))
        return refuse('NETWORK_MISMATCH')
      // Before the number pick: a refused tap must not spend the pick (a wrong one cancels).
      if (rules.requirePasskey && method !== 'passkey') return refuse('PASSKEY_REQUIRED')
      if (record.match && matchCode === undefined)
        return refuse('VALIDATION_ERROR', 'Pick the number shown on the computer (matchCode)')
      if (record.match && matchCode !== record.match.code) {
        // A phished user guesses: the guess ends the login, so the attacker's PC never signs in.
        return {
          outcome: 'next',
          record: step(record, { status: 'cancelled', endedAt: now }),
          refusal: new LoginError('MATCH_CODE_MISMATCH'),
        }
      }
      return {
        outcome: 'next',
        record: step(record, { status: 'confirmed', expiresAt: now + rules.exchangeWindowMs, approvedWith: method }),
      }
    case 'pending':
      return refuse('NOT_SCANNED')
    case 'confirmed':
      if (record.scannedBy?.username !== user.username) return notScanner()
      return refuse('INVALID_TRANSITION', 'This login has already been confirmed')
    default:
      return refusalFor(record)
  }
}

function cancel(record: LoginRecord, user: UserProfile, now: number): Decision {
  // Another account may not end a login asked for someone else (it could not scan it either).
  if (!isTerminal(record.status) && !isHintedAccount(record.loginHint, user.username)) return wrongAccount()
  switch (record.status) {
    case 'scanned':
      if (record.scannedBy?.username !== user.username) return notScanner()
      return { outcome: 'next', record: step(record, { status: 'cancelled', endedAt: now }) }
    case 'pending':
      return { outcome: 'next', record: step(record, { status: 'cancelled', endedAt: now }) }
    case 'confirmed':
      return refuse('INVALID_TRANSITION', 'A confirmed login can no longer be cancelled')
    default:
      return refusalFor(record)
  }
}

function exchange(record: LoginRecord, now: number): Decision {
  switch (record.status) {
    case 'confirmed':
      return { outcome: 'next', record: step(record, { status: 'consumed', endedAt: now }) }
    case 'pending':
    case 'scanned':
      return refuse('NOT_CONFIRMED')
    default:
      return refusalFor(record)
  }
}

/** What `action` does to `record` at `now`. */
export function decide(record: LoginRecord, action: LoginAction, now: number, rules: TransitionRules): Decision {
  switch (action.type) {
    case 'scan':
      return scan(record, action.user, now, rules)
    case 'confirm':
      return confirm(record, action, now, rules)
    case 'cancel':
      return cancel(record, action.user, now)
    case 'exchange':
      return exchange(record, now)
  }
}

/** The expired record, once a login that has not ended is past its expiresAt; otherwise undefined. It ended when it expired. */
export function expireIfDue(record: LoginRecord, now: number): LoginRecord | undefined {
  if (isTerminal(record.status) || record.expiresAt > now) return undefined
  return step(record, { status: 'expired', endedAt: record.expiresAt })
}

/**
 * What a written transition means for the history of the person asked: approved, cancelled, a
 * wrong number picked, or a scanned request left to expire. Nothing for the rest (a scan, an
 * exchange, a login nobody scanned running out, a confirmed one never exchanged).
 */
export function historyOutcome(
  previous: LoginRecord,
  next: LoginRecord,
  refusal?: LoginError,
): HistoryEntry['outcome'] | undefined {
  switch (next.status) {
    case 'confirmed':
      return 'approved'
    case 'cancelled':
      return refusal?.code === 'MATCH_CODE_MISMATCH' ? 'wrong-number' : 'cancelled'
    case 'expired':
      return previous.status === 'scanned' ? 'expired' : undefined
    default:
      return undefined
  }
}
