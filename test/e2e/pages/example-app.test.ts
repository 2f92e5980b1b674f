import t, { type Test } from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { approveOnPhone } from '@qr-login/testing'
import { acmeNotesClient, buildExampleApp } from '@qr-login/example-app'
import { desktop, launchBrowser, newPage } from '../../helpers/browser.js'
import { publicApp } from '../../helpers/server.js'
import { freePort } from '../../helpers/redis.js'

/** The service, and Acme Notes registered with it on a port of its own: what `npm run example` starts. */
async function serviceAndExample(t: Test) {
  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const clientsFile = join(mkdtempSync(join(tmpdir(), 'qr-example-')), 'clients.json')
  writeFileSync(clientsFile, JSON.stringify([acmeNotesClient(baseUrl)]))
  const { base } = await publicApp(t, { OIDC_CLIENTS_FILE: clientsFile })
  const example = await buildExampleApp({
    issuer: `${base}/oidc`,
    clientId: 'acme-notes',
    clientSecret: 'acme-notes-demo-secret',
    baseUrl,
  })
  await example.listen({ port, host: '127.0.0.1' })
  t.teardown(() => example.close())
  return { base, baseUrl }
}

t.test('Acme Notes signs Alice in with the QR, shows her ID token, and signs her out', async (t) => {
  const browser = await launchBrowser(t)
  const { baseUrl } = await serviceAndExample(t)
  const problems: string[] = []
  const { page } = await newPage(browser, desktop, 'pc', problems)

  await page.goto(baseUrl)
  await page.click('#sign-in')
  await approveOnPhone(page, { user: 'alice' })
  await page.waitForSelector('#signed-in-as')
  t.equal(await page.locator('#signed-in-as').textContent(), 'Hello, Alice')
  t.match(await page.locator('#claims').textContent(), /sub"alice".*amr\["swk"\]/s)

  await page.click('#sign-out')
  await page.click('button[name="logout"]')
  await page.waitForSelector('#sign-in')
  t.equal(new URL(page.url()).origin, baseUrl, 'back at the app, signed out')
  t.same(problems, [])
})

t.test('Acme Notes hears a cancel on the phone as a cancelled sign-in', async (t) => {
  const browser = await launchBrowser(t)
  const { baseUrl } = await serviceAndExample(t)
  const { page } = await newPage(browser, desktop, 'pc', [])
  await page.goto(baseUrl)
  await page.click('#sign-in')
  await approveOnPhone(page, { user: 'bob', action: 'cancel' })
  await page.waitForSelector('#cancelled')
  t.equal(await page.locator('#signed-in-as').count(), 0)
})
