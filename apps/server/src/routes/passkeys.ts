import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { phoneUser } from '../lib/phone-user.js'
import { relyingParty } from '../lib/relying-party.js'
import { describeUserAgent } from '../lib/user-agent.js'
import { userAgentOf } from './pc.js'
import {
  PasskeyAttestation,
  PasskeyEnvelope,
  PasskeyIdParams,
  PasskeyList,
  PasskeyOptions,
  errors,
  security,
} from '../schemas.js'

/** The phone user's passkeys (not in the v1 contract): add one in the settings, list them, remove one. */
export default async function passkeyRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, logins, passkeys } = app

  app.get(
    '/api/mobile/passkeys',
    {
      schema: {
        tags: ['passkeys'],
        summary: "The phone user's passkeys, oldest first",
        security: security.phone,
        response: { 200: PasskeyList, ...errors(401, 503) },
      },
    },
    async (request) => ({ passkeys: await passkeys.list(await phoneUser(request, logins, config)) }),
  )

  app.post(
    '/api/mobile/passkeys/options',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'A prompt to add a passkey',
        description:
          'Give the answer to @simplewebauthn/browser startRegistration() and POST its result to /api/mobile/passkeys. User verification is required.',
        security: security.phone,
        response: { 200: PasskeyOptions, ...errors(401, 403, 409, 503) },
      },
    },
    async (request) =>
      passkeys.registrationOptions(await phoneUser(request, logins, config), relyingParty(request, config)),
  )

  app.post(
    '/api/mobile/passkeys',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Add the passkey made for the last prompt',
        security: security.phone,
        body: PasskeyAttestation,
        response: { 201: PasskeyEnvelope, ...errors(400, 401, 403, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const user = await phoneUser(request, logins, config)
      const { browser, os } = describeUserAgent(userAgentOf(request))
      const passkey = await passkeys.register(user, request.body, relyingParty(request, config), `${browser} on ${os}`)
      return reply.code(201).send({ passkey })
    },
  )

  app.delete(
    '/api/mobile/passkeys/:passkeyId',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Remove a passkey: it approves nothing from now on',
        security: security.phone,
        params: PasskeyIdParams,
        response: { 204: { type: 'null', description: 'Removed' }, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      await passkeys.remove(await phoneUser(request, logins, config), request.params.passkeyId)
      return reply.code(204).send(null)
    },
  )
}
