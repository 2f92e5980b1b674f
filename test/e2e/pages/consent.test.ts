import t from 'tap'
import { decodeQrOnScreen, desktop, launchBrowser, mobile, newPage } from '../../helpers/browser.js'
import { publicApp } from '../../helpers/server.js'

t.test('number matching, the network warning and signing a computer out, as a person sees them', async (t) => {
  const browser = await launchBrowser(t)
  // The phone reaches the service through a proxy that says it is on mobile data.
  const { base } = await publicApp(t, { MATCH_CODE: '1', TRUST_PROXY: '127.0.0.1' })
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  const phone = await newPage(
    browser,
    { ...mobile, extraHTTPHeaders: { 'x-forwarded-for': '100.64.3.4' } },
    'phone',
    problems,
  )

  await pc.page.goto(`${base}/?transport=ws`)
  await pc.page.waitForSelector('#match-code:not([hidden])')
  const code = (await pc.page.locator('#match-digits').textContent())!
  t.match(code, /^\d{2}$/, 'the PC shows a two-digit code')

  await phone.page.goto(await decodeQrOnScreen(pc.page))
  await phone.page.click('.pick[data-username="alice"]')
  await phone.page.waitForSelector('#match-choices button')
  t.match(
    await phone.page.locator('#network-warning').textContent(),
    /different network \(127\.0\.0\.1\).*\(100\.64\.3\.4\)/,
  )
  t.equal(await phone.page.locator('#confirm').isVisible(), false, 'no plain Confirm: the user must pick')
  const choices = await phone.page.locator('#match-choices button').allTextContents()
  t.equal(choices.length, 3)
  t.ok(choices.includes(code))

  await phone.page.click(`#match-choices button:text-is("${code}")`)
  await phone.page.waitForSelector('main[data-state="done"]')
  await pc.page.waitForSelector('main[data-state="signed-in"]')
  t.equal(await pc.page.locator('#match-code').isVisible(), false)

  // The phone's home lists the computer, and signs it out.
  await phone.page.goto(`${base}/m`)
  await phone.page.waitForSelector('#sessions li[data-session-id]')
  t.match(await phone.page.locator('#sessions li').textContent(), /127\.0\.0\.1/)
  await phone.page.click('#sessions .revoke')
  await phone.page.waitForSelector('#sessions li:not([data-session-id])')
  t.equal(
    await pc.page.evaluate(() => fetch('/api/me').then((response) => response.status)),
    401,
    'the PC is signed out',
  )
  // The 401 above is the point of this test; anything else the browsers logged is a problem.
  t.same(
    problems.filter((problem) => !/401/.test(problem)),
    [],
  )
})

t.test('number matching: a wrong pick cancels, and both screens say so', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t, { MATCH_CODE: '1' })
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)
  const phone = await newPage(browser, mobile, 'phone', problems)
  await pc.page.goto(`${base}/?transport=sse`)
  await pc.page.waitForSelector('#match-code:not([hidden])')
  const code = await pc.page.locator('#match-digits').textContent()
  await phone.page.goto(await decodeQrOnScreen(pc.page))
  await phone.page.click('.pick[data-username="bob"]')
  await phone.page.waitForSelector('#match-choices button')
  t.equal(await phone.page.locator('#network-warning').isVisible(), false, 'same network: no warning')
  const wrong = (await phone.page.locator('#match-choices button').allTextContents()).find((choice) => choice !== code)
  await phone.page.click(`#match-choices button:text-is("${wrong}")`)
  await phone.page.waitForSelector('main[data-state="cancelled"]')
  t.match(await phone.page.locator('#result').textContent(), /not the number/)
  await pc.page.waitForSelector('main[data-state="cancelled"]')
  t.same(
    problems.filter((problem) => !/409/.test(problem)),
    [],
  )
})

t.test(
  'brute force on the phone page: after the allowed failures it says to wait, even for the right password',
  async (t) => {
    const browser = await launchBrowser(t)
    const { base } = await publicApp(t, { RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT: '2' })
    const problems: string[] = []
    const phone = await newPage(browser, mobile, 'phone', problems)
    await phone.page.goto(`${base}/m`)
    await phone.page.waitForSelector('main[data-state="sign-in"]')
    await phone.page.fill('#username', 'carol')
    for (const guess of ['guess-1', 'guess-2']) {
      await phone.page.fill('#password', guess)
      await phone.page.click('#sign-in-form button[type="submit"]')
      await phone.page.waitForFunction(
        () => document.querySelector('#sign-in-error')?.textContent === 'Wrong user name or password.',
      )
      await phone.page.evaluate(() => (document.querySelector('#sign-in-error')!.textContent = ''))
    }
    await phone.page.fill('#password', 'demo')
    await phone.page.click('#sign-in-form button[type="submit"]')
    await phone.page.waitForFunction(() =>
      /Too many failed attempts/.test(document.querySelector('#sign-in-error')?.textContent ?? ''),
    )
    t.match(await phone.page.locator('#sign-in-error').textContent(), /Try again in 15 min\./)
    t.same(
      problems.filter((problem) => !/401|429/.test(problem)),
      [],
    )
  },
)
