import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import type { RelyingParty } from './passkeys.js'
import { isAllowedOrigin } from './request-auth.js'

/**
 * Where the phone page that runs a WebAuthn ceremony lives: its Origin when that is an allowed one,
 * else PUBLIC_URL's. Passkeys are bound to PASSKEY_RP_ID, or to that origin's host name, so one added
 * on localhost works on localhost (browsers never accept an IP address as the host of a passkey).
 */
export function relyingParty(request: FastifyRequest, config: Config): RelyingParty {
  const asked = request.headers.origin
  const origin =
    asked && isAllowedOrigin(asked, `${request.protocol}://${request.host}`, config)
      ? asked
      : new URL(config.publicUrl).origin
  return { origin, id: config.passkeys.rpId ?? new URL(origin).hostname }
}
