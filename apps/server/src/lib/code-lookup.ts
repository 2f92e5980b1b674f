import type { FastifyRequest } from 'fastify'
import { normalizeUserCode, userCodeAlphabet } from '@qr-login/core'
import { HttpError } from '../errors.js'
import type { RequestLimits } from '../plugins/limits.js'

/**
 * A code typed on the phone, found by `find` under the phone's look-up allowance: a malformed code is a 400
 * and spends nothing; a phone that used its allowance up is refused before anything is looked up; only a
 * code nobody holds spends it (a store that cannot answer throws its 503 through). Every place a phone
 * types a code goes through here, so guessing is limited alike everywhere.
 */
export async function lookUpTypedCode<Found>(
  limits: Pick<RequestLimits, 'checkCodeLookup' | 'recordCodeLookupFailure'>,
  request: FastifyRequest,
  typed: string,
  find: (code: string) => Promise<Found | undefined>,
): Promise<Found> {
  const code = normalizeUserCode(typed)
  if (!code) throw new HttpError('VALIDATION_ERROR', `A code is 8 letters of ${userCodeAlphabet}, like BCDF-GHJK`)
  await limits.checkCodeLookup(request)
  const found = await find(code)
  if (found !== undefined) return found
  await limits.recordCodeLookupFailure(request)
  throw new HttpError('CODE_NOT_FOUND')
}
