// Takes the README's screenshots of the pages in Debian's headless chromium, on the memory store (nothing kept).
// Run: npm run screenshots   (Chinese text needs fonts-noto-cjk installed)
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addPasskeyAuthenticator, readQrFromPage } from '@qr-login/testing'
import { acmeNotesClient, buildExampleApp } from '@qr-login/example-app'
import { chromium } from 'playwright-core'
import { buildApp } from '../apps/server/src/app.js'
import { loadConfig } from '../apps/server/src/config.js'

const out = 'docs/screenshots'
mkdirSync(out, { recursive: true })
const port = 3399
const base = `http://127.0.0.1:${port}`
const app = await buildApp(
  loadConfig({ STORE: 'memory', PORT: String(port), PUBLIC_URL: base, LOG_LEVEL: 'warn', QR_TTL_SECONDS: '120' }),
)
await app.listen({ port, host: '127.0.0.1' })

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
})
const shot = async (page: import('playwright-core').Page, name: string) => {
  await page.waitForTimeout(250) // let the avatar images and the countdown settle
  await page.screenshot({ path: `${out}/${name}.png` })
  console.log(`${out}/${name}.png`)
}
/** A page in a context of its own: a PC's window, or a phone's (touch, 2× pixels). */
const pcPage = async () => (await browser.newContext({ viewport: { width: 1100, height: 640 } })).newPage()
const phoneContext = (width: number, height: number) =>
  browser.newContext({ viewport: { width, height }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
const phonePage = async (width: number, height: number) => (await phoneContext(width, height)).newPage()
try {
  const pc = await pcPage()
  const phone = await phonePage(390, 700)

  await pc.goto(`${base}/?transport=sse`)
  await pc.waitForSelector('main[data-state="pending"]')
  await shot(pc, 'pc-waiting')
  const id = await pc.locator('main').getAttribute('data-login-id')

  await phone.goto(`${base}/m/${id}`)
  await phone.waitForSelector('main[data-state="sign-in"] .pick')
  await shot(phone, 'phone-sign-in')
  await phone.click('.pick[data-username="alice"]')
  await phone.waitForSelector('main[data-state="ask"]')
  await shot(phone, 'phone-confirm')
  await pc.waitForSelector('main[data-state="scanned"]')
  await shot(pc, 'pc-scanned')
  await phone.click('#confirm')
  await pc.waitForSelector('main[data-state="signed-in"]')
  await shot(pc, 'pc-signed-in')
  await phone.waitForSelector('main[data-state="done"]')
  await shot(phone, 'phone-done')

  const expiring = await buildApp(
    loadConfig({
      STORE: 'memory',
      PORT: String(port + 1),
      PUBLIC_URL: `http://127.0.0.1:${port + 1}`,
      LOG_LEVEL: 'warn',
      QR_TTL_SECONDS: '1',
    }),
  )
  await expiring.listen({ port: port + 1, host: '127.0.0.1' })
  const lonely = await pcPage()
  await lonely.goto(`http://127.0.0.1:${port + 1}/?transport=ws`)
  await lonely.waitForSelector('main[data-state="expired"]')
  await shot(lonely, 'pc-expired')
  await expiring.close()

  // Number matching, seen from a phone on another network (it says so through the trusted proxy header).
  const matchPort = port + 2
  const matching = await buildApp(
    loadConfig({
      STORE: 'memory',
      PORT: String(matchPort),
      PUBLIC_URL: `http://127.0.0.1:${matchPort}`,
      LOG_LEVEL: 'warn',
      MATCH_CODE: '1',
      TRUST_PROXY: '127.0.0.1',
    }),
  )
  await matching.listen({ port: matchPort, host: '127.0.0.1' })
  const matchPc = await pcPage()
  const farPhone = await (
    await browser.newContext({
      viewport: { width: 390, height: 760 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
      extraHTTPHeaders: { 'x-forwarded-for': '100.64.3.4' },
    })
  ).newPage()
  await matchPc.goto(`http://127.0.0.1:${matchPort}/?transport=ws`)
  await matchPc.waitForSelector('#match-code:not([hidden])')
  const matchId = await matchPc.locator('main').getAttribute('data-login-id')
  await farPhone.goto(`http://127.0.0.1:${matchPort}/m/${matchId}`)
  await farPhone.click('.pick[data-username="alice"]')
  await farPhone.waitForSelector('#match-choices button')
  await matchPc.waitForSelector('main[data-state="scanned"]')
  await shot(matchPc, 'pc-match-code')
  await shot(farPhone, 'phone-match-code')
  await farPhone.click(`#match-choices button:text-is("${await matchPc.locator('#match-digits').textContent()}")`)
  await matchPc.waitForSelector('main[data-state="signed-in"]')
  await farPhone.goto(`http://127.0.0.1:${matchPort}/m`)
  await farPhone.waitForSelector('#sessions li[data-session-id]')
  await shot(farPhone, 'phone-sessions')
  await farPhone.waitForSelector('#history li[data-outcome]')
  await farPhone.locator('#history-view').scrollIntoViewIfNeeded()
  await shot(farPhone, 'phone-history')
  await matching.close()

  // Can't scan: the code typed on the phone's home page.
  const coded = await pcPage()
  await coded.goto(`${base}/?transport=socket.io`)
  await coded.waitForSelector('#user-code')
  const typing = await phonePage(360, 760)
  await typing.goto(`${base}/m`)
  await typing.click('.pick[data-username="bob"]')
  await typing.waitForSelector('main[data-state="home"]')
  await typing.fill(
    '#user-code',
    ((await coded.locator('#user-code').textContent()) ?? '').toLowerCase().replace('-', ' '),
  )
  await shot(typing, 'phone-code-entry')

  // Passkeys: WebAuthn wants a host name, so this app is on localhost; a CDP virtual authenticator plays the fingerprint reader.
  const passkeyPort = port + 3
  const passkeyBase = `http://localhost:${passkeyPort}`
  const passkeyApp = await buildApp(
    loadConfig({ STORE: 'memory', PORT: String(passkeyPort), PUBLIC_URL: passkeyBase, LOG_LEVEL: 'warn' }),
  )
  await passkeyApp.listen({ port: passkeyPort, host: '127.0.0.1' })
  try {
    const passkeyPc = await pcPage()
    const handContext = await phoneContext(390, 760)
    const hand = await handContext.newPage()
    await addPasskeyAuthenticator(handContext, hand)
    await hand.goto(`${passkeyBase}/m`)
    await hand.click('.pick[data-username="alice"]')
    await hand.click('#add-passkey')
    await hand.waitForSelector('#passkeys li[data-passkey-id]')
    await hand.locator('#passkeys-view').scrollIntoViewIfNeeded()
    await shot(hand, 'phone-passkeys')
    await passkeyPc.goto(`${passkeyBase}/?transport=ws`)
    await passkeyPc.waitForSelector('main[data-state="pending"]')
    await hand.goto(`${passkeyBase}/m/${await passkeyPc.locator('main').getAttribute('data-login-id')}`)
    await hand.waitForSelector('main[data-state="ask"]')
    await shot(hand, 'phone-passkey-confirm')
    await hand.click('#confirm')
    await passkeyPc.waitForSelector('main[data-state="signed-in"]')
    await shot(passkeyPc, 'pc-signed-in-passkey')
  } finally {
    await passkeyApp.close()
  }

  // Sign in to another app: Acme Notes (apps/example-app) through the OpenID provider.
  const examplePort = port + 5
  const exampleBase = `http://127.0.0.1:${examplePort}`
  // The app's logo and pages, as its developer would register them; the provider fetches the logo at start.
  const logoPort = port + 7
  const logoServer = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'image/svg+xml' })
    response.end(readFileSync('scripts/acme-notes-logo.svg'))
  })
  await new Promise<void>((resolve) => logoServer.listen(logoPort, '127.0.0.1', resolve))
  const clientsFile = join(mkdtempSync(join(tmpdir(), 'qr-shots-')), 'clients.json')
  writeFileSync(
    clientsFile,
    JSON.stringify([
      {
        ...acmeNotesClient(exampleBase),
        logo_uri: `http://127.0.0.1:${logoPort}/logo.svg`,
        client_uri: `${exampleBase}/`,
        policy_uri: `${exampleBase}/privacy`,
        tos_uri: `${exampleBase}/terms`,
      },
      {
        client_id: 'acme-tv',
        client_name: 'Acme Notes for TV',
        logo_uri: `http://127.0.0.1:${logoPort}/logo.svg`,
        redirect_uris: [],
        response_types: [],
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
        token_endpoint_auth_method: 'none',
      },
    ]),
  )
  const providerPort = port + 6
  const providerBase = `http://127.0.0.1:${providerPort}`
  const provider = await buildApp(
    loadConfig({
      STORE: 'memory',
      PORT: String(providerPort),
      PUBLIC_URL: providerBase,
      LOG_LEVEL: 'warn',
      OIDC_CLIENTS_FILE: clientsFile,
    }),
  )
  await provider.listen({ port: providerPort, host: '127.0.0.1' })
  await provider.appLogos.ready
  const example = await buildExampleApp({
    issuer: `${providerBase}/oidc`,
    clientId: 'acme-notes',
    clientSecret: 'acme-notes-demo-secret',
    baseUrl: exampleBase,
  })
  await example.listen({ port: examplePort, host: '127.0.0.1' })
  try {
    const acme = await pcPage()
    await acme.goto(exampleBase)
    await shot(acme, 'example-sign-in')
    await acme.click('#sign-in')
    await acme.waitForSelector('main[data-state="pending"]')
    await shot(acme, 'example-qr')
    const asked = await phonePage(390, 700)
    await asked.goto(await readQrFromPage(acme))
    await asked.click('.pick[data-username="alice"]')
    await asked.waitForSelector('main[data-state="ask"]')
    await shot(asked, 'phone-app-asks')
    await asked.click('#confirm')
    await acme.waitForSelector('#signed-in-as')
    await shot(acme, 'example-signed-in')

    // The same QR page in Chinese, and at a phone's width.
    const acmeZh = await (
      await browser.newContext({
        viewport: { width: 1100, height: 640 },
        extraHTTPHeaders: { 'accept-language': 'zh-CN' },
      })
    ).newPage()
    await acmeZh.goto(exampleBase)
    await acmeZh.click('#sign-in')
    await acmeZh.waitForSelector('main[data-state="pending"]')
    await shot(acmeZh, 'example-qr-zh')

    // A TV's sign-in confirmed on a phone that reads Chinese.
    const tv = await fetch(`${providerBase}/oidc/device/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=acme-tv&scope=openid',
    }).then((response) => response.json() as Promise<{ verification_uri_complete: string }>)
    const zhPhone = await (
      await browser.newContext({
        viewport: { width: 390, height: 700 },
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 2,
        extraHTTPHeaders: { 'accept-language': 'zh-CN' },
      })
    ).newPage()
    await zhPhone.goto(`${providerBase}/m`)
    await zhPhone.click('.pick[data-username="alice"]')
    await zhPhone.waitForSelector('main[data-state="home"]')
    await zhPhone.goto(tv.verification_uri_complete)
    await zhPhone.waitForSelector('#ask-title')
    await shot(zhPhone, 'device-confirm-zh')
  } finally {
    await example.close()
    await provider.close()
    logoServer.close()
  }

  const chinese = await (
    await browser.newContext({
      viewport: { width: 1100, height: 640 },
      extraHTTPHeaders: { 'accept-language': 'zh-CN' },
    })
  ).newPage()
  await chinese.goto(`${base}/?transport=ws`)
  await chinese.waitForSelector('main[data-state="pending"]')
  await shot(chinese, 'pc-waiting-zh')
} finally {
  await browser.close()
  await app.close()
}
