import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import middie from '@fastify/middie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type Provider from 'oidc-provider'
import type { InteractionResults } from 'oidc-provider'
import { isLoginError, isStoreUnavailable, type UserProfile, type ApprovalMethod } from '@qr-login/core'
import { HttpError, toErrorBody } from '../errors.js'
import { amrFor } from '../oidc/amr.js'
import { endedSignInPage, pageHeaders } from '../oidc/views.js'
import { pickLanguage } from '../lib/language.js'
import { describeUserAgent } from '../lib/user-agent.js'
import { bearerToken } from '../lib/request-auth.js'
import { phoneUser } from '../lib/phone-user.js'
import { CreatedLogin, maxLoginHintLength } from '@qr-login/wire'
import { errors, security } from '../openapi.js'
import { createLogin } from '../lib/create-login.js'
import { AppPageQuery, sendPage } from '../lib/pages.js'

const InteractionParams = Type.Object({ uid: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })
const Redirect = Type.Object({ redirectTo: Type.String({ description: 'Where the browser goes next' }) })
const FinishBody = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{21}$', description: 'The QR login' }) })

/**
 * The OpenID provider at /oidc (oidc-provider, mounted through @fastify/middie, so it reads its own
 * request bodies), and its login interaction: the QR page, whose confirmed login finishes the
 * authorization for the application that asked.
 */
export default fp(
  async function oidcRoutes(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
    const { oidc, logins, config } = app

    // middie runs a hook on every request of the context it is registered in: a context of its own, holding only
    // the provider's routes, keeps that hook off every other request.
    await app.register(async function provider(mount) {
      await mount.register(middie)
      let callback: ReturnType<Provider['callback']> | undefined
      mount.use('/oidc', (req: IncomingMessage, res: ServerResponse) => {
        oidc
          .provider()
          .then((provider) => (callback ??= provider.callback())(req, res))
          .catch((error: unknown) => {
            app.log.error({ err: error }, 'the OpenID provider is not available')
            if (res.headersSent) return res.destroy()
            const body = toErrorBody(new HttpError('STORE_UNAVAILABLE'))
            res.writeHead(body.statusCode, {
              'content-type': 'application/json; charset=utf-8',
              'cache-control': 'no-store',
            })
            res.end(JSON.stringify(body))
          })
      })
      // These routes only bring /oidc requests into this context; the provider answers them in the hook above.
      const unreachable = async (request: FastifyRequest) => {
        throw new HttpError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)
      }
      mount.all('/oidc', { schema: { hide: true } }, unreachable)
      mount.all('/oidc/*', { schema: { hide: true } }, unreachable)
    })

    /** The interaction of this request's cookie, which must be the one in the path; its client. */
    async function interactionOf(uid: string, request: FastifyRequest, reply: FastifyReply) {
      const provider = await oidc.provider()
      const details = await provider.interactionDetails(request.raw, reply.raw).catch((error: unknown) => {
        // The provider's SessionNotFound is a real "not found"; a store that cannot answer is not.
        if (isStoreUnavailable(error)) throw error
        return undefined
      })
      if (!details || details.uid !== uid) throw new HttpError('INTERACTION_NOT_FOUND')
      const client = await provider.Client.find(String(details.params.client_id))
      if (!client) throw new HttpError('INTERACTION_NOT_FOUND', 'The application that asked is no longer registered')
      // login_hint (OpenID Connect Core §3.1.2.1): only that account's phone may scan.
      const hint = details.params.login_hint
      const loginHint = typeof hint === 'string' && hint.trim() ? hint.trim() : undefined
      const registered = config.oidc.clients.find((each) => each.client_id === client.clientId)
      const about = {
        logo: app.appLogos.pathOf(client.clientId),
        clientUri: registered?.client_uri,
        policyUri: registered?.policy_uri,
        tosUri: registered?.tos_uri,
      }
      return { provider, details, client, name: client.clientName ?? client.clientId, loginHint, about }
    }

    app.get(
      '/app-logos/:key',
      {
        schema: {
          tags: ['oidc'],
          summary: 'An application’s logo (its logo_uri, fetched once at start and checked to be an image)',
          params: Type.Object({ key: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }) }),
          produces: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'],
          response: { 200: { description: 'The image, as its bytes say it is' }, ...errors(400, 404) },
        },
      },
      async (request, reply) => {
        const logo = app.appLogos.byPath(request.params.key)
        if (!logo) throw new HttpError('NOT_FOUND', 'No such logo')
        return (
          reply
            .type(logo.contentType)
            // Its name changes with its bytes, so it may be kept.
            .header('cache-control', 'public, max-age=86400, immutable')
            // An SVG opened on its own must not run script in this origin.
            .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
            .header('x-content-type-options', 'nosniff')
            .send(logo.body)
        )
      },
    )

    /** Signs the user in at the provider and grants what the application asked for: the phone's confirm is the consent. */
    async function finish(
      interaction: Awaited<ReturnType<typeof interactionOf>>,
      user: UserProfile,
      approvedWith: ApprovalMethod,
    ): Promise<InteractionResults> {
      const { provider, details } = interaction
      const grant = details.grantId
        ? ((await provider.Grant.find(details.grantId)) ??
          new provider.Grant({ accountId: user.username, clientId: interaction.client.clientId }))
        : new provider.Grant({ accountId: user.username, clientId: interaction.client.clientId })
      if (details.params.scope) grant.addOIDCScope(String(details.params.scope))
      const grantId = await grant.save()
      return {
        login: { accountId: user.username, amr: amrFor(approvedWith), remember: false },
        consent: { grantId },
      }
    }

    app.get(
      '/interaction/:uid',
      { schema: { hide: true, params: InteractionParams, querystring: AppPageQuery } },
      async (request, reply) => {
        const interaction = await interactionOf(request.params.uid, request, reply).catch((error: unknown) => {
          if (!isLoginError(error, 'INTERACTION_NOT_FOUND')) throw error
          // A person opened an ended sign-in (an old tab, the history): a page in their language, not JSON.
          const lang = pickLanguage(request.query.lang, request.cookies.lang, (offered) => request.languages(offered))
          void reply
            .code(404)
            .headers(pageHeaders(lang))
            .type('text/html; charset=utf-8')
            .send(endedSignInPage(lang, request.url))
          return undefined
        })
        if (!interaction) return reply
        if ((interaction.loginHint?.length ?? 0) > maxLoginHintLength) {
          // As POST /api/qr refuses it: the application hears invalid_request at its redirect_uri.
          reply.hijack()
          return interaction.provider.interactionFinished(request.raw, reply.raw, {
            error: 'invalid_request',
            error_description: `login_hint may hold at most ${maxLoginHintLength} characters`,
          })
        }
        if (!interaction.details.deviceCode)
          return sendPage(
            app,
            request,
            reply,
            'pc',
            {
              'qr-login-app': {
                uid: interaction.details.uid,
                name: interaction.name,
                ...(interaction.loginHint ? { loginHint: interaction.loginHint } : {}),
                ...interaction.about,
              },
            },
            { inspector: request.query.inspect === '1' },
          )
        // A device's sign-in: the phone already confirmed it on the provider's confirm screen, as its signed-in user.
        const user = await phoneUser(request, logins, config).catch((error: unknown) => {
          if (isLoginError(error, 'AUTH_REQUIRED')) return undefined
          throw error
        })
        if (!user) return reply.redirect(`/m?next=${encodeURIComponent(request.url)}`)
        // The confirm screen's passkey prompt (routes/passkeys.ts) left its approval for this device and user.
        const deviceId = String(interaction.details.deviceCode)
        const method: ApprovalMethod = (await app.passkeys.takeApproval(`device:${deviceId}`, user)) ? 'passkey' : 'tap'
        const refused = config.passkeys.required && method !== 'passkey'
        const result: InteractionResults = refused
          ? { error: 'access_denied', error_description: 'This service approves sign-ins with a passkey only' }
          : await finish(interaction, user, method)
        if (!refused) {
          const code = await interaction.provider.DeviceCode.find(deviceId)
          const info = (code?.deviceInfo ?? {}) as { ip?: string; ua?: string }
          const { browser, os } = describeUserAgent(String(info.ua ?? ''))
          await logins.recordDeviceApproval(user, {
            id: deviceId,
            app: interaction.name,
            device: { ip: String(info.ip ?? ''), browser, os },
            method,
          })
        }
        reply.hijack()
        await interaction.provider.interactionFinished(request.raw, reply.raw, result, {
          mergeWithLastSubmission: false,
        })
      },
    )

    app.post(
      '/interaction/:uid/qr',
      {
        config: app.limits.createLoginRoute,
        schema: {
          tags: ['oidc'],
          summary: 'Create the QR login for an application’s sign-in (the OpenID provider’s login page)',
          description:
            'Needs the provider’s interaction cookie. The phone then names the application; only this interaction can redeem the login.',
          params: InteractionParams,
          response: { 201: CreatedLogin, ...errors(400, 404, 429, 503) },
        },
      },
      async (request, reply) => {
        const { details, client, name, loginHint, about } = await interactionOf(request.params.uid, request, reply)
        if ((loginHint?.length ?? 0) > maxLoginHintLength)
          throw new HttpError('VALIDATION_ERROR', 'login_hint is too long')
        const created = await createLogin(app, request, reply, {
          app: {
            clientId: client.clientId,
            name,
            interaction: details.uid,
            ...(about.logo ? { logo: about.logo } : {}),
          },
          ...(loginHint ? { loginHint } : {}),
        })
        return reply.code(201).send(created)
      },
    )

    app.post(
      '/interaction/:uid/finish',
      {
        schema: {
          tags: ['oidc'],
          summary: 'Redeem the confirmed QR login: the application’s authorization goes on',
          description:
            'Authorization: Bearer <watchToken>. Answers where the browser goes next (the application’s redirect_uri, with a code).',
          security: security.watch,
          params: InteractionParams,
          body: FinishBody,
          response: { 200: Redirect, ...errors(400, 401, 403, 404, 409, 410, 503) },
        },
      },
      async (request, reply) => {
        const interaction = await interactionOf(request.params.uid, request, reply)
        const { user, approvedWith } = await logins.redeemForApp(
          request.body.id,
          bearerToken(request),
          interaction.details.uid,
        )
        const result = await finish(interaction, user, approvedWith)
        const redirectTo = await interaction.provider.interactionResult(request.raw, reply.raw, result, {
          mergeWithLastSubmission: false,
        })
        return { redirectTo }
      },
    )

    app.post(
      '/interaction/:uid/abort',
      {
        schema: {
          tags: ['oidc'],
          summary: 'Cancel the application’s sign-in: it gets error=access_denied',
          params: InteractionParams,
          response: { 200: Redirect, ...errors(400, 404, 503) },
        },
      },
      async (request, reply) => {
        const interaction = await interactionOf(request.params.uid, request, reply)
        const redirectTo = await interaction.provider.interactionResult(
          request.raw,
          reply.raw,
          { error: 'access_denied', error_description: 'The sign-in was cancelled' },
          { mergeWithLastSubmission: false },
        )
        return { redirectTo }
      },
    )
  },
  { name: 'oidc-routes', dependencies: ['services', 'limits', '@fastify/cookie', '@fastify/accepts'] },
)
