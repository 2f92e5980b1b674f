/**
 * Every code the service answers with, once: its HTTP status (part of the public contract, tested as such)
 * and its message. Domain code throws LoginError with a code from here; the server answers it, the
 * OpenAPI document lists the codes, and the SDK types them. A throw site gives a message of its own only
 * when it says more than the table's.
 */
export const errorTable = {
  VALIDATION_ERROR: { status: 400, message: 'The request is malformed' },
  WATCH_TOKEN_REQUIRED: { status: 401, message: 'This login can only be read with its watch token' },
  AUTH_REQUIRED: { status: 401, message: 'Sign in first' },
  BAD_CREDENTIALS: { status: 401, message: 'Unknown user name or wrong password' },
  WATCH_TOKEN_INVALID: { status: 403, message: 'The watch token does not belong to this login' },
  ORIGIN_REJECTED: { status: 403, message: 'Requests from this origin are not allowed' },
  NOT_SCANNER: { status: 403, message: 'Only the account that scanned this QR code can do that' },
  WRONG_ACCOUNT: {
    status: 403,
    message: 'This sign-in was asked for another account; scan it with that account’s phone',
  },
  NETWORK_MISMATCH: {
    status: 403,
    message: 'This phone is not on the computer’s network; join the network the computer is on, then confirm',
  },
  PASSKEY_REQUIRED: { status: 403, message: 'Approving a sign-in here needs your passkey' },
  PASSKEY_REJECTED: { status: 403, message: 'The passkey could not be verified; try again' },
  QR_NOT_FOUND: { status: 404, message: 'No QR login with this id' },
  NOT_FOUND: { status: 404, message: 'No such route' },
  SESSION_NOT_FOUND: { status: 404, message: 'This user has no such session' },
  CODE_NOT_FOUND: { status: 404, message: 'No sign-in is waiting for this code' },
  PASSKEY_NOT_FOUND: { status: 404, message: 'This user has no such passkey' },
  INTERACTION_NOT_FOUND: {
    status: 404,
    message: 'This sign-in request has ended or expired; start again from the application',
  },
  ALREADY_SCANNED: { status: 409, message: 'Another account has already scanned this QR code' },
  NOT_SCANNED: { status: 409, message: 'Scan the QR code before confirming' },
  NOT_CONFIRMED: { status: 409, message: 'The login has not been confirmed on the phone yet' },
  ALREADY_CONSUMED: { status: 409, message: 'This login has already been used' },
  MATCH_CODE_MISMATCH: {
    status: 409,
    message: 'That is not the number shown on the computer; the sign-in was cancelled',
  },
  INVALID_TRANSITION: { status: 409, message: 'The login is not in a state that allows this' },
  NO_PASSKEY: { status: 409, message: 'Add a passkey in the settings first' },
  PASSKEY_LIMIT_REACHED: { status: 409, message: 'This account holds as many passkeys as it may; remove one first' },
  QR_EXPIRED: { status: 410, message: 'This QR code has expired' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  // Answered on the wire as VALIDATION_ERROR, as the contract asks, with its own status.
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as application/json' },
  UPGRADE_REQUIRED: { status: 426, message: 'This endpoint speaks WebSocket only' },
  RATE_LIMITED: { status: 429, message: 'Too many requests, slow down' },
  INTERNAL_ERROR: { status: 500, message: 'Internal server error' },
  STORE_UNAVAILABLE: { status: 503, message: 'The login store cannot be reached, try again shortly' },
  SHUTTING_DOWN: { status: 503, message: 'This instance is shutting down; try again, another one will answer' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof errorTable

/** The codes a client can see in an error body (UNSUPPORTED_MEDIA_TYPE is sent as VALIDATION_ERROR). */
export const wireErrorCodes = (Object.keys(errorTable) as ErrorCode[]).filter(
  (code): code is Exclude<ErrorCode, 'UNSUPPORTED_MEDIA_TYPE'> => code !== 'UNSUPPORTED_MEDIA_TYPE',
)
export type WireErrorCode = (typeof wireErrorCodes)[number]

/** The code a client sees for `code`. */
export function wireCode(code: ErrorCode): WireErrorCode {
  return code === 'UNSUPPORTED_MEDIA_TYPE' ? 'VALIDATION_ERROR' : code
}

/** A refusal, by its code; without a message of its own it says the table's. */
export class LoginError extends Error {
  readonly code: ErrorCode
  readonly status: number

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? errorTable[code].message, options)
    this.name = 'LoginError'
    this.code = code
    this.status = errorTable[code].status
  }
}

export function isLoginError(error: unknown, code?: ErrorCode): error is LoginError {
  return error instanceof LoginError && (code === undefined || error.code === code)
}

/**
 * Whether a failure is a store that cannot be reached, here or as the cause of what a library threw
 * (oidc-provider wraps what its adapter throws): such a failure answers 503, never "not found".
 */
export function isStoreUnavailable(error: unknown): boolean {
  for (let seen = error, depth = 0; seen && depth < 5; seen = (seen as { cause?: unknown }).cause, depth++) {
    if (isLoginError(seen, 'STORE_UNAVAILABLE')) return true
  }
  return false
}
