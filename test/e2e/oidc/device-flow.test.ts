import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import * as client from 'openid-client'
import type { Page } from 'playwright-core'
import { addPasskeyAuthenticator } from '@qr-login/testing'
import { launchBrowser, mobile, newPage } from '../../helpers/browser.js'
import { publicApp } from '../../helpers/server.js'
import { discover, relyingParty } from '../../helpers/oidc.js'

const quick = { DEVICE_POLL_INTERVAL_SECONDS: '1' }

async function signedInPhone(t: Test, base: string, username = 'alice') {
  const browser = await launchBrowser(t)
  const problems: string[] = []
  const phone = await newPage(browser, mobile, 'phone', problems)
  await phone.page.goto(`${base}/m`)
  await phone.page.click(`.pick[data-username="${username}"]`)
  await phone.page.waitForSelector('main[data-state="home"]')
  return { phone: phone.page, problems }
}

/** What a TV or a CLI does: ask for a device code, then poll for tokens while the phone decides. */
async function deviceAuthorization(base: string) {
  const config = await discover(`${base}/oidc`, 'test-tv', null)
  const response = await client.initiateDeviceAuthorization(config, { scope: 'openid profile' })
  return { config, response }
}

async function confirmOnPhone(phone: Page, url: string, button: '#confirm' | '#cancel') {
  await phone.goto(url)
  await phone.waitForSelector('#ask-title')
  await phone.click(button)
}

t.test('device grant: the phone opens verification_uri_complete, confirms, and the device gets tokens', async (t) => {
  const rp = await relyingParty(t)
  const { app, base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, ...quick })
  await app.appLogos.ready
  const { config, response } = await deviceAuthorization(base)
  t.match(response, {
    device_code: /.{20,}/,
    user_code: /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/,
    verification_uri: `${base}/oidc/device`,
    verification_uri_complete: `${base}/oidc/device?user_code=${response.user_code}`,
    expires_in: 600,
    interval: 1,
  })
  const polling = client.pollDeviceAuthorizationGrant(config, response)
  const { phone, problems } = await signedInPhone(t, base)
  await phone.goto(response.verification_uri_complete!)
  await phone.waitForSelector('#ask-title')
  t.equal(await phone.locator('#ask-app-logo').getAttribute('alt'), 'Test TV logo', 'the app’s logo on the confirm')
  await phone.click('#confirm')
  await phone.waitForSelector('#result[data-state="done"]')
  t.equal(await phone.locator('#result').textContent(), 'You are signed in on Test TV. You can close this page.')
  const tokens = await polling
  t.match(tokens.claims(), { sub: 'alice', aud: 'test-tv', name: 'Alice', amr: ['swk'] })
  // Not bound to the provider session the phone's browser held while approving: a poll racing that
  // transient session's end was told invalid_grant, and the device's tokens would end with it.
  const stored = await app.backend.oidc.find('AccessToken', tokens.access_token)
  t.match(stored, { accountId: 'alice', clientId: 'test-tv' }, 'the access token is stored')
  t.notOk(stored?.expiresWithSession, 'a device’s tokens do not expire with the phone’s browser session')
  t.same(await client.fetchUserInfo(config, tokens.access_token, 'alice'), {
    sub: 'alice',
    name: 'Alice',
    preferred_username: 'alice',
    picture: `${base}/avatars/alice.svg`,
  })
  t.same(problems, [])
})

t.test('device grant: the confirm screen names the app and the device; cancel gives access_denied', async (t) => {
  const rp = await relyingParty(t)
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, ...quick })
  const { config, response } = await deviceAuthorization(base)
  // Expected to be refused: the expectation is attached at once, so a refusal that comes back while the page
  // is still being checked is never an unhandled rejection.
  const refused = t.rejects(client.pollDeviceAuthorizationGrant(config, response), {
    name: 'ResponseBodyError',
    error: 'access_denied',
  })
  const { phone, problems } = await signedInPhone(t, base, 'bob')
  await phone.goto(response.verification_uri_complete!)
  t.equal(await phone.locator('#ask-title').textContent(), 'Test TV wants you to sign in')
  t.match(await phone.locator('#req-browser').textContent(), /^openid-client|node|undici|Unknown browser/i)
  t.equal(await phone.locator('#req-ip').textContent(), '127.0.0.1')
  t.equal(await phone.locator('#device-code').textContent(), response.user_code)
  t.match(await phone.locator('#device-user').textContent(), /As Bob/)
  await phone.click('#cancel')
  await phone.waitForSelector('#result[data-state="cancelled"]')
  await refused
  t.same(problems, [])
})

t.test('device grant: the code typed on the phone’s home page leads to the same confirm screen', async (t) => {
  const rp = await relyingParty(t)
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, ...quick })
  const { config, response } = await deviceAuthorization(base)
  const polling = client.pollDeviceAuthorizationGrant(config, response)
  const { phone, problems } = await signedInPhone(t, base, 'carol')
  await phone.fill('#user-code', response.user_code.toLowerCase().replace('-', ' '))
  await phone.click('#code-form button[type="submit"]')
  await phone.waitForSelector('#ask-title')
  t.equal(await phone.locator('#ask-title').textContent(), 'Test TV wants you to sign in')
  await phone.click('#confirm')
  t.equal((await polling).claims()?.sub, 'carol')
  t.same(problems, [])
})

t.test('device grant: a phone not signed in is sent to sign in first, then back', async (t) => {
  const rp = await relyingParty(t)
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, ...quick })
  const { config, response } = await deviceAuthorization(base)
  const polling = client.pollDeviceAuthorizationGrant(config, response)
  const browser = await launchBrowser(t)
  const phone = await newPage(browser, mobile, 'phone', [])
  await phone.page.goto(response.verification_uri_complete!)
  await phone.page.click('#sign-in-first')
  await phone.page.click('.pick[data-username="alice"]')
  // Signed in, the phone page sends it back to the device's confirm screen by itself.
  await phone.page.waitForSelector('#ask-title')
  await phone.page.click('#confirm')
  t.equal((await polling).claims()?.sub, 'alice')
})

t.test('device grant: polling before the phone decides is authorization_pending; too fast is slow_down', async (t) => {
  const rp = await relyingParty(t)
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, DEVICE_POLL_INTERVAL_SECONDS: '5' })
  const { response } = await deviceAuthorization(base)
  const poll = async () => {
    const answer = await fetch(`${base}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: response.device_code,
        client_id: 'test-tv',
      }),
    })
    return { status: answer.status, body: (await answer.json()) as { error: string; error_description?: string } }
  }
  t.match(await poll(), { status: 400, body: { error: 'authorization_pending' } })
  t.match(await poll(), { status: 400, body: { error: 'slow_down', error_description: /every 10 seconds/ } })
  t.match(
    await poll(),
    { status: 400, body: { error: 'slow_down', error_description: /every 15 seconds/ } },
    'the interval grows by 5 s each time',
  )
})

t.test('device grant: a code nobody confirms in time is expired_token', async (t) => {
  const rp = await relyingParty(t)
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, DEVICE_CODE_TTL_SECONDS: '1', ...quick })
  const { config, response } = await deviceAuthorization(base)
  t.equal(response.expires_in, 1)
  // The client is told to wait longer than that, so the server's answer, not the client's own timer, ends it.
  await t.rejects(client.pollDeviceAuthorizationGrant(config, { ...response, expires_in: 60 }), {
    name: 'ResponseBodyError',
    error: 'expired_token',
  })
})

t.test('npx qr-login device-login: prints the QR’s URL and the code, waits, and prints who signed in', async (t) => {
  const { base } = await publicApp(t, quick)
  const cli = spawn(
    process.execPath,
    ['apps/cli/bin/qr-login.mjs', 'device-login', '--issuer', `${base}/oidc`, '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const exited = once(cli, 'exit') as Promise<[number]>
  t.teardown(() => cli.kill())
  let stdout = ''
  cli.stdout.setEncoding('utf8')
  const started = await new Promise<{ verificationUriComplete: string; userCode: string }>((resolve) =>
    cli.stdout.on('data', (chunk: string) => {
      stdout += chunk
      const line = stdout.split('\n').find((each) => each.includes('"type":"device-code"'))
      if (line) resolve(JSON.parse(line))
    }),
  )
  t.match(started.verificationUriComplete, `${base}/oidc/device?user_code=${started.userCode}`)
  const { phone, problems } = await signedInPhone(t, base, 'alice')
  await confirmOnPhone(phone, started.verificationUriComplete, '#confirm')
  await phone.waitForSelector('#result[data-state="done"]')
  const [code] = await exited
  t.equal(code, 0)
  const signedIn = JSON.parse(stdout.trim().split('\n').at(-1)!)
  t.match(signedIn, { type: 'signed-in', claims: { sub: 'alice', aud: 'qr-login-cli', name: 'Alice' } })
  t.same(problems, [])
})

t.test('REQUIRE_PASSKEY=1: a device cannot be approved with a tap; the phone says why', async (t) => {
  const rp = await relyingParty(t)
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, REQUIRE_PASSKEY: '1', ...quick })
  const { config, response } = await deviceAuthorization(base)
  const refused = t.rejects(client.pollDeviceAuthorizationGrant(config, response), {
    name: 'ResponseBodyError',
    error: 'access_denied',
  })
  const { phone, problems } = await signedInPhone(t, base, 'alice')
  await phone.goto(response.verification_uri_complete!)
  t.match(await phone.locator('#passkey-only').textContent(), /passkey only/)
  t.equal(await phone.locator('#confirm').count(), 0, 'no confirm to tap')
  await phone.click('#cancel')
  await refused
  t.same(problems, [])
})

t.test(
  'REQUIRE_PASSKEY=1: a device is approved with a passkey on its confirm screen, and the history lists it with the app',
  async (t) => {
    const rp = await relyingParty(t)
    const { base } = await publicApp(
      t,
      { OIDC_CLIENTS_FILE: rp.clientsFile, REQUIRE_PASSKEY: '1', ...quick },
      { hostname: 'localhost' },
    )
    const browser = await launchBrowser(t)
    const problems: string[] = []
    const { context, page: phone } = await newPage(browser, mobile, 'phone', problems)
    const authenticator = await addPasskeyAuthenticator(context, phone)
    await phone.goto(`${base}/m`)
    await phone.click('.pick[data-username="alice"]')
    await phone.waitForSelector('#passkeys-view:not([hidden])')
    await phone.click('#add-passkey')
    await phone.waitForSelector('#passkeys li[data-passkey-id]')
    const [added] = await authenticator.credentials()

    const { config, response } = await deviceAuthorization(base)
    const polling = client.pollDeviceAuthorizationGrant(config, response)
    await phone.goto(response.verification_uri_complete!)
    await phone.waitForSelector('#ask-title')
    t.equal(await phone.locator('#confirm-passkey').textContent(), 'Confirm with passkey')
    await phone.click('#confirm-passkey')
    await phone.waitForSelector('#result[data-state="done"]')
    const tokens = await polling
    t.match(tokens.claims(), { sub: 'alice', aud: 'test-tv', amr: ['hwk', 'user'] }, 'the ID token says: a passkey')
    t.equal((await authenticator.credentials())[0].signCount, added.signCount + 1, 'the authenticator signed once')

    await phone.goto(`${base}/m`)
    const entry = phone.locator('#history li').first()
    await entry.waitFor()
    t.equal(await entry.getAttribute('data-outcome'), 'approved')
    t.match(await entry.textContent(), /with a passkey/)
    t.match(await entry.textContent(), /Test TV/, 'named by the app')
    const history = await context.request.get(`${base}/api/mobile/history`)
    t.match((await history.json()).entries[0], {
      outcome: 'approved',
      app: 'Test TV',
      method: 'passkey',
      ip: '127.0.0.1',
    })
    t.same(problems, [])
  },
)

t.test('a device approved with a tap is in the history too', async (t) => {
  const rp = await relyingParty(t)
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, ...quick })
  const { config, response } = await deviceAuthorization(base)
  const polling = client.pollDeviceAuthorizationGrant(config, response)
  const { phone, problems } = await signedInPhone(t, base, 'bob')
  await confirmOnPhone(phone, response.verification_uri_complete!, '#confirm')
  await phone.waitForSelector('#result[data-state="done"]')
  t.match((await polling).claims(), { sub: 'bob', amr: ['swk'] })
  const history = await phone.context().request.get(`${base}/api/mobile/history`)
  t.match((await history.json()).entries, [{ outcome: 'approved', app: 'Test TV', method: 'tap' }])
  t.same(problems, [])
})
