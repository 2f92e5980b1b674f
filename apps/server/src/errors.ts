import { STATUS_CODES } from 'node:http'
import { isLoginError, type LoginErrorCode } from '@qr-login/core'

interface ErrorEntry {
  statusCode: number
  message: string
}

/**
 * Every error code this service answers with. The key is the code; the
 * statusCode is part of the public contract, tested as such.
 */
export const errorRegistry = {
  VALIDATION_ERROR: { statusCode: 400, message: 'The request is malformed' },
  WATCH_TOKEN_REQUIRED: { statusCode: 401, message: 'This login can only be read with its watch token' },
  AUTH_REQUIRED: { statusCode: 401, message: 'Sign in first' },
  BAD_CREDENTIALS: { statusCode: 401, message: 'Unknown user name or wrong password' },
  WATCH_TOKEN_INVALID: { statusCode: 403, message: 'The watch token does not belong to this login' },
  ORIGIN_REJECTED: { statusCode: 403, message: 'Requests from this origin are not allowed' },
  NOT_SCANNER: { statusCode: 403, message: 'Only the account that scanned this QR code can do that' },
  PASSKEY_REQUIRED: { statusCode: 403, message: 'Approving a sign-in here needs your passkey' },
  PASSKEY_REJECTED: { statusCode: 403, message: 'The passkey could not be verified; try again' },
  QR_NOT_FOUND: { statusCode: 404, message: 'No QR login with this id' },
  NOT_FOUND: { statusCode: 404, message: 'No such route' },
  SESSION_NOT_FOUND: { statusCode: 404, message: 'This user has no such session' },
  CODE_NOT_FOUND: { statusCode: 404, message: 'No sign-in is waiting for this code' },
  PASSKEY_NOT_FOUND: { statusCode: 404, message: 'This user has no such passkey' },
  INTERACTION_NOT_FOUND: {
    statusCode: 404,
    message: 'This sign-in request has ended or expired; start again from the application',
  },
  ALREADY_SCANNED: { statusCode: 409, message: 'Another account has already scanned this QR code' },
  NOT_SCANNED: { statusCode: 409, message: 'Scan the QR code before confirming' },
  NOT_CONFIRMED: { statusCode: 409, message: 'The login has not been confirmed on the phone yet' },
  ALREADY_CONSUMED: { statusCode: 409, message: 'This login has already been used' },
  MATCH_CODE_MISMATCH: {
    statusCode: 409,
    message: 'That is not the number shown on the computer; the sign-in was cancelled',
  },
  INVALID_TRANSITION: { statusCode: 409, message: 'The login is not in a state that allows this' },
  NO_PASSKEY: { statusCode: 409, message: 'Add a passkey in the settings first' },
  PASSKEY_LIMIT_REACHED: {
    statusCode: 409,
    message: 'This account holds as many passkeys as it may; remove one first',
  },
  QR_EXPIRED: { statusCode: 410, message: 'This QR code has expired' },
  PAYLOAD_TOO_LARGE: { statusCode: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, message: 'Send the body as application/json' },
  UPGRADE_REQUIRED: { statusCode: 426, message: 'This endpoint speaks WebSocket only' },
  RATE_LIMITED: { statusCode: 429, message: 'Too many requests, slow down' },
  INTERNAL_ERROR: { statusCode: 500, message: 'Internal server error' },
  STORE_UNAVAILABLE: { statusCode: 503, message: 'The login store cannot be reached, try again shortly' },
  SHUTTING_DOWN: { statusCode: 503, message: 'This instance is shutting down; try again, another one will answer' },
} as const satisfies Record<LoginErrorCode | string, ErrorEntry>

export type ErrorCode = keyof typeof errorRegistry

export interface ErrorBody {
  statusCode: number
  code: ErrorCode | 'VALIDATION_ERROR'
  error: string
  message: string
}

/** An error raised by the HTTP layer itself (the core raises LoginError). */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
    /** For RATE_LIMITED: when the client may try again (the Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message ?? errorRegistry[code].message)
    this.name = 'HttpError'
  }
}

function body(code: ErrorCode, message: string): ErrorBody {
  const { statusCode } = errorRegistry[code]
  // 415 keeps its own status but, as the contract asks, the VALIDATION_ERROR code.
  const publicCode = code === 'UNSUPPORTED_MEDIA_TYPE' ? 'VALIDATION_ERROR' : code
  const shown = statusCode >= 500 ? errorRegistry[code].message : message
  return { statusCode, code: publicCode, error: STATUS_CODES[statusCode] ?? 'Error', message: shown }
}

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_ERROR',
  FST_ERR_VALIDATION: 'VALIDATION_ERROR',
}

const codeByStatus: Record<number, ErrorCode> = {
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  426: 'UPGRADE_REQUIRED',
  429: 'RATE_LIMITED',
  503: 'STORE_UNAVAILABLE',
}

/**
 * Turns anything thrown into the contract's error body. Messages are shown
 * only for 4xx; a 5xx says nothing about the inside.
 */
export function toErrorBody(error: unknown): ErrorBody {
  if (isLoginError(error)) return body(error.code, error.message)
  if (error instanceof HttpError) return body(error.code, error.message)
  const candidate = error as { code?: string; statusCode?: number; message?: string; validation?: unknown } | undefined
  const known = candidate?.code ? fastifyCodes[candidate.code] : undefined
  if (known) return body(known, candidate?.message || errorRegistry[known].message)
  if (candidate?.validation)
    return body('VALIDATION_ERROR', candidate.message || errorRegistry.VALIDATION_ERROR.message)
  const status = candidate?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = codeByStatus[status] ?? 'VALIDATION_ERROR'
    return {
      ...body(code, candidate?.message || errorRegistry[code].message),
      statusCode: status,
      error: STATUS_CODES[status] ?? 'Error',
    }
  }
  if (status === 503) return body('STORE_UNAVAILABLE', errorRegistry.STORE_UNAVAILABLE.message)
  return body('INTERNAL_ERROR', errorRegistry.INTERNAL_ERROR.message)
}
