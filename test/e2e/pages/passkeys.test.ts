import t from 'tap'
import type { Page } from 'playwright-core'
import { desktop, launchBrowser, newPage } from '../../helpers/browser.js'
import * as client from 'openid-client'
import { addPasskeyAuthenticator, readQrFromPage } from '@qr-login/testing'
import { chromeOnWindows, publicApp } from '../../helpers/server.js'
import { authorizationRequest, discover, relyingParty } from '../../helpers/oidc.js'

const phoneViewport = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true }

async function signInPhone(page: Page, base: string, username: string) {
  await page.goto(`${base}/m`)
  await page.click(`.pick[data-username="${username}"]`)
  await page.waitForSelector('main[data-state="home"]')
}

/** Adds a passkey in the phone's settings, as a person would. */
async function addPasskey(page: Page) {
  await page.waitForSelector('#passkeys-view:not([hidden])')
  const before = await page.locator('#passkeys li[data-passkey-id]').count()
  await page.click('#add-passkey')
  await page.waitForFunction(
    (count) => document.querySelectorAll('#passkeys li[data-passkey-id]').length > count,
    before,
  )
}

async function pcWaitingLogin(pc: Page, base: string) {
  await pc.goto(`${base}/?transport=sse`)
  await pc.waitForSelector('main[data-state="pending"]')
  return (await pc.locator('main').getAttribute('data-login-id'))!
}

t.test('a passkey added in the settings approves a sign-in with user verification; the PC says so', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t, {}, { hostname: 'localhost' })
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  const phone = await newPage(browser, phoneViewport, 'phone', problems)
  const authenticator = await addPasskeyAuthenticator(phone.context, phone.page)

  await signInPhone(phone.page, base, 'alice')
  t.equal(await phone.page.locator('#passkeys li').textContent(), 'No passkey yet.')
  await addPasskey(phone.page)
  const [credential] = await authenticator.credentials()
  const signCountAfterAdding = credential.signCount
  t.ok(credential, 'the authenticator holds the new passkey')
  const listed = phone.page.locator('#passkeys li[data-passkey-id]')
  t.equal(
    await listed.getAttribute('data-passkey-id'),
    Buffer.from(credential.credentialId, 'base64').toString('base64url'),
  )
  t.match(await listed.textContent(), /^Chrome \d+ on \w+.* · localhostadded /)

  const id = await pcWaitingLogin(pc.page, base)
  await phone.page.goto(`${base}/m/${id}`)
  await phone.page.waitForSelector('main[data-state="ask"]')
  t.equal(await phone.page.locator('#confirm').textContent(), 'Confirm with passkey')
  await phone.page.click('#confirm')
  await phone.page.waitForSelector('main[data-state="done"]')
  t.equal(
    await phone.page.locator('#result').textContent(),
    'Approved with your passkey. You are signed in on the computer.',
  )
  t.equal((await authenticator.credentials())[0].signCount, signCountAfterAdding + 1, 'the authenticator signed once')

  await pc.page.waitForSelector('main[data-state="signed-in"]')
  t.equal(await pc.page.locator('#approved-with').getAttribute('data-method'), 'passkey')
  t.equal(await pc.page.locator('#approved-with').textContent(), 'Approved on your phone with a passkey.')
  const me = await pc.context.request.get(`${base}/api/me`)
  t.same(await me.json(), {
    user: { username: 'alice', displayName: 'Alice', avatarUrl: '/avatars/alice.svg' },
    approvedWith: 'passkey',
  })
  await pc.page.reload()
  t.equal(
    await pc.page.locator('#approved-with').getAttribute('data-method'),
    'passkey',
    'a reload still says how the session was approved',
  )

  await phone.page.goto(`${base}/m`)
  await phone.page.waitForSelector('#history li[data-outcome="approved"]')
  t.match(await phone.page.locator('#history li').first().textContent(), /^Approved · with a passkey/)
  t.match(await listed.textContent(), /last used /, 'the passkey shows its last use')
  t.same(problems, [])
})

t.test('an assertion works once and only for the login it was made for', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t, {}, { hostname: 'localhost' })
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  const phone = await newPage(browser, phoneViewport, 'phone', problems)
  await addPasskeyAuthenticator(phone.context, phone.page)
  await signInPhone(phone.page, base, 'alice')
  await addPasskey(phone.page)

  // A second computer's login, scanned by alice too, with a passkey prompt of its own open.
  const api = phone.context.request
  const other = await (await api.post(`${base}/api/qr`, { headers: { 'user-agent': chromeOnWindows } })).json()
  t.equal((await api.post(`${base}/api/qr/${other.id}/scan`)).status(), 200)
  t.equal((await api.post(`${base}/api/qr/${other.id}/passkey-options`)).status(), 200)

  // The first answer for the PC's login is caught on its way (as by a thief in the middle) and never arrives.
  const id = await pcWaitingLogin(pc.page, base)
  let caught: { passkey: unknown } | undefined
  await phone.page.route('**/confirm', async (route) => {
    caught ??= route.request().postDataJSON() as { passkey: unknown }
    await route.abort()
  })
  await phone.page.goto(`${base}/m/${id}`)
  await phone.page.click('#confirm')
  await phone.page.waitForFunction(() => document.querySelector('#ask-error')?.textContent !== '')
  t.ok(caught?.passkey, 'an assertion was made')
  t.equal(await phone.page.locator('main').getAttribute('data-state'), 'ask', 'the request still waits on the phone')
  await phone.page.unroute('**/confirm')

  const elsewhere = await api.post(`${base}/api/qr/${other.id}/confirm`, { data: caught })
  t.equal(elsewhere.status(), 403)
  t.equal((await elsewhere.json()).code, 'PASSKEY_REJECTED', 'made for another login: refused')
  t.equal(
    (await (await api.post(`${base}/api/qr/${other.id}/scan`)).json()).status,
    'scanned',
    'that login still waits',
  )

  // Asked again, the person approves; the caught answer, sent afterwards, approves nothing.
  await phone.page.click('#confirm')
  await phone.page.waitForSelector('main[data-state="done"]')
  await pc.page.waitForSelector('main[data-state="signed-in"]')
  const replayed = await api.post(`${base}/api/qr/${id}/confirm`, { data: caught })
  t.equal(replayed.status(), 403)
  t.equal((await replayed.json()).code, 'PASSKEY_REJECTED', 'replayed: refused')

  // And an answer to this login's prompt, once used, is refused the second time too.
  const third = await (await api.post(`${base}/api/qr`, { headers: { 'user-agent': chromeOnWindows } })).json()
  let used: unknown
  await phone.page.route('**/confirm', async (route) => {
    used = route.request().postDataJSON()
    await route.continue()
  })
  await phone.page.goto(`${base}/m/${third.id}`)
  await phone.page.click('#confirm')
  await phone.page.waitForSelector('main[data-state="done"]')
  const again = await api.post(`${base}/api/qr/${third.id}/confirm`, { data: used })
  t.equal((await again.json()).code, 'PASSKEY_REJECTED', 'the same answer twice: refused')
  t.equal(problems.filter((problem) => !/Failed to load resource|net::ERR_FAILED/.test(problem)).length, 0)
})

t.test('REQUIRE_PASSKEY=1: a tap is refused until the user adds a passkey', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t, { REQUIRE_PASSKEY: '1' }, { hostname: 'localhost' })
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  const phone = await newPage(browser, phoneViewport, 'phone', problems)
  await addPasskeyAuthenticator(phone.context, phone.page)
  await signInPhone(phone.page, base, 'bob')

  const id = await pcWaitingLogin(pc.page, base)
  await phone.page.goto(`${base}/m/${id}`)
  t.equal(
    await phone.page.locator('#confirm').textContent(),
    'Confirm sign\u2011in',
    'no passkey yet: a plain confirm (its hyphen does not break)',
  )
  await phone.page.click('#confirm')
  await phone.page.waitForSelector('main[data-state="passkey-required"]')
  t.match(await phone.page.locator('#result').textContent(), /asks for a passkey/)
  const tap = await phone.context.request.post(`${base}/api/qr/${id}/confirm`)
  t.equal(tap.status(), 403)
  t.equal((await tap.json()).code, 'PASSKEY_REQUIRED')
  t.equal(await pc.page.locator('main').getAttribute('data-state'), 'scanned', 'the PC still waits')

  await phone.page.goto(`${base}/m`)
  await addPasskey(phone.page)
  await phone.page.goto(`${base}/m/${id}`)
  await phone.page.click('#confirm')
  await phone.page.waitForSelector('main[data-state="done"]')
  await pc.page.waitForSelector('main[data-state="signed-in"]')
  t.equal(await pc.page.locator('#approved-with').getAttribute('data-method'), 'passkey')
  t.same(
    problems.filter((problem) => !/status of 403/.test(problem)),
    [],
  )
})

t.test(
  'on an IP address, where browsers refuse WebAuthn, the settings say why instead of offering a passkey',
  async (t) => {
    const browser = await launchBrowser(t)
    const { base } = await publicApp(t)
    const problems: string[] = []
    const phone = await newPage(browser, phoneViewport, 'phone', problems)
    await signInPhone(phone.page, base, 'carol')
    await phone.page.waitForSelector('#passkeys-view:not([hidden])')
    t.equal(await phone.page.locator('#add-passkey').isVisible(), false)
    t.match(await phone.page.locator('#passkeys-intro').textContent(), /not an IP address/)
    t.same(problems, [])
  },
)

t.test('an application signed in through the OpenID provider with a passkey sees amr hwk and user', async (t) => {
  const rp = await relyingParty(t)
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile }, { hostname: 'localhost' })
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  const phone = await newPage(browser, phoneViewport, 'phone', problems)
  await addPasskeyAuthenticator(phone.context, phone.page)
  await signInPhone(phone.page, base, 'alice')
  await addPasskey(phone.page)

  const config = await discover(`${base}/oidc`)
  const { url, checks } = await authorizationRequest(config, rp.redirectUri)
  await pc.page.goto(url.href)
  await phone.page.goto(await readQrFromPage(pc.page))
  await phone.page.waitForSelector('main[data-state="ask"]')
  t.equal(await phone.page.locator('#ask-title').textContent(), 'Test App wants you to sign in')
  t.equal(await phone.page.locator('#confirm').textContent(), 'Confirm with passkey')
  await phone.page.click('#confirm')
  await pc.page.waitForURL(`${rp.redirectUri}?**`)
  const tokens = await client.authorizationCodeGrant(config, new URL(pc.page.url()), checks)
  t.match(tokens.claims(), { sub: 'alice', amr: ['hwk', 'user'] })
  await phone.page.goto(`${base}/m`)
  await phone.page.waitForSelector('#history li[data-outcome="approved"]')
  t.match(
    await phone.page.locator('#history li').first().textContent(),
    /^Approved · with a passkeyTest App · /,
    'the history names the app',
  )
  t.same(problems, [])
})
