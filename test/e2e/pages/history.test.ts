import t from 'tap'
import { desktop, launchBrowser, newPage } from '../../helpers/browser.js'
import { publicApp } from '../../helpers/server.js'

t.test('the phone’s home lists its recent sign-in requests, newest first, with the computer that asked', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t)
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  const phone = await newPage(
    browser,
    { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
    'phone',
    problems,
  )
  await pc.page.goto(`${base}/?transport=ws`)
  await pc.page.waitForSelector('main[data-state="pending"]')
  const first = await pc.page.locator('main').getAttribute('data-login-id')
  await phone.page.goto(`${base}/m/${first}`)
  await phone.page.click('.pick[data-username="alice"]')
  await phone.page.click('#confirm')
  await pc.page.waitForSelector('main[data-state="signed-in"]')

  await pc.page.click('#logout')
  await pc.page.waitForSelector('main[data-state="pending"]')
  const second = await pc.page.locator('main').getAttribute('data-login-id')
  t.not(second, first)
  await phone.page.goto(`${base}/m/${second}`)
  await phone.page.click('#cancel')
  await phone.page.waitForSelector('main[data-state="cancelled"]')

  await phone.page.goto(`${base}/m`)
  await phone.page.waitForSelector('#history li[data-outcome]')
  const items = phone.page.locator('#history li[data-outcome]')
  t.same(
    await items.evaluateAll((all) =>
      all.map((li) => [(li as HTMLElement).dataset.loginId, (li as HTMLElement).dataset.outcome]),
    ),
    [
      [second, 'cancelled'],
      [first, 'approved'],
    ],
  )
  t.match(await items.first().textContent(), /^Cancelled.*Chrome \d+ · Linux · 127\.0\.0\.1/)
  t.same(problems, [])
})
