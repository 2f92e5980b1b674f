/**
 * Every way a use case can refuse. Transports map each code to their own
 * vocabulary (HTTP statuses live in the server's error registry).
 */
export const loginErrorCodes = [
  'VALIDATION_ERROR',
  'WATCH_TOKEN_REQUIRED',
  'WATCH_TOKEN_INVALID',
  'AUTH_REQUIRED',
  'BAD_CREDENTIALS',
  'NOT_SCANNER',
  'QR_NOT_FOUND',
  'ALREADY_SCANNED',
  'NOT_SCANNED',
  'NOT_CONFIRMED',
  'ALREADY_CONSUMED',
  'INVALID_TRANSITION',
  'QR_EXPIRED',
  'RATE_LIMITED',
  'SESSION_NOT_FOUND',
  'CODE_NOT_FOUND',
  'MATCH_CODE_MISMATCH',
  'PASSKEY_REQUIRED',
  'STORE_UNAVAILABLE',
] as const

export type LoginErrorCode = (typeof loginErrorCodes)[number]

export class LoginError extends Error {
  readonly code: LoginErrorCode

  constructor(code: LoginErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LoginError'
    this.code = code
  }
}

export function isLoginError(error: unknown, code?: LoginErrorCode): error is LoginError {
  return error instanceof LoginError && (code === undefined || error.code === code)
}
