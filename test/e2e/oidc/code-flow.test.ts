import t from 'tap'
import { ManualClock } from '@qr-login/core'
import * as client from 'openid-client'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { approveOnPhone, readQrFromPage } from '@qr-login/testing'
import { desktop, launchBrowser, mobile, newPage } from '../../helpers/browser.js'
import { publicApp } from '../../helpers/server.js'
import { authorizationRequest, discover, providerWithApp, relyingParty } from '../../helpers/oidc.js'

t.test('code + PKCE: the QR page signs the user in to the app; the ID token verifies; userinfo agrees', async (t) => {
  const { rp, base, browser, pc, problems, config } = await providerWithApp(t)
  const phone = await newPage(browser, mobile, 'phone', problems)
  t.match(config.serverMetadata(), {
    issuer: `${base}/oidc`,
    authorization_endpoint: `${base}/oidc/auth`,
    token_endpoint: `${base}/oidc/token`,
    userinfo_endpoint: `${base}/oidc/me`,
    jwks_uri: `${base}/oidc/jwks`,
    end_session_endpoint: `${base}/oidc/session/end`,
    revocation_endpoint: `${base}/oidc/token/revocation`,
    device_authorization_endpoint: `${base}/oidc/device/auth`,
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid', 'profile', 'offline_access'],
  })

  const { url, checks } = await authorizationRequest(config, rp.redirectUri)
  await pc.page.goto(url.href)
  await pc.page.waitForSelector('main[data-state="pending"]')
  t.equal(await pc.page.locator('#title').textContent(), 'Sign in to Test App with your phone')
  t.equal(await pc.page.locator('#inspector, #transport').count(), 0, 'no developer tooling on an app’s QR page')
  // The app's logo, served by the provider itself, named for the app; links to its own pages.
  const logo = pc.page.locator('#app-logo')
  t.equal(await logo.getAttribute('alt'), 'Test App logo')
  t.match(await logo.getAttribute('src'), /^\/app-logos\/[\w-]{22}$/)
  t.ok(await logo.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth === 1), 'and it loads')
  t.same(
    await pc.page
      .locator('#app-links a')
      .evaluateAll((links: HTMLAnchorElement[]) => links.map((a) => [a.textContent, a.href])),
    [
      ['About Test App', `${rp.base}/`],
      ['Privacy policy', `${rp.base}/privacy`],
      ['Terms of service', `${rp.base}/terms`],
    ],
  )
  const served = await pc.context.request.get(`${base}${await logo.getAttribute('src')}`)
  t.equal(served.headers()['content-type'], 'image/png')
  t.match(served.headers()['content-security-policy'], /sandbox/)
  // The phone, in a context of its own, opens what the QR on the screen says.
  const scanUrl = await readQrFromPage(pc.page)
  t.match(scanUrl, new RegExp(`^${base}/m/[\\w-]{21}$`))
  await phone.page.goto(scanUrl)
  await phone.page.click('.pick[data-username="alice"]')
  await phone.page.waitForSelector('main[data-state="ask"]')
  t.equal(await phone.page.locator('#ask-title').textContent(), 'Test App wants you to sign in')
  t.equal(
    await phone.page.locator('#ask-app-logo').getAttribute('alt'),
    'Test App logo',
    'the phone shows the logo too',
  )
  t.ok(await phone.page.locator('#ask-app-logo').isVisible())
  await phone.page.click('#confirm')
  await pc.page.waitForURL(`${rp.redirectUri}?**`)
  const landed = new URL(pc.page.url())
  t.equal(landed.searchParams.get('state'), checks.expectedState)
  t.equal(landed.searchParams.get('iss'), `${base}/oidc`)

  const tokens = await client.authorizationCodeGrant(config, landed, checks)
  const claims = tokens.claims()!
  t.match(claims, {
    iss: `${base}/oidc`,
    aud: 'test-app',
    sub: 'alice',
    nonce: checks.expectedNonce,
    name: 'Alice',
    preferred_username: 'alice',
    picture: `${base}/avatars/alice.svg`,
    amr: ['swk'],
  })
  // openid-client trusts an ID token straight from the token endpoint; check its signature against the JWKS too.
  const verified = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${base}/oidc/jwks`)), {
    issuer: `${base}/oidc`,
    audience: 'test-app',
  })
  t.equal(verified.payload.nonce, checks.expectedNonce)
  t.equal(verified.protectedHeader.alg, 'RS256')
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  t.same(userinfo, { sub: 'alice', name: 'Alice', preferred_username: 'alice', picture: `${base}/avatars/alice.svg` })

  await t.rejects(
    client.authorizationCodeGrant(config, landed, checks),
    { name: 'ResponseBodyError', error: 'invalid_grant' },
    'a code works once',
  )
  t.same(problems, [])
})

t.test('the test kit plays the phone through the SDK: the phone is told which app asks', async (t) => {
  const { rp, pc, config } = await providerWithApp(t)
  const { url, checks } = await authorizationRequest(config, rp.redirectUri)
  await pc.page.goto(url.href)
  const approval = await approveOnPhone(pc.page, { user: 'bob' })
  t.match(approval.scanned.app, { name: 'Test App', logo: /^\/app-logos\/[\w-]{22}$/ })
  t.match(approval.url, `${rp.redirectUri}?code=`)
  t.equal((await client.authorizationCodeGrant(config, new URL(approval.url), checks)).claims()?.sub, 'bob')
})

t.test('cancel on the phone: the app gets error=access_denied with its state', async (t) => {
  const { rp, pc, problems, config } = await providerWithApp(t)
  const { url, checks } = await authorizationRequest(config, rp.redirectUri)
  await pc.page.goto(url.href)
  const approval = await approveOnPhone(pc.page, { user: 'bob', action: 'cancel' })
  const landed = new URL(approval.url)
  t.equal(landed.origin + landed.pathname, rp.redirectUri)
  t.equal(landed.searchParams.get('error'), 'access_denied')
  t.equal(landed.searchParams.get('state'), checks.expectedState)
  t.equal(landed.searchParams.get('code'), null)
  await t.rejects(client.authorizationCodeGrant(config, landed, checks), {
    name: 'AuthorizationResponseError',
    error: 'access_denied',
  })
  t.same(problems, [])
})

t.test('the PC user cancels on the QR page: the app gets access_denied too', async (t) => {
  const { rp, pc, config } = await providerWithApp(t)
  const { url } = await authorizationRequest(config, rp.redirectUri)
  await pc.page.goto(url.href)
  await pc.page.click('#app-cancel')
  await pc.page.waitForURL(`${rp.redirectUri}?**`)
  t.equal(new URL(pc.page.url()).searchParams.get('error'), 'access_denied')
})

t.test('an unregistered redirect_uri is never redirected to: the provider shows an error page', async (t) => {
  const { rp, base, pc, config } = await providerWithApp(t)
  for (const redirectUri of [
    'https://evil.example/callback',
    `${rp.redirectUri}/../elsewhere`,
    `${rp.base}/callback?x=1`,
  ]) {
    const { url } = await authorizationRequest(config, redirectUri)
    const response = await pc.page.goto(url.href)
    t.equal(response?.status(), 400, redirectUri)
    t.equal(new URL(pc.page.url()).origin, base, 'still on the provider')
    t.equal(await pc.page.locator('[data-error]').getAttribute('data-error'), 'invalid_redirect_uri')
  }
})

t.test('offline_access: a refresh token, refreshed; revoked tokens stop working', async (t) => {
  const { rp, base, pc, config } = await providerWithApp(t)
  // oidc-provider grants offline_access only when consent is asked for (OIDC Core §11).
  const { url, checks } = await authorizationRequest(config, rp.redirectUri, {
    scope: 'openid profile offline_access',
    prompt: 'consent',
  })
  await pc.page.goto(url.href)
  const approval = await approveOnPhone(pc.page, { user: 'carol' })
  const tokens = await client.authorizationCodeGrant(config, new URL(approval.url), checks)
  t.ok(tokens.refresh_token, 'a refresh token with offline_access')
  t.match(tokens.scope, /offline_access/)

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!)
  t.ok(refreshed.access_token)
  t.not(refreshed.access_token, tokens.access_token)
  t.equal(refreshed.claims()?.sub, 'carol', 'a new ID token for the same user')
  t.same(await client.fetchUserInfo(config, refreshed.access_token, 'carol'), {
    sub: 'carol',
    name: 'Carol',
    preferred_username: 'carol',
    picture: `${base}/avatars/carol.svg`,
  })

  await client.tokenRevocation(config, refreshed.access_token)
  await t.rejects(client.fetchUserInfo(config, refreshed.access_token, 'carol'), 'a revoked access token is refused')
  await client.tokenRevocation(config, refreshed.refresh_token ?? tokens.refresh_token!)
  await t.rejects(
    client.refreshTokenGrant(config, refreshed.refresh_token ?? tokens.refresh_token!),
    { name: 'ResponseBodyError', error: 'invalid_grant' },
    'a revoked refresh token is refused',
  )
})

t.test('RP-initiated logout: the provider asks, signs out, and returns to the app', async (t) => {
  const { rp, base, pc, problems, config } = await providerWithApp(t)
  const { url, checks } = await authorizationRequest(config, rp.redirectUri)
  await pc.page.goto(url.href)
  const approval = await approveOnPhone(pc.page, { user: 'alice' })
  const tokens = await client.authorizationCodeGrant(config, new URL(approval.url), checks)

  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token!,
    post_logout_redirect_uri: rp.postLogoutUri,
    state: 'bye',
  })
  await pc.page.goto(logout.href)
  await pc.page.click('button[name="logout"]')
  await pc.page.waitForURL(`${rp.postLogoutUri}?**`)
  t.equal(new URL(pc.page.url()).searchParams.get('state'), 'bye')

  // Signed out at the provider: the next sign-in shows the QR again.
  const again = await authorizationRequest(config, rp.redirectUri)
  await pc.page.goto(again.url.href)
  await pc.page.waitForSelector('main[data-state="pending"]')
  t.match(pc.page.url(), `${base}/interaction/`)
  t.same(problems, [])
})

t.test('sub is the same for one user across two sign-ins, from two browsers', async (t) => {
  const rp = await relyingParty(t)
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile })
  const browser = await launchBrowser(t)
  const config = await discover(`${base}/oidc`)
  const subs: string[] = []
  for (const user of ['alice', 'alice', 'bob']) {
    const pc = await newPage(browser, desktop, 'pc', [])
    const { url, checks } = await authorizationRequest(config, rp.redirectUri)
    await pc.page.goto(url.href)
    const approval = await approveOnPhone(pc.page, { user })
    subs.push((await client.authorizationCodeGrant(config, new URL(approval.url), checks)).claims()!.sub)
    await pc.context.close()
  }
  t.same(subs, ['alice', 'alice', 'bob'])
})

t.test('the provider’s QR page: an expired QR is replaced, any transport works, and it speaks Chinese', async (t) => {
  const clock = new ManualClock(Date.now())
  const { rp, browser, config } = await providerWithApp(t, { QR_TTL_SECONDS: '60' }, { clock })
  const chinese = await newPage(browser, { ...desktop, extraHTTPHeaders: { 'accept-language': 'zh-CN' } }, 'pc', [])
  const { url, checks } = await authorizationRequest(config, rp.redirectUri)
  await chinese.page.goto(`${url.href}`)
  await chinese.page.waitForSelector('main[data-state="pending"]')
  t.equal(await chinese.page.locator('#title').textContent(), '用手机扫码登录 Test App')
  t.equal(await chinese.page.locator('#inspector').count(), 0)
  // Its developers may bring the inspector back on the same page.
  const inspected = new URL(chinese.page.url())
  inspected.search = '?inspect=1'
  await chinese.page.goto(inspected.href)
  await chinese.page.waitForSelector('main[data-state="pending"]')
  t.equal(await chinese.page.locator('#inspector').count(), 1, '?inspect=1 shows the transport inspector')
  const first = await chinese.page.locator('main').getAttribute('data-login-id')
  // Every transport watches it: long polling here, then the QR runs out and a new one replaces it.
  await chinese.page.selectOption('#transport', 'long-poll')
  await clock.advance(60_000)
  await chinese.page.waitForFunction(
    (was) =>
      document.querySelector('main')?.dataset.loginId !== was &&
      document.querySelector('main')?.dataset.state === 'pending',
    first,
  )
  const approval = await approveOnPhone(chinese.page, { user: 'carol' })
  t.equal((await client.authorizationCodeGrant(config, new URL(approval.url), checks)).claims()?.sub, 'carol')
})

t.test(
  'login_hint: the QR page says whose phone; another account’s phone is told it cannot; the hinted one signs in',
  async (t) => {
    const { rp, base, browser, pc, problems, config } = await providerWithApp(t)
    const { url, checks } = await authorizationRequest(config, rp.redirectUri, { login_hint: 'bob' })
    await pc.page.goto(url.href)
    await pc.page.waitForSelector('main[data-state="pending"]')
    t.equal(
      await pc.page.locator('#login-hint').textContent(),
      'Scan with the phone signed in as bob: no other account can approve this sign-in.',
    )
    const scanUrl = await readQrFromPage(pc.page)

    const alicePhone = await newPage(browser, mobile, 'alice’s phone', problems)
    await alicePhone.page.goto(scanUrl)
    await alicePhone.page.click('.pick[data-username="alice"]')
    await alicePhone.page.waitForSelector('main[data-state="wrong-account"]')
    t.match(await alicePhone.page.locator('#result').textContent(), /asked for another account/)

    const bobPhone = await newPage(browser, mobile, 'bob’s phone', problems)
    await bobPhone.page.goto(scanUrl)
    await bobPhone.page.click('.pick[data-username="bob"]')
    await bobPhone.page.waitForSelector('main[data-state="ask"]')
    await bobPhone.page.click('#confirm')
    await pc.page.waitForURL(`${rp.redirectUri}?**`)
    const tokens = await client.authorizationCodeGrant(config, new URL(pc.page.url()), checks)
    t.equal(tokens.claims()?.sub, 'bob')
    t.same(
      problems.filter((problem) => !/403/.test(problem)),
      [],
      'nothing went wrong but the refused scan',
    )
    t.equal(new URL(base).host, new URL(scanUrl).host)
  },
)

t.test('a login_hint longer than 64 characters: the app hears invalid_request', async (t) => {
  const { rp, pc, config } = await providerWithApp(t)
  const { url, checks } = await authorizationRequest(config, rp.redirectUri, { login_hint: 'x'.repeat(65) })
  await pc.page.goto(url.href)
  await pc.page.waitForURL(`${rp.redirectUri}?**`)
  const landed = new URL(pc.page.url())
  t.equal(landed.searchParams.get('error'), 'invalid_request')
  t.equal(landed.searchParams.get('state'), checks.expectedState)
  await t.rejects(client.authorizationCodeGrant(config, landed, checks), {
    name: 'AuthorizationResponseError',
    error: 'invalid_request',
  })
})

t.test(
  'REQUIRE_SAME_NETWORK=1: a phone elsewhere is refused and told why; on the PC’s network it signs the app in',
  async (t) => {
    const { rp, browser, pc, problems, config } = await providerWithApp(t, {
      REQUIRE_SAME_NETWORK: '1',
      TRUST_PROXY: '127.0.0.1',
    })
    const { url, checks } = await authorizationRequest(config, rp.redirectUri)
    await pc.page.goto(url.href)
    await pc.page.waitForSelector('main[data-state="pending"]')
    const scanUrl = await readQrFromPage(pc.page)

    // The phone on mobile data: its requests reach us through a proxy we trust, which says so.
    const away = await newPage(
      browser,
      { ...mobile, extraHTTPHeaders: { 'x-forwarded-for': '100.64.3.4' } },
      'phone away',
      problems,
    )
    await away.page.goto(scanUrl)
    await away.page.click('.pick[data-username="alice"]')
    await away.page.waitForSelector('main[data-state="ask"]')
    await away.page.click('#confirm')
    await away.page.waitForSelector('main[data-state="network-mismatch"]')
    t.match(await away.page.locator('#result').textContent(), /on the computer’s network/)
    t.equal(await pc.page.locator('main').getAttribute('data-state'), 'scanned', 'the PC still waits')

    // The same account, now on the PC's network, scans the same QR again and confirms.
    const near = await newPage(browser, mobile, 'phone near', problems)
    await near.page.goto(scanUrl)
    await near.page.click('.pick[data-username="alice"]')
    await near.page.waitForSelector('main[data-state="ask"]')
    await near.page.click('#confirm')
    await pc.page.waitForURL(`${rp.redirectUri}?**`)
    t.equal((await client.authorizationCodeGrant(config, new URL(pc.page.url()), checks)).claims()?.sub, 'alice')
    t.same(
      problems.filter((problem) => !/403/.test(problem)),
      [],
    )
  },
)

t.test(
  'DPoP, rotation and lifetimes: a public app’s bound tokens, refreshed, and a replayed refresh token revoking its grant',
  async (t) => {
    const {
      rp,
      base,
      pc,
      config: confidential,
    } = await providerWithApp(t, {
      OIDC_ACCESS_TOKEN_TTL_SECONDS: '120',
      OIDC_ID_TOKEN_TTL_SECONDS: '90',
    })
    t.match(confidential.serverMetadata().dpop_signing_alg_values_supported, ['ES256'], 'discovery lists DPoP')
    const config = await discover(`${base}/oidc`, 'test-spa', null)
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair())
    const { url, checks } = await authorizationRequest(config, rp.redirectUri, {
      scope: 'openid profile offline_access',
      prompt: 'consent',
    })
    await pc.page.goto(url.href)
    const approval = await approveOnPhone(pc.page, { user: 'alice' })
    const tokens = await client.authorizationCodeGrant(config, new URL(approval.url), checks, undefined, { DPoP })
    t.equal(tokens.token_type, 'dpop', 'the token is bound to the proof’s key')
    t.equal(tokens.expires_in, 120, 'OIDC_ACCESS_TOKEN_TTL_SECONDS')
    const claims = tokens.claims()!
    t.equal(claims.exp - claims.iat, 90, 'OIDC_ID_TOKEN_TTL_SECONDS')
    t.match(await client.fetchUserInfo(config, tokens.access_token, 'alice', { DPoP }), { sub: 'alice' })
    const asBearer = await fetch(`${base}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    t.equal(asBearer.status, 401, 'a bound token shown as a plain bearer is refused')
    const asDPoPWithoutProof = await fetch(`${base}/oidc/me`, {
      headers: { authorization: `DPoP ${tokens.access_token}` },
    })
    // RFC 9449 §7.1 with RFC 6750 §3.1: no proof at all is a malformed request, not a wrong credential.
    t.equal(asDPoPWithoutProof.status, 400, 'one without its proof is a malformed request')
    t.match(await asDPoPWithoutProof.json(), { error: 'invalid_request' })
    const otherKey = client.getDPoPHandle(config, await client.randomDPoPKeyPair())
    await t.rejects(
      client.fetchUserInfo(config, tokens.access_token, 'alice', { DPoP: otherKey }),
      { name: 'WWWAuthenticateChallengeError', status: 401 },
      'a proof made with another key is refused: 401',
    )

    const first = tokens.refresh_token!
    const refreshed = await client.refreshTokenGrant(config, first, undefined, { DPoP })
    t.ok(refreshed.refresh_token, 'a new refresh token')
    t.not(refreshed.refresh_token, first, 'a public client’s refresh token rotates on every use')
    t.equal(refreshed.token_type, 'dpop')
    await t.rejects(
      client.refreshTokenGrant(config, first, undefined, { DPoP }),
      { name: 'ResponseBodyError', error: 'invalid_grant' },
      'the used one, replayed, is refused',
    )
    await t.rejects(
      client.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP }),
      { name: 'ResponseBodyError', error: 'invalid_grant' },
      'and the replay revoked the whole grant: the newest refresh token too',
    )
    await t.rejects(
      client.fetchUserInfo(config, refreshed.access_token, 'alice', { DPoP }),
      'as well as its access token',
    )
  },
)
