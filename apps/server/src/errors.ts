import { STATUS_CODES } from 'node:http'
import { errorTable, isLoginError, LoginError, wireCode, type ErrorCode, type WireErrorCode } from '@qr-login/core'

export type { ErrorCode }

export interface ErrorBody {
  statusCode: number
  code: WireErrorCode
  error: string
  message: string
}

/** A refusal raised by the HTTP layer itself; the core's LoginError with, for RATE_LIMITED, a Retry-After. */
export class HttpError extends LoginError {
  constructor(
    code: ErrorCode,
    message?: string,
    /** For RATE_LIMITED: when the client may try again (the Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message)
    this.name = 'HttpError'
  }
}

function body(code: ErrorCode, message: string): ErrorBody {
  const { status: statusCode } = errorTable[code]
  const shown = statusCode >= 500 ? errorTable[code].message : message
  return { statusCode, code: wireCode(code), error: STATUS_CODES[statusCode] ?? 'Error', message: shown }
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
  const candidate = error as { code?: string; statusCode?: number; message?: string; validation?: unknown } | undefined
  const known = candidate?.code ? fastifyCodes[candidate.code] : undefined
  if (known) return body(known, candidate?.message || errorTable[known].message)
  if (candidate?.validation) return body('VALIDATION_ERROR', candidate.message || errorTable.VALIDATION_ERROR.message)
  const status = candidate?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = codeByStatus[status] ?? 'VALIDATION_ERROR'
    return {
      ...body(code, candidate?.message || errorTable[code].message),
      statusCode: status,
      error: STATUS_CODES[status] ?? 'Error',
    }
  }
  if (status === 503) return body('STORE_UNAVAILABLE', errorTable.STORE_UNAVAILABLE.message)
  return body('INTERNAL_ERROR', errorTable.INTERNAL_ERROR.message)
}
