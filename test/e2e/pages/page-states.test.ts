import t from 'tap'
import { ManualClock } from '@qr-login/core'
import { decodeQrOnScreen, desktop, launchBrowser, mobile, newPage } from '../../helpers/browser.js'
import { publicApp } from '../../helpers/server.js'

t.test('cancel on the phone: the PC says so and offers a new QR', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t)
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  const phone = await newPage(browser, mobile, 'phone', problems)
  await pc.page.goto(`${base}/?transport=sse`)
  await pc.page.waitForSelector('main[data-state="pending"]')
  const firstId = await pc.page.locator('main').getAttribute('data-login-id')
  await phone.page.goto(await decodeQrOnScreen(pc.page))
  await phone.page.click('.pick[data-username="bob"]')
  await phone.page.click('#cancel')
  await phone.page.waitForSelector('main[data-state="cancelled"]')
  await pc.page.waitForSelector('main[data-state="cancelled"]')
  t.equal(await pc.page.locator('#message').textContent(), 'Sign-in was cancelled on the phone.')
  await pc.page.click('#renew')
  await pc.page.waitForSelector(`main[data-state="pending"]:not([data-login-id="${firstId}"])`)
  t.same(problems, [])
})

t.test('an expired QR refreshes by itself while the tab is visible', async (t) => {
  const browser = await launchBrowser(t)
  // The service's clock moves only when told: the QR runs out at once, and the new one never does here.
  const clock = new ManualClock(Date.now())
  const { base } = await publicApp(t, { QR_TTL_SECONDS: '60' }, { clock })
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  await pc.page.goto(`${base}/?transport=ws`)
  await pc.page.waitForSelector('main[data-state="pending"]')
  const firstId = await pc.page.locator('main').getAttribute('data-login-id')
  await clock.advance(60_000)
  await pc.page.waitForSelector('main[data-state="expired"]')
  t.equal(await pc.page.locator('#message').textContent(), 'This QR code has expired.')
  t.equal(await pc.page.locator('#renew').isVisible(), true, 'a refresh button')
  await pc.page.waitForSelector(`main[data-state="pending"]:not([data-login-id="${firstId}"])`)
  const scanUrl = await decodeQrOnScreen(pc.page)
  t.not(scanUrl.split('/m/')[1], firstId, 'a new QR code on screen')
  t.same(problems, [])
})

t.test('two tabs on one login both follow it, and both end signed in', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t)
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc-1', problems)
  const phone = await newPage(browser, mobile, 'phone', problems)
  await pc.page.goto(`${base}/?transport=sse`)
  await pc.page.waitForSelector('main[data-state="pending"]')
  const secondTab = await pc.context.newPage()
  await secondTab.goto(pc.page.url().replace('transport=sse', 'transport=long-poll'))
  await secondTab.waitForSelector('main[data-state="pending"]')
  t.equal(
    await secondTab.locator('main').getAttribute('data-login-id'),
    await pc.page.locator('main').getAttribute('data-login-id'),
  )

  await phone.page.goto(await decodeQrOnScreen(pc.page))
  await phone.page.click('.pick[data-username="carol"]')
  await Promise.all([
    pc.page.waitForSelector('main[data-state="scanned"]'),
    secondTab.waitForSelector('main[data-state="scanned"]'),
  ])
  await phone.page.click('#confirm')
  for (const [index, tab] of [pc.page, secondTab].entries()) {
    // On a timeout, say where the tab got stuck.
    await tab.waitForSelector('main[data-state="signed-in"]').catch(async (error: Error) => {
      const state = await tab.locator('main').getAttribute('data-state')
      const message = await tab.locator('#message').textContent()
      throw new Error(
        `tab ${index + 1}: ${error.message.split('\n')[0]}; state=${state}; message=${message}; problems=${problems.join(' | ')}`,
      )
    })
    t.equal(await tab.locator('#signed-in-message').textContent(), 'Signed in as Carol')
  }
  t.same(
    problems.filter((p) => !/409/.test(p)),
    [],
    'the tab that lost the exchange race shows no error',
  )
})

t.test('the Chinese page, chosen by Accept-Language, and the switch back', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t)
  const problems: string[] = []
  const pc = await newPage(
    browser,
    { ...desktop, locale: 'zh-CN', extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.5' } },
    'pc',
    problems,
  )
  const phone = await newPage(
    browser,
    { ...mobile, extraHTTPHeaders: { 'accept-language': 'zh-CN' } },
    'phone',
    problems,
  )
  await pc.page.goto(base)
  await pc.page.waitForSelector('main[data-state="pending"]')
  t.equal(await pc.page.locator('html').getAttribute('lang'), 'zh-CN')
  t.equal(await pc.page.locator('h1').textContent(), '用手机扫码登录')
  t.equal(await pc.page.locator('#message').textContent(), '请使用手机相机扫描二维码')
  t.match(await pc.page.locator('#countdown').textContent(), /后过期$/)

  await phone.page.goto(await decodeQrOnScreen(pc.page))
  await phone.page.click('.pick[data-username="alice"]')
  await phone.page.waitForSelector('main[data-state="ask"]')
  t.equal(await phone.page.locator('#confirm').textContent(), '确认登录')
  await pc.page.waitForSelector('main[data-state="scanned"]')
  t.equal(await pc.page.locator('#message').textContent(), 'Alice 已扫码，请在手机上确认')

  await pc.page.click('#lang-switch')
  await pc.page.waitForSelector('html[lang="en"] main[data-state="scanned"]')
  t.equal(
    await pc.page.locator('#message').textContent(),
    'Scanned by Alice — confirm on your phone',
    'the same login, now in English',
  )
  t.same(problems, [])
})

t.test('the phone page has a screen for every refusal', async (t) => {
  const browser = await launchBrowser(t)
  const { app, base } = await publicApp(t)
  const problems: string[] = []
  const phone = await newPage(browser, mobile, 'phone', problems)
  await phone.page.goto(`${base}/m/${'Z'.repeat(21)}`)
  await phone.page.click('.pick[data-username="alice"]')
  await phone.page.waitForSelector('main[data-state="unknown"]')
  t.equal(await phone.page.locator('#result').textContent(), 'This QR code is not valid.')

  await phone.page.goto(`${base}/m/not-a-login`)
  await phone.page.waitForSelector('main[data-state="unknown"]')

  const login = (await app.inject({ method: 'POST', url: '/api/qr' })).json()
  const bob = (
    await app.inject({ method: 'POST', url: '/api/mobile/session', payload: { username: 'bob', password: 'demo' } })
  ).json().token
  await app.inject({ method: 'POST', url: `/api/qr/${login.id}/scan`, headers: { authorization: `Bearer ${bob}` } })
  await phone.page.goto(login.scanUrl)
  await phone.page.waitForSelector('main[data-state="already-scanned"]')
  t.match(await phone.page.locator('#account-name').textContent(), /Alice/, 'still signed in as Alice, from the cookie')

  await phone.page.goto(`${base}/m`)
  await phone.page.waitForSelector('main[data-state="home"]')
  t.match(await phone.page.locator('#home-instructions').textContent(), /camera app/)
  t.same(
    problems.filter((p) => !/40[49]/.test(p)),
    [],
  )
})

t.test('the pages fit a 320 px wide screen and work by keyboard', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t)
  const problems: string[] = []
  const narrow = { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true }
  const pc = await newPage(browser, narrow, 'pc', problems)
  const phone = await newPage(browser, narrow, 'phone', problems)
  await pc.page.goto(`${base}/?transport=ws`)
  await pc.page.waitForSelector('main[data-state="pending"]')
  const overflow = await pc.page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  )
  t.equal(overflow, 0, 'no horizontal scrolling on the PC page')
  await phone.page.goto(await decodeQrOnScreen(pc.page))
  // Keyboard only: tab to a quick pick and press Enter, then to Confirm.
  await phone.page.locator('.pick[data-username="alice"]').focus()
  await phone.page.keyboard.press('Enter')
  await phone.page.waitForSelector('main[data-state="ask"]')
  t.equal(
    await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
    0,
    'no horizontal scrolling on the phone page',
  )
  await phone.page.locator('#confirm').focus()
  await phone.page.keyboard.press('Enter')
  await pc.page.waitForSelector('main[data-state="signed-in"]')
  t.equal(await pc.page.evaluate(() => document.activeElement?.id), 'logout', 'focus moves to the next action')
  t.equal(await pc.page.locator('#message').getAttribute('aria-live'), 'polite', 'status changes are announced')
  t.same(problems, [])
})
