import type { FastifyRequest } from 'fastify'
import type { LoginService, UserProfile } from '@qr-login/core'
import type { Config } from '../config.js'
import { HttpError } from '../errors.js'
import { checkCookieOrigin, presentedToken } from './request-auth.js'

/** The phone's user, from its cookie or bearer token; a cookie POST must also come from an allowed origin. */
export async function phoneUser(request: FastifyRequest, logins: LoginService, config: Config): Promise<UserProfile> {
  const { token, viaCookie } = presentedToken(request, 'm_session')
  if (request.method !== 'GET' && request.method !== 'HEAD') checkCookieOrigin(request, config, viaCookie)
  const user = await logins.sessions.user('phone', token)
  if (!user)
    throw new HttpError(
      'AUTH_REQUIRED',
      token ? 'The phone session has ended, sign in again' : 'Sign in on the phone first',
    )
  return user
}
