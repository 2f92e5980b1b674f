import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { isLoginError } from '@qr-login/core'
import { HttpError } from '../errors.js'
import { checkCookieOrigin, presentedToken, secureCookies } from '../lib/request-auth.js'
import { phoneUser as phoneUserOf } from '../lib/phone-user.js'
import { lookUpTypedCode } from '../lib/code-lookup.js'
import { relyingParty } from '../lib/relying-party.js'
import { clientIp } from '../lib/client-address.js'
import { networkTest } from '../lib/network.js'
import {
  ConfirmBody,
  PasskeyOptions,
  History,
  LoginIdParams,
  LoginStatusView,
  PcSessionList,
  PhoneSession,
  SessionIdParams,
  PhoneSignIn,
  ScanResult,
  User,
  UserCodeBody,
  UserCodeResult,
  UserEnvelope,
} from '@qr-login/wire'
import { errors, security } from '../openapi.js'
import { Type } from 'typebox'
import fp from 'fastify-plugin'

async function phoneRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, logins } = app
  const onPcNetwork = networkTest(config.network)

  const phoneUser = (request: FastifyRequest) => phoneUserOf(request, logins, config)

  const phoneAction = (summary: string, response: object) => ({
    schema: {
      tags: ['phone'],
      summary,
      security: security.phone,
      params: LoginIdParams,
      response: { 200: response, ...errors(400, 401, 403, 404, 409, 410, 503) },
    },
  })

  app.get(
    '/api/demo-users',
    {
      schema: {
        tags: ['phone'],
        summary: 'The demo accounts (password in the README)',
        response: { 200: Type.Array(User) },
      },
    },
    async () => logins.accounts.list(),
  )

  app.post(
    '/api/mobile/session',
    {
      schema: {
        tags: ['phone'],
        summary: 'Sign the phone in',
        description: 'Sets the m_session cookie; the token also works as Authorization: Bearer.',
        body: PhoneSignIn,
        response: { 200: PhoneSession, ...errors(400, 401, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      if (!request.body)
        throw new HttpError('VALIDATION_ERROR', 'body must be a JSON object with username and password')
      // Only failures count, and a client that used them up is refused before its password is even checked.
      await app.limits.checkSignIn(request)
      const { user, token } = await logins.sessions
        .signInPhone(request.body.username, request.body.password)
        .catch(async (error: unknown) => {
          if (isLoginError(error, 'BAD_CREDENTIALS')) await app.limits.recordSignInFailure(request)
          throw error
        })
      reply.setCookie('m_session', token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookies(request),
        maxAge: config.sessionTtlSeconds,
      })
      return { user, token }
    },
  )

  app.get(
    '/api/mobile/history',
    {
      schema: {
        tags: ['phone'],
        summary: "The phone user's recent sign-in requests, newest first (not in the contract)",
        description:
          'Each request this user approved, cancelled, left to expire after scanning, or cancelled by a wrong number, with the computer that asked.',
        security: security.phone,
        response: { 200: History, ...errors(401, 503) },
      },
    },
    async (request) => {
      const entries = await logins.history(await phoneUser(request))
      return { entries: entries.map((entry) => ({ ...entry, at: new Date(entry.at).toISOString() })) }
    },
  )

  app.post(
    '/api/mobile/code',
    {
      schema: {
        tags: ['phone'],
        summary: 'Find the sign-in a typed code belongs to (can’t scan? type the code under the QR)',
        description:
          'While the login waits to be scanned: its id and scanUrl. A device’s code (OpenID device flow) while the device waits: scanUrl only, its confirm screen. Any other code is 404 CODE_NOT_FOUND; failed look-ups are limited per phone session and per address.',
        security: security.phone,
        body: UserCodeBody,
        response: { 200: UserCodeResult, ...errors(400, 401, 403, 404, 413, 415, 429, 503) },
      },
    },
    async (request) => {
      await phoneUser(request)
      if (!request.body) throw new HttpError('VALIDATION_ERROR', 'body must be a JSON object with code')
      // Not a QR login's: perhaps a device's (the OpenID provider's device flow), which the phone confirms there.
      return lookUpTypedCode(app.limits, request, request.body.code, async (code) => {
        const id = await logins.resolveUserCode(code).catch((error: unknown) => {
          if (isLoginError(error, 'CODE_NOT_FOUND')) return undefined
          throw error
        })
        if (id) return { id, scanUrl: `${config.publicUrl}/m/${id}` }
        const deviceUrl = await app.oidc.deviceConfirmUrl(code)
        return deviceUrl ? { scanUrl: deviceUrl } : undefined
      })
    },
  )

  app.get(
    '/api/mobile/me',
    {
      schema: {
        tags: ['phone'],
        summary: "The phone's user",
        security: security.phone,
        response: { 200: UserEnvelope, ...errors(401, 503) },
      },
    },
    async (request) => ({ user: await phoneUser(request) }),
  )

  app.post(
    '/api/mobile/logout',
    {
      schema: {
        tags: ['phone'],
        summary: 'Sign the phone out (not in the v1 contract; used by the phone page)',
        security: security.phone,
        response: { 204: { type: 'null', description: 'Signed out' }, ...errors(403, 503) },
      },
    },
    async (request, reply) => {
      const { token, viaCookie } = presentedToken(request, 'm_session')
      checkCookieOrigin(request, config, viaCookie)
      await logins.sessions.end('phone', token)
      reply.clearCookie('m_session', { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies(request) })
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/api/mobile/sessions',
    {
      schema: {
        tags: ['phone'],
        summary: "The PC sessions QR logins opened for the phone's user, newest first (not in the v1 contract)",
        description: 'Where (IP, browser, OS) and when each signed-in computer was approved; revoke one with DELETE.',
        security: security.phone,
        response: { 200: PcSessionList, ...errors(401, 503) },
      },
    },
    async (request) => ({ sessions: await logins.sessions.listPc(await phoneUser(request)) }),
  )

  app.delete(
    '/api/mobile/sessions/:sessionId',
    {
      schema: {
        tags: ['phone'],
        summary: 'Sign a computer out: its next request with that session gets 401 (not in the v1 contract)',
        description: "Only the phone user's own sessions can be revoked; any other id is 404 SESSION_NOT_FOUND.",
        security: security.phone,
        params: SessionIdParams,
        response: { 204: { type: 'null', description: 'Revoked' }, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      await logins.sessions.revokePc(await phoneUser(request), request.params.sessionId)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/api/qr/:id/scan',
    phoneAction('Claim the login; idempotent for the same user', ScanResult),
    async (request) => {
      const user = await phoneUser(request)
      const { status, requester, app: asking, matchChoices } = await logins.scan(request.params.id, user)
      const phoneIp = clientIp(request)
      return {
        ...status,
        requester,
        ...(asking ? { app: asking } : {}),
        network: { phoneIp, sameNetwork: onPcNetwork(requester.ip, phoneIp) },
        ...(matchChoices ? { matchChoices } : {}),
      }
    },
  )

  const confirmRoute = phoneAction('Approve (only the user who scanned)', LoginStatusView)
  app.post(
    '/api/qr/:id/confirm',
    {
      schema: {
        ...confirmRoute.schema,
        description: [
          'With MATCH_CODE=1 the body must carry the picked number: {"matchCode":"42"}; a wrong one cancels the login (409 MATCH_CODE_MISMATCH).',
          'With a passkey (not in the v1 contract): {"passkey": <the answer to POST /api/qr/:id/passkey-options>}; one that does not verify is 403 PASSKEY_REJECTED and the login still waits.',
          'With REQUIRE_PASSKEY=1 a confirm without one is 403 PASSKEY_REQUIRED.',
          'With REQUIRE_SAME_NETWORK=1 a phone whose address is not in the PC’s network (an IPv4 /24, an IPv6 /64, or a SAME_NETWORK_RANGES range) is 403 NETWORK_MISMATCH, and the login keeps waiting.',
        ].join(' '),
        body: ConfirmBody,
        response: { ...confirmRoute.schema.response, ...errors(400, 401, 403, 404, 409, 410, 413, 415, 503) },
      },
    },
    async (request) => {
      const { id } = request.params
      const user = await phoneUser(request)
      const assertion = request.body?.passkey
      if (assertion) await app.passkeys.verifyConfirm(id, user, assertion, relyingParty(request, config))
      return logins.confirm(id, user, {
        matchCode: request.body?.matchCode,
        method: assertion ? 'passkey' : 'tap',
        phoneIp: clientIp(request),
      })
    },
  )

  app.post(
    '/api/qr/:id/passkey-options',
    {
      schema: {
        tags: ['phone'],
        summary: 'A passkey prompt for approving this login (not in the v1 contract)',
        description:
          'Only for the user who scanned it, while it waits for them. Give the answer to @simplewebauthn/browser startAuthentication() and send its result as {"passkey": …} to confirm. One prompt per login: a new one replaces the last; an answer works once.',
        security: security.phone,
        params: LoginIdParams,
        response: { 200: PasskeyOptions, ...errors(400, 401, 403, 404, 409, 410, 503) },
      },
    },
    async (request) => {
      const user = await phoneUser(request)
      const { expiresAt } = await logins.checkConfirmable(request.params.id, user, clientIp(request))
      return app.passkeys.confirmOptions(request.params.id, user, relyingParty(request, config), expiresAt)
    },
  )

  app.post(
    '/api/qr/:id/cancel',
    phoneAction('Decline (the user who scanned, or anyone signed in while pending)', LoginStatusView),
    async (request) => logins.cancel(request.params.id, await phoneUser(request)),
  )
}

export default fp(phoneRoutes, {
  name: 'phone-routes',
  dependencies: ['services', 'limits', '@fastify/cookie'],
  encapsulate: true,
})
