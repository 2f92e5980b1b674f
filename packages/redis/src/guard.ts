import { LoginError, type Clock } from '@qr-login/core'

/** Runs a Redis operation; any failure of Redis itself becomes STORE_UNAVAILABLE (a LoginError passes as it is). */
export async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    if (error instanceof LoginError) throw error
    throw new LoginError('STORE_UNAVAILABLE', `Redis: ${(error as Error)?.message ?? error}`, { cause: error })
  }
}

/** A TTL relative to now, so the Redis host's clock does not need to agree with ours. */
export function relativeTtl(clock: Clock, keepUntil: number): number {
  return Math.max(1, Math.ceil(keepUntil - clock.now()))
}
