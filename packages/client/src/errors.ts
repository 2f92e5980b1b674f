import type { WireErrorCode } from '@qr-login/core'

/** What the SDK itself says: no answer, a stream that broke, a runtime that cannot, an answer without a code. */
export type ClientErrorCode = 'NETWORK_ERROR' | 'DROPPED' | 'UNSUPPORTED' | `HTTP_${number}`

/** An error answered by the service (its stable `code`), or a transport failure. */
export class QrLoginError extends Error {
  constructor(
    /** The service's code (`QR_NOT_FOUND`, ..., from the core's error table), or one of the SDK's own. */
    readonly code: WireErrorCode | ClientErrorCode,
    /** The HTTP status; 0 when no answer arrived. */
    readonly statusCode: number,
    message: string,
    /** From Retry-After (429, 503): how long the service asked us to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message)
    this.name = 'QrLoginError'
  }

  /** Worth trying again (the same or another transport): no answer, a dropped stream, overload, a server fault. */
  get retryable(): boolean {
    return this.statusCode === 0 || this.statusCode === 429 || this.statusCode >= 500 || this.code === 'UNSUPPORTED'
  }
}

export async function errorFromResponse(response: Response): Promise<QrLoginError> {
  const text = await response.text().catch(() => '')
  const retryAfter = Number(response.headers.get('retry-after'))
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined
  try {
    const body = JSON.parse(text) as { code?: string; message?: string }
    if (body && typeof body.code === 'string')
      return new QrLoginError(body.code as WireErrorCode, response.status, body.message ?? body.code, retryAfterMs)
  } catch {
    // not JSON: fall through
  }
  return new QrLoginError(
    `HTTP_${response.status}`,
    response.status,
    text.slice(0, 200) || response.statusText,
    retryAfterMs,
  )
}

export function networkError(error: unknown): QrLoginError {
  return new QrLoginError('NETWORK_ERROR', 0, error instanceof Error ? error.message : String(error))
}
