import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type Provider from 'oidc-provider'
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider'
import {
  isStoreUnavailable,
  type Clock,
  type UserProfile,
  type LoginService,
  type OidcArtefactStore,
} from '@qr-login/core'
import type { Config } from '../config.js'
import { clientAddress, plainAddress, trustRule, type TrustRule } from '../lib/client-address.js'
import { describeUserAgent } from '../lib/user-agent.js'
import { artefactAdapter } from './adapter.js'
import { deviceGrantType } from './clients.js'
import type { ProviderKeys } from './keys.js'
import {
  deviceCancelledPage,
  deviceCodePage,
  deviceConfirmPage,
  deviceDonePage,
  errorPage,
  logoutPage,
  signedOutPage,
} from './views.js'

export interface OidcDeps {
  config: Config
  /** Our own reckoning (device polling's pace); oidc-provider keeps its tokens' times on the system clock. */
  clock: Clock
  logins: LoginService
  store: OidcArtefactStore
  keys: ProviderKeys
  /** Whether a user holds a passkey: the device confirm then asks for it. */
  passkeys: { hasAny(user: UserProfile): Promise<boolean> }
  /** Where an app's logo is served (oidc/logos.ts). */
  logos: { pathOf(clientId: string): string | undefined }
}

export const interactionPath = (uid: string) => `/interaction/${uid}`

/** The OpenID provider (panva's oidc-provider): its login page is the QR, its store ours. */
export async function createProvider({
  config,
  clock,
  logins,
  store,
  keys,
  passkeys,
  logos,
}: OidcDeps): Promise<Provider> {
  // Loaded on first use: a service nobody signs in to another app through pays nothing for it (Koa, its
  // routes, and the "Unsupported runtime" notice a Node without an LTS codename gets).
  const { default: Provider } = await import('oidc-provider')
  const issuer = `${config.publicUrl}/oidc`
  const phoneUser = (ctx: KoaContextWithOIDC) =>
    logins.sessions.user('phone', ctx.cookies.get('m_session', { signed: false }) || undefined)

  const { ttl } = config.oidc
  const configuration: Configuration = {
    adapter: artefactAdapter(store),
    clients: config.oidc.clients as Configuration['clients'],
    jwks: keys.jwks,
    cookies: { keys: keys.cookieKeys },
    async findAccount(_ctx, id) {
      const user = logins.accounts.find(id)
      if (!user) return undefined
      return {
        accountId: user.username,
        claims: () => ({
          sub: user.username,
          name: user.displayName,
          preferred_username: user.username,
          picture: new URL(user.avatarUrl, config.publicUrl).href,
        }),
      }
    },
    // amr with openid: how the phone approved (a tap, or a passkey), in every ID token.
    claims: { openid: ['sub', 'amr'], profile: ['name', 'preferred_username', 'picture'] },
    scopes: ['openid', 'profile', 'offline_access'],
    // The ID token carries the profile claims too, so an application has them without a userinfo call.
    conformIdTokenClaims: false,
    interactions: { url: (_ctx, interaction) => interactionPath(interaction.uid) },
    ttl: {
      AccessToken: ttl.accessToken,
      AuthorizationCode: 60,
      IdToken: ttl.idToken,
      Interaction: 3600,
      // A grant outlives every token made from it, so none outlives the grant it belongs to.
      Grant: Math.max(ttl.refreshToken, ttl.accessToken, ttl.session),
      RefreshToken: ttl.refreshToken,
      Session: ttl.session,
      DeviceCode: config.oidc.deviceCodeTtlSeconds,
    },
    // RFC 9700 §4.14.2: a public client's refresh token is replaced on every use, DPoP-bound or not (the
    // library's default skips bound ones), and a used one that comes back revokes its whole grant (the
    // library does that for any consumed refresh token). A confidential client's rotates near its end.
    // A device's sign-in is its own: it does not end with the provider session the phone's browser held
    // while approving (a transient one, rotated and ended as the approval completes). Bound to it, a poll
    // that landed between that session's end and its replacement was told invalid_grant (seen under load).
    // Browser flows keep the library's rule: without offline_access, tokens end with the session.
    expiresWithSession: async (_ctx, token) => token.kind !== 'DeviceCode' && !token.scopes.has('offline_access'),
    rotateRefreshToken(ctx) {
      const { RefreshToken: refreshToken, Client: client } = ctx.oidc.entities
      if (client?.clientAuthMethod === 'none') return true
      return (refreshToken?.ttlPercentagePassed() ?? 0) >= 70
    },
    features: {
      devInteractions: { enabled: false },
      // Sender-constrained tokens (RFC 9449): a DPoP proof at the token endpoint binds the tokens to its key.
      dPoP: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          logoutPage(ctx, form, ctx.oidc.client?.clientName)
        },
        async postLogoutSuccessSource(ctx) {
          signedOutPage(ctx)
        },
      },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        deviceInfo: (ctx) => ({ ip: ctx.ip, ua: ctx.get('user-agent') }),
        async userCodeInputSource(ctx, _form, _out, err) {
          if (err?.name === 'AbortedError') return deviceCancelledPage(ctx)
          deviceCodePage(
            ctx,
            ctx.oidc.urlFor('code_verification'),
            ctx.oidc.session?.state?.secret as string,
            Boolean(err),
          )
        },
        async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
          const { browser, os } = describeUserAgent(String(deviceInfo?.ua ?? ''))
          const user = await phoneUser(ctx)
          deviceConfirmPage(ctx, {
            appName: client.clientName ?? client.clientId,
            logo: logos.pathOf(client.clientId),
            browser,
            os,
            ip: deviceInfo?.ip as string | undefined,
            userCode,
            form,
            user,
            hasPasskey: user ? await passkeys.hasAny(user) : false,
            passkeyOnly: config.passkeys.required,
          })
        },
        async successSource(ctx) {
          deviceDonePage(ctx, ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId)
        },
      },
    },
    async renderError(ctx, out) {
      errorPage(ctx, out)
    },
  }
  const provider = new Provider(issuer, configuration)
  readClientByTheServiceRule(provider, trustRule(config.trustProxy))
  answerEveryRequest(provider)
  devicePolling(provider, { store, clock }, config.oidc.devicePollSeconds, config.oidc.deviceCodeTtlSeconds)
  return provider
}

/**
 * The provider sees the client as the rest of the service does (lib/client-address.ts). Koa's own
 * `proxy` would take the left-most X-Forwarded-For entry, which the client itself may have written, and
 * would read X-Forwarded-Proto from any peer. Mounted through middie, the request carries Fastify's
 * reading (request.ip, request.protocol), which used the same rule; a direct call reads it here.
 */
function readClientByTheServiceRule(provider: Provider, trust: TrustRule) {
  provider.proxy = false
  provider.use(async (ctx, next) => {
    const fromFastify = ctx.req as IncomingMessage & { ip?: string; protocol?: string }
    ctx.request.ip = plainAddress(fromFastify.ip ?? clientAddress(ctx.req, trust))
    // Koa's `secure` (and so its cookies' Secure flag) follows `protocol`.
    const protocol = fromFastify.protocol
    if (protocol === 'https' || protocol === 'http') {
      Object.defineProperty(ctx.request, 'protocol', { value: protocol, configurable: true })
    }
    await next()
  })
}

/**
 * No request gets a 500. A store that cannot be reached is a 503 (temporarily_unavailable), as
 * everywhere else in the service. And oidc-provider 9.13, when a request to a route with a session
 * fails before that session is first saved (a GET of the device authorization endpoint, a device form
 * posted without its xsrf), masks the refusal with a TypeError from saving the new session: that is
 * the client's malformed request, answered 400 invalid_request.
 */
function answerEveryRequest(provider: Provider) {
  const storeDown = new WeakSet<object>()
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
    if (isStoreUnavailable(error)) storeDown.add(ctx)
  })
  provider.use(async (ctx, next) => {
    try {
      await next()
    } catch (error) {
      if (isStoreUnavailable(error)) storeDown.add(ctx)
      else if (error instanceof TypeError && /previously persisted Sessions/.test(error.message)) {
        ctx.status = 400
        ctx.type = 'json'
        ctx.body = { error: 'invalid_request', error_description: 'The request is not one this endpoint takes' }
        return
      } else throw error
    }
    if (storeDown.has(ctx)) {
      ctx.status = 503
      ctx.type = 'json'
      ctx.body = {
        error: 'temporarily_unavailable',
        error_description: 'The store cannot be reached, try again shortly',
      }
    }
  })
}

/**
 * RFC 8628 §3.5, which oidc-provider leaves out: the device authorization answer names the polling
 * `interval`, and a device that polls faster is told slow_down, its interval growing by 5 s for this
 * and every later poll.
 */
function devicePolling(
  provider: Provider,
  { store, clock }: { store: OidcArtefactStore; clock: Clock },
  intervalSeconds: number,
  keepSeconds: number,
) {
  provider.use(async (ctx, next) => {
    await next()
    if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200) {
      ;(ctx.body as { interval?: number }).interval = intervalSeconds
      return
    }
    const params = ctx.oidc?.params as { grant_type?: string; device_code?: string } | undefined
    if (ctx.oidc?.route !== 'token' || params?.grant_type !== deviceGrantType || !params.device_code) return
    const body = ctx.body as { error?: string } | undefined
    if (body?.error !== 'authorization_pending') return
    const id = createHash('sha256').update(params.device_code).digest('base64url')
    const now = clock.now()
    const last = (await store.find('DevicePoll', id)) as { at: number; interval: number } | undefined
    let interval = last?.interval ?? intervalSeconds
    if (last && now - last.at < interval * 1000) {
      interval += 5
      ctx.body = { error: 'slow_down', error_description: `Poll at most every ${interval} seconds` }
    }
    await store.upsert('DevicePoll', id, { at: now, interval }, keepSeconds)
  })
}
