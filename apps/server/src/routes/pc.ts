import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { LoginRequest } from '@qr-login/core'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import QRCode from 'qrcode'
import { HttpError } from '../errors.js'
import { checkCookieOrigin, presentedToken, secureCookies } from '../lib/request-auth.js'
import { clientIp } from '../lib/client-address.js'
import { describeUserAgent } from '../lib/user-agent.js'
import { CreateBody, CreatedLogin, LoginIdParams, PcSignedIn, Timeline, errors, security } from '../schemas.js'

export function userAgentOf(request: FastifyRequest): string {
  return (request.headers['user-agent'] ?? '').slice(0, 512)
}

/**
 * Creates a login for the browser asking, binding it with the qr_watch cookie; `asking` is the
 * application (OIDC client) on whose behalf, when there is one. The body of a 201.
 */
export async function createLogin(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  want: LoginRequest = {},
) {
  const { config, logins } = app
  const userAgent = userAgentOf(request)
  const { status, watchToken, userCode } = await logins.createLogin(
    { ip: clientIp(request), userAgent, ...describeUserAgent(userAgent) },
    want,
  )
  reply.setCookie('qr_watch', watchToken, {
    path: `/api/qr/${status.id}`,
    httpOnly: true,
    sameSite: 'strict',
    secure: secureCookies(request),
    maxAge: config.qrTtlSeconds + config.confirmWindowSeconds + config.exchangeWindowSeconds + config.retentionSeconds,
  })
  return {
    ...status,
    scanUrl: `${config.publicUrl}/m/${status.id}`,
    qrSvgUrl: `/api/qr/${status.id}/qr.svg`,
    pollIntervalMs: config.pollIntervalMs,
    userCode,
    watchToken,
    ...(want.loginHint ? { loginHint: want.loginHint } : {}),
  }
}

export default async function pcRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, logins } = app

  app.post(
    '/api/qr',
    {
      config: app.limits.createLoginRoute,
      schema: {
        tags: ['pc'],
        summary: 'Create a QR login',
        description:
          'Also sets the qr_watch cookie (Path=/api/qr/<id>) that binds the login to this browser. An optional body {"loginHint": "<username>"} lets only that account’s phone scan it.',
        body: CreateBody,
        response: { 201: CreatedLogin, ...errors(400, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const loginHint = request.body?.loginHint?.trim()
      return reply.code(201).send(await createLogin(app, request, reply, loginHint ? { loginHint } : {}))
    },
  )

  app.get(
    '/api/qr/:id/timeline',
    {
      schema: {
        tags: ['pc'],
        summary: 'When each version was written (not in the v1 contract; used by the transport inspector)',
        security: security.watch,
        params: LoginIdParams,
        response: { 200: Timeline, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (request) => logins.timeline(request.params.id, presentedToken(request, 'qr_watch').token),
  )

  app.get(
    '/api/qr/:id/qr.svg',
    {
      schema: {
        tags: ['pc'],
        summary: 'The QR image; encodes scanUrl and nothing secret',
        params: LoginIdParams,
        produces: ['image/svg+xml'],
        response: { 200: { type: 'string', description: 'image/svg+xml' }, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      await logins.assertExists(id)
      const svg = await QRCode.toString(`${config.publicUrl}/m/${id}`, {
        type: 'svg',
        errorCorrectionLevel: 'M',
        margin: 2,
      })
      return reply.type('image/svg+xml').send(svg)
    },
  )

  app.post(
    '/api/qr/:id/exchange',
    {
      schema: {
        tags: ['pc'],
        summary: 'Trade a confirmed login for a PC session, once',
        description: 'Sets the sid cookie. approvedWith (not in the v1 contract): tap or passkey.',
        security: security.watch,
        params: LoginIdParams,
        response: { 200: PcSignedIn, ...errors(400, 401, 403, 404, 409, 410, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      const { token, viaCookie } = presentedToken(request, 'qr_watch')
      checkCookieOrigin(request, config, viaCookie)
      const userAgent = userAgentOf(request)
      const {
        user,
        token: sessionId,
        approvedWith,
      } = await logins.exchange(id, token, {
        ip: clientIp(request),
        userAgent,
        ...describeUserAgent(userAgent),
      })
      // The qr_watch cookie stays until its Max-Age: other tabs of this browser may still be reading the
      // login (now consumed), and the token can no longer win anything.
      reply.setCookie('sid', sessionId, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookies(request),
        maxAge: config.sessionTtlSeconds,
      })
      return { user, approvedWith }
    },
  )

  app.get(
    '/api/me',
    {
      schema: {
        tags: ['pc'],
        summary: 'Who this PC is signed in as',
        description: 'approvedWith (not in the v1 contract): how the phone approved it, tap or passkey.',
        security: security.pc,
        response: { 200: PcSignedIn, ...errors(401, 503) },
      },
    },
    async (request) => {
      const session = await logins.pcSession(request.cookies.sid)
      if (!session) throw new HttpError('AUTH_REQUIRED', 'This browser is not signed in')
      return session
    },
  )

  app.post(
    '/api/logout',
    {
      schema: {
        tags: ['pc'],
        summary: 'End the PC session',
        security: security.pc,
        response: { 204: { type: 'null', description: 'Signed out' }, ...errors(403, 503) },
      },
    },
    async (request, reply) => {
      const sessionId = request.cookies.sid
      checkCookieOrigin(request, config, Boolean(sessionId))
      await logins.endSession('pc', sessionId)
      reply.clearCookie('sid', { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies(request) })
      return reply.code(204).send(null)
    },
  )
}
