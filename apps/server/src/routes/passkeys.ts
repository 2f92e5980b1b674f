import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { phoneUser } from '../lib/phone-user.js'
import { lookUpTypedCode } from '../lib/code-lookup.js'
import { relyingParty } from '../lib/relying-party.js'
import { describeUserAgent, userAgentOf } from '../lib/user-agent.js'
import {
  PasskeyAssertion,
  PasskeyAttestation,
  PasskeyEnvelope,
  PasskeyIdParams,
  PasskeyList,
  PasskeyOptions,
} from '@qr-login/wire'
import { errors, security } from '../openapi.js'
import fp from 'fastify-plugin'

const DeviceCode = Type.String({ maxLength: 32, description: 'The code the device shows (its user_code)' })
const DevicePasskeyOptionsBody = Type.Object({ userCode: DeviceCode })
const DevicePasskeyBody = Type.Object({ userCode: DeviceCode, passkey: PasskeyAssertion })

/** The phone user's passkeys (not in the v1 contract): add one in the settings, list them, remove one. */
async function passkeyRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, logins, passkeys } = app

  /**
   * The device authorization waiting for this phone's decision, by the code its confirm screen shows. The
   * same look-up limits as a typed code: these routes must not be a way to try device codes.
   */
  const waitingDevice = (request: FastifyRequest, userCode: string) =>
    lookUpTypedCode(app.limits, request, userCode, async (code) => {
      const device = await app.oidc.waitingDevice(code)
      return device && { ...device, subject: `device:${device.id}` }
    })

  app.post(
    '/api/mobile/device/passkey-options',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'A passkey prompt for approving a device’s sign-in (the OpenID device grant)',
        description:
          'For the device confirm screen: answer it with @simplewebauthn/browser startAuthentication() and POST the result to /api/mobile/device/passkey, then submit the confirm form.',
        security: security.phone,
        body: DevicePasskeyOptionsBody,
        response: { 200: PasskeyOptions, ...errors(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (request) => {
      const user = await phoneUser(request, logins, config)
      const device = await waitingDevice(request, request.body.userCode)
      return passkeys.confirmOptions(device.subject, user, relyingParty(request, config), device.expiresAt)
    },
  )

  app.post(
    '/api/mobile/device/passkey',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Answer a device’s passkey prompt: its confirm then counts as approved with a passkey',
        description:
          'Spends the prompt. The approval is kept for this device and this user until the confirm form is submitted (or the device’s code ends); with REQUIRE_PASSKEY=1 a device confirm without one is refused.',
        security: security.phone,
        body: DevicePasskeyBody,
        response: {
          204: { type: 'null', description: 'Verified' },
          ...errors(400, 401, 403, 404, 413, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const user = await phoneUser(request, logins, config)
      const device = await waitingDevice(request, request.body.userCode)
      await passkeys.verifyConfirm(device.subject, user, request.body.passkey, relyingParty(request, config))
      await passkeys.rememberApproval(device.subject, user, device.expiresAt)
      return reply.code(204).send(null)
    },
  )

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

export default fp(passkeyRoutes, {
  name: 'passkey-routes',
  dependencies: ['services', 'limits', '@fastify/cookie'],
  encapsulate: true,
})
