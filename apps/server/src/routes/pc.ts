import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import QRCode from 'qrcode'
import { HttpError } from '../errors.js'
import { checkCookieOrigin, presentedToken, secureCookies } from '../lib/request-auth.js'
import { clientIp } from '../lib/client-address.js'
import { describeUserAgent, userAgentOf } from '../lib/user-agent.js'
import { createLogin } from '../lib/create-login.js'
import { CreateBody, CreatedLogin, LoginIdParams, PcSignedIn, Timeline } from '@qr-login/wire'
import { errors, security } from '../openapi.js'
import fp from 'fastify-plugin'

async function pcRoutes(fastify: FastifyInstance) {
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
      const session = await logins.sessions.pc(request.cookies.sid)
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
      await logins.sessions.end('pc', sessionId)
      reply.clearCookie('sid', { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies(request) })
      return reply.code(204).send(null)
    },
  )
}

export default fp(pcRoutes, {
  name: 'pc-routes',
  dependencies: ['services', 'limits', '@fastify/cookie'],
  encapsulate: true,
})
