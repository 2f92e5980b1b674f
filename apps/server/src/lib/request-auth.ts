import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { HttpError } from '../errors.js'

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

export interface PresentedToken {
  token: string | undefined
  viaCookie: boolean
}

/** A bearer header wins over the cookie: a script that sends one means it. */
export function presentedToken(request: FastifyRequest, cookieName: string): PresentedToken {
  const bearer = bearerToken(request)
  if (bearer) return { token: bearer, viaCookie: false }
  const cookie = request.cookies[cookieName]
  return { token: cookie || undefined, viaCookie: Boolean(cookie) }
}

export function originAllowed(request: FastifyRequest, config: Config): boolean {
  const origin = request.headers.origin
  return origin === undefined || isAllowedOrigin(origin, `${request.protocol}://${request.host}`, config)
}

/** ALLOWED_ORIGINS when set; otherwise PUBLIC_URL's origin and the one the request was sent to. */
export function isAllowedOrigin(origin: string, ownOrigin: string, config: Config): boolean {
  if (config.allowedOrigins.length > 0) return config.allowedOrigins.includes(origin)
  return origin === new URL(config.publicUrl).origin || origin === ownOrigin
}

/** Cookies ride along on cross-site requests; bearer tokens do not, so only cookie calls need the Origin check. */
export function checkCookieOrigin(request: FastifyRequest, config: Config, viaCookie: boolean): void {
  if (viaCookie && !originAllowed(request, config)) throw new HttpError('ORIGIN_REJECTED')
}

export function secureCookies(request: FastifyRequest): boolean {
  return request.protocol === 'https'
}
