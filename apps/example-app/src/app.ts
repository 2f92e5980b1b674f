import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import cookie from '@fastify/cookie'
import * as oidc from 'openid-client'

/**
 * Acme Notes: what any application does to sign its users in with this QR login. Nothing here
 * knows about QR codes: it is a plain OpenID Connect relying party (openid-client, code + PKCE).
 */
export interface ExampleAppOptions {
  /** The provider: <PUBLIC_URL>/oidc of the QR login service. */
  issuer: string
  clientId: string
  clientSecret: string
  /** Where this app is reached, without a trailing slash: its redirect_uri is <baseUrl>/callback. */
  baseUrl: string
  name?: string
}

interface SignedIn {
  claims: oidc.IDToken
  idToken: string
  userinfo: oidc.UserInfoResponse
}

interface Pending {
  codeVerifier: string
  state: string
  nonce: string
}

const escape = (value: unknown) =>
  String(value ?? '').replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!,
  )

const styles = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #fdf6e3; color: #1f2937; }
header { background: #b45309; color: white; padding: .75rem 1.5rem; font-weight: 700; display: flex; justify-content: space-between; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
.card { background: white; border-radius: .75rem; padding: 1.5rem; box-shadow: 0 1px 3px #0002; }
.button { display: inline-block; background: #b45309; color: white; padding: .6rem 1.2rem; border-radius: .5rem; text-decoration: none; font-weight: 600; border: 0; font-size: 1rem; cursor: pointer; }
.button.quiet { background: #e5e7eb; color: #1f2937; }
.who { display: flex; gap: 1rem; align-items: center; }
.who img { width: 64px; height: 64px; border-radius: 50%; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; font-size: .9rem; }
td, th { text-align: left; border-top: 1px solid #eee; padding: .35rem .5rem; vertical-align: top; word-break: break-all; }
.note { color: #92400e; }
`

/** How the provider registers this app at `baseUrl` (one entry of OIDC_CLIENTS_FILE). */
export function acmeNotesClient(baseUrl: string, clientSecret = 'acme-notes-demo-secret') {
  return {
    client_id: 'acme-notes',
    client_secret: clientSecret,
    client_name: 'Acme Notes',
    redirect_uris: [`${baseUrl}/callback`],
    post_logout_redirect_uris: [`${baseUrl}/`],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
  }
}

export async function buildExampleApp(options: ExampleAppOptions) {
  const name = options.name ?? 'Acme Notes'
  const app = Fastify({ logger: false })
  await app.register(cookie)
  const redirectUri = `${options.baseUrl}/callback`
  // Sessions and sign-ins in progress, in memory: a demo keeps them simple; a real app uses its own session store.
  const sessions = new Map<string, SignedIn>()
  const pending = new Map<string, Pending>()

  let discovered: Promise<oidc.Configuration> | undefined
  const provider = () => {
    discovered ??= oidc
      .discovery(new URL(options.issuer), options.clientId, options.clientSecret, undefined, {
        ...(options.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((error: unknown) => {
        discovered = undefined
        throw error
      })
    return discovered
  }

  const page = (reply: FastifyReply, title: string, body: string, status = 200) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; style-src 'self'; img-src * data:; form-action 'self'")
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<link rel="stylesheet" href="/style.css"></head>
<body><header><span>${escape(name)}</span><span>an example app</span></header><main><div class="card">${body}</div></main></body></html>`)

  const session = (request: FastifyRequest) => {
    const id = request.cookies.acme_session
    return id ? sessions.get(id) : undefined
  }

  app.get('/style.css', (_request, reply) => reply.type('text/css').send(styles))
  app.get('/favicon.ico', (_request, reply) =>
    reply
      .type('image/svg+xml')
      .send(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#b45309"/></svg>',
      ),
  )

  app.get<{ Querystring: { cancelled?: string } }>('/', (request, reply) => {
    const signedIn = session(request)
    if (!signedIn)
      return page(
        reply,
        name,
        `<h1>Welcome to ${escape(name)}</h1>
<p>Your notes, on any computer. Sign in with your phone: no password to type here.</p>
${request.query.cancelled ? '<p class="note" id="cancelled">The sign-in was cancelled on the phone.</p>' : ''}
<p><a id="sign-in" class="button" href="/login">Sign in with QR</a></p>`,
      )
    const { claims, userinfo } = signedIn
    const rows = Object.entries(claims)
      .map(([key, value]) => `<tr><th>${escape(key)}</th><td>${escape(JSON.stringify(value))}</td></tr>`)
      .join('')
    return page(
      reply,
      name,
      `<div class="who">${userinfo.picture ? `<img src="${escape(userinfo.picture)}" alt="">` : ''}
<div><h1 id="signed-in-as">Hello, ${escape(userinfo.name ?? claims.sub)}</h1>
<p>Signed in as <strong id="username">${escape(userinfo.preferred_username ?? claims.sub)}</strong>, approved on the phone ${
        Array.isArray(claims.amr) && claims.amr.includes('hwk') ? 'with a passkey' : 'with a tap'
      }.</p></div></div>
<h2>Your ID token's claims</h2>
<table id="claims">${rows}</table>
<p><a id="sign-out" class="button quiet" href="/logout">Sign out</a></p>`,
    )
  })

  app.get('/login', async (_request, reply) => {
    const config = await provider()
    const codeVerifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    pending.set(state, { codeVerifier, state, nonce })
    setTimeout(() => pending.delete(state), 10 * 60_000).unref()
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    return reply.redirect(url.href)
  })

  app.get<{ Querystring: { state?: string; error?: string } }>('/callback', async (request, reply) => {
    const started = request.query.state ? pending.get(request.query.state) : undefined
    if (!started) return page(reply, 'Sign-in', '<p>This sign-in was not started here, or it took too long.</p>', 400)
    pending.delete(started.state)
    if (request.query.error === 'access_denied') return reply.redirect('/?cancelled=1')
    const config = await provider()
    const tokens = await oidc.authorizationCodeGrant(config, new URL(request.url, options.baseUrl), {
      pkceCodeVerifier: started.codeVerifier,
      expectedState: started.state,
      expectedNonce: started.nonce,
    })
    const claims = tokens.claims()!
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)
    const id = randomBytes(32).toString('base64url')
    sessions.set(id, { claims, idToken: tokens.id_token!, userinfo })
    reply.setCookie('acme_session', id, { path: '/', httpOnly: true, sameSite: 'lax' })
    return reply.redirect('/')
  })

  app.get('/logout', async (request, reply) => {
    const signedIn = session(request)
    if (request.cookies.acme_session) sessions.delete(request.cookies.acme_session)
    reply.clearCookie('acme_session', { path: '/' })
    if (!signedIn) return reply.redirect('/')
    // Signed out here, and at the provider too (RP-initiated logout), which brings the browser back.
    const url = oidc.buildEndSessionUrl(await provider(), {
      id_token_hint: signedIn.idToken,
      post_logout_redirect_uri: `${options.baseUrl}/`,
    })
    return reply.redirect(url.href)
  })

  app.setErrorHandler((error, _request, reply) => {
    app.log.error(error)
    return page(reply, 'Sign-in problem', `<p>Something went wrong: ${escape((error as Error).message)}</p>`, 502)
  })
  return app
}
