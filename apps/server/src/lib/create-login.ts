import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { LoginRequest } from '@qr-login/core'
import { clientIp } from './client-address.js'
import { secureCookies } from './request-auth.js'
import { describeUserAgent, userAgentOf } from './user-agent.js'

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
