import type { Clock } from '@qr-login/core'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import * as client from 'openid-client'
import { desktop, launchBrowser, newPage } from './browser.js'
import { publicApp } from './server.js'

/**
 * A relying party's landing pages (its redirect_uri and post-logout page: a plain 200), and the
 * OIDC_CLIENTS_FILE registering it: a confidential web app, a public browser app and a public device client.
 */
/** A 1×1 PNG: the test app's logo. */
export const logoPng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)

export async function relyingParty(t: Test) {
  const server = createServer((request, response) => {
    if (request.url === '/logo.png') {
      // Called something else on purpose: the provider goes by the bytes.
      response.writeHead(200, { 'content-type': 'application/octet-stream' })
      return response.end(logoPng)
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end(`<!doctype html><title>Test App</title><p id="landed">${request.url}</p>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const clients = [
    {
      client_id: 'test-app',
      client_secret: 'test-app-secret',
      client_name: 'Test App',
      logo_uri: `${base}/logo.png`,
      client_uri: `${base}/`,
      policy_uri: `${base}/privacy`,
      tos_uri: `${base}/terms`,
      redirect_uris: [`${base}/callback`],
      post_logout_redirect_uris: [`${base}/signed-out`],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'test-spa',
      client_name: 'Test SPA',
      redirect_uris: [`${base}/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    },
    {
      client_id: 'test-tv',
      client_name: 'Test TV',
      logo_uri: `${base}/logo.png`,
      redirect_uris: [],
      response_types: [],
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    },
  ]
  const clientsFile = join(mkdtempSync(join(tmpdir(), 'qr-oidc-')), 'clients.json')
  writeFileSync(clientsFile, JSON.stringify(clients))
  return { base, redirectUri: `${base}/callback`, postLogoutUri: `${base}/signed-out`, clientsFile }
}

/** The service with the test app registered, a browser with a PC page, and openid-client's view of the provider. */
export async function providerWithApp(t: Test, env: Record<string, string> = {}, { clock }: { clock?: Clock } = {}) {
  const rp = await relyingParty(t)
  const { app, base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, ...env }, { clock })
  // The apps' logos are fetched once at start: pages show them from then on.
  await app.appLogos.ready
  const browser = await launchBrowser(t)
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  const config = await discover(`${base}/oidc`)
  return { app, rp, base, browser, pc, problems, config }
}

/** openid-client's view of the provider, as the test app (http: the tests run without TLS). */
/** `secret` null: a public client (the device one). */
export function discover(issuer: string, clientId = 'test-app', secret: string | null = 'test-app-secret') {
  return client.discovery(
    new URL(issuer),
    clientId,
    secret ? { client_secret: secret } : { token_endpoint_auth_method: 'none' },
    secret ? client.ClientSecretBasic(secret) : client.None(),
    { execute: [client.allowInsecureRequests] },
  )
}

/** An authorization request with PKCE, state and nonce, and what is needed to check its answer. */
export async function authorizationRequest(
  config: client.Configuration,
  redirectUri: string,
  extra: Record<string, string> = {},
) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier()
  const expectedState = client.randomState()
  const expectedNonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
    ...extra,
  })
  return { url, checks: { pkceCodeVerifier, expectedState, expectedNonce } }
}

/**
 * A code-flow authorization request's query for the test app, as a browser would send it (PKCE with a fixed
 * challenge): for tests that drive the provider with inject rather than openid-client.
 */
export function authorizationQuery(redirectUri: string): URLSearchParams {
  return new URLSearchParams({
    client_id: 'test-app',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirectUri,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  })
}

/** The cookies a response set, as the next request's Cookie header. */
export function cookiesOf(response: { headers: Record<string, unknown> }): string {
  return ([] as string[])
    .concat((response.headers['set-cookie'] as string | string[] | undefined) ?? [])
    .map((cookie) => cookie.split(';')[0])
    .join('; ')
}
