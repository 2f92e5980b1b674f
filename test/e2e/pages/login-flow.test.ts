import t from 'tap'
import { decodeQrOnScreen, desktop, launchBrowser, mobile, newPage } from '../../helpers/browser.js'
import { publicApp } from '../../helpers/server.js'

const transports = ['poll', 'long-poll', 'sse', 'ws', 'socket.io'] as const

t.test('the whole sign-in in a real browser, for every transport', async (t) => {
  const browser = await launchBrowser(t)
  for (const transport of transports) {
    await t.test(transport, async (t) => {
      const { base } = await publicApp(t, { POLL_INTERVAL_MS: '200' })
      const problems: string[] = []
      const pc = await newPage(browser, desktop, 'pc', problems)
      const phone = await newPage(browser, mobile, 'phone', problems)
      t.teardown(() => Promise.all([pc.context.close(), phone.context.close()]))

      await pc.page.goto(`${base}/?transport=${transport}`)
      await pc.page.waitForSelector('main[data-state="pending"]')
      await t.resolveMatch(pc.page.locator('#message').textContent(), "Scan the QR code with your phone's camera")
      t.match(await pc.page.locator('#countdown').textContent(), /^Expires in [12]:\d\d$/)

      const scanUrl = await decodeQrOnScreen(pc.page)
      t.match(scanUrl, new RegExp(`^${base}/m/[A-Za-z0-9_-]{21}$`), 'the QR on screen encodes the scan URL')
      t.equal(scanUrl.split('/m/')[1], await pc.page.locator('main').getAttribute('data-login-id'))

      await phone.page.goto(scanUrl)
      await phone.page.click('.pick[data-username="alice"]')
      await phone.page.waitForSelector('main[data-state="ask"]')
      t.match(await phone.page.locator('#req-browser').textContent(), /^Chrome \d+$/)
      t.equal(await phone.page.locator('#req-os').textContent(), 'Linux')
      t.equal(await phone.page.locator('#req-ip').textContent(), '127.0.0.1')
      t.match(await phone.page.locator('#req-age').textContent(), /^\d+ s ago$/)
      t.match(await phone.page.locator('.warning').textContent(), /Only confirm a sign-in you started yourself/)

      await pc.page.waitForSelector('main[data-state="scanned"]')
      t.equal(await pc.page.locator('#message').textContent(), 'Scanned by Alice — confirm on your phone')
      t.equal(await pc.page.locator('#scanner-avatar').getAttribute('src'), '/avatars/alice.svg')

      await phone.page.click('#confirm')
      await phone.page.waitForSelector('main[data-state="done"]')
      await pc.page.waitForSelector('main[data-state="signed-in"]')
      t.equal(await pc.page.locator('#signed-in-message').textContent(), 'Signed in as Alice')
      const me = await pc.page.evaluate(() => fetch('/api/me').then((r) => r.json()))
      t.same(me, {
        user: { username: 'alice', displayName: 'Alice', avatarUrl: '/avatars/alice.svg' },
        approvedWith: 'tap',
      })
      t.equal(await pc.page.locator('#approved-with').textContent(), 'Approved with a tap on your phone.')

      const row = pc.page.locator(`#inspector tr[data-transport="${transport}"]`)
      t.equal(await row.getAttribute('class'), 'active', 'the inspector shows the transport in use')
      const [requests, bytes, statuses] = await row.locator('td').allTextContents()
      t.ok(
        Number(requests) >= 1 && Number(bytes.replace(/\D/g, '')) > 0,
        `${transport}: ${requests} requests, ${bytes} bytes`,
      )
      t.ok(Number(statuses) >= 2, `${transport}: ${statuses} statuses`)
      t.same(problems, [], 'no console errors, no CSP violations')
    })
  }
})

t.test('auto picks WebSocket in a browser', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t)
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  await pc.page.goto(base)
  await pc.page.waitForSelector('#inspector tr.active[data-transport="ws"]')
  t.equal(await pc.page.locator('#transport').inputValue(), 'auto')
  t.match(pc.page.url(), /[?&]transport=auto/, 'the choice is kept in the URL')
  t.same(problems, [])
})
