import t from 'tap'
import type { Page } from 'playwright-core'
import { desktop, launchBrowser, newPage } from '../../helpers/browser.js'
import { publicApp } from '../../helpers/server.js'

const phoneSized = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }

/** The code as the PC page shows it, and what a screen reader is given for it. */
async function codeOnScreen(pc: Page) {
  await pc.waitForSelector('#user-code-hint:not([hidden]) #user-code')
  return {
    hint: (await pc.locator('#user-code-hint').textContent()) ?? '',
    code: (await pc.locator('#user-code').textContent()) ?? '',
    spoken: (await pc.locator('#user-code').getAttribute('aria-label')) ?? '',
  }
}

async function signInOnHome(phone: Page, base: string, username: string) {
  await phone.goto(`${base}/m`)
  await phone.click(`.pick[data-username="${username}"]`)
  await phone.waitForSelector('main[data-state="home"]')
}

t.test(
  'can’t scan: the code under the QR, typed on the phone’s home page by keyboard only, signs the PC in',
  async (t) => {
    const browser = await launchBrowser(t)
    const { base } = await publicApp(t)
    const problems: string[] = []
    const pc = await newPage(browser, desktop, 'pc', problems)
    const phone = await newPage(browser, phoneSized, 'phone', problems)
    await pc.page.goto(`${base}/?transport=sse`)
    await pc.page.waitForSelector('main[data-state="pending"]')
    const { hint, code, spoken } = await codeOnScreen(pc.page)
    t.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
    t.equal(hint, `Can’t scan? On your phone, open ${base}/m and enter ${code}`)
    t.equal(spoken, code.replace('-', '').split('').join(' '), 'a screen reader spells it letter by letter')

    await signInOnHome(phone.page, base, 'alice')
    t.equal(
      await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
      0,
      'no horizontal scrolling at 360 px',
    )
    // Keyboard only: Tab to the code field, type it as people do (lower case, a space for the dash), Enter.
    for (let i = 0; i < 20 && (await phone.page.evaluate(() => document.activeElement?.id)) !== 'user-code'; i++) {
      await phone.page.keyboard.press('Tab')
    }
    t.equal(await phone.page.evaluate(() => document.activeElement?.id), 'user-code', 'reached by Tab')
    await phone.page.keyboard.type(code.toLowerCase().replace('-', ' '))
    await phone.page.keyboard.press('Enter')
    await phone.page.waitForSelector('main[data-state="ask"]')
    t.match(await phone.page.locator('#req-browser').textContent(), /^Chrome \d+$/)
    await pc.page.waitForSelector('main[data-state="scanned"]')
    t.equal(await pc.page.locator('#user-code-hint').isHidden(), true, 'the code is gone once scanned')
    await phone.page.locator('#confirm').focus()
    await phone.page.keyboard.press('Enter')
    await pc.page.waitForSelector('main[data-state="signed-in"]')
    t.equal(await pc.page.locator('#signed-in-message').textContent(), 'Signed in as Alice')
    t.same(problems, [])
  },
)

t.test('wrong, malformed and already-scanned codes say so; too many wrong ones are limited', async (t) => {
  const browser = await launchBrowser(t)
  const { app, base } = await publicApp(t, { RATE_LIMIT_CODE_FAILURES_PER_SESSION: '3' })
  const problems: string[] = []
  const phone = await newPage(browser, phoneSized, 'phone', problems)
  const scanned = (await app.inject({ method: 'POST', url: '/api/qr' })).json()
  const bob = (
    await app.inject({ method: 'POST', url: '/api/mobile/session', payload: { username: 'bob', password: 'demo' } })
  ).json().token
  await app.inject({ method: 'POST', url: `/api/qr/${scanned.id}/scan`, headers: { authorization: `Bearer ${bob}` } })

  await signInOnHome(phone.page, base, 'carol')
  const attempt = async (typed: string) => {
    await phone.page.fill('#user-code', typed)
    await phone.page.click('#code-form button[type="submit"]')
    await phone.page.waitForFunction(() => document.getElementById('code-error')?.textContent !== '')
    const message = await phone.page.locator('#code-error').textContent()
    t.equal(await phone.page.locator('#user-code').getAttribute('aria-invalid'), 'true')
    await phone.page.evaluate(() => (document.getElementById('code-error')!.textContent = ''))
    return message
  }
  t.equal(await attempt('BCDF-GHJ'), 'A code is 8 letters, like BCDF-GHJK.')
  t.equal(await attempt('zzzz-zzzz'), 'No sign-in is waiting for this code. Check it on the computer.')
  t.equal(
    await attempt(scanned.userCode),
    'No sign-in is waiting for this code. Check it on the computer.',
    'already scanned: the same words',
  )
  t.equal(await attempt('ZZZZ ZZZZ'), 'No sign-in is waiting for this code. Check it on the computer.')
  t.equal(await attempt('ZZZZ-ZZZZ'), 'Too many wrong codes. Try again in 15 min.')
  t.same(
    problems.filter((p) => !/40[04]|429/.test(p)),
    [],
    'nothing but the refused requests themselves',
  )
})

t.test('the PC page shows the code in Chinese', async (t) => {
  const browser = await launchBrowser(t)
  const { base } = await publicApp(t)
  const problems: string[] = []
  const pc = await newPage(
    browser,
    { ...desktop, locale: 'zh-CN', extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9' } },
    'pc',
    problems,
  )
  await pc.page.goto(base)
  await pc.page.waitForSelector('main[data-state="pending"]')
  const { hint, code } = await codeOnScreen(pc.page)
  t.equal(hint, `无法扫码？请在手机上打开 ${base}/m 并输入 ${code}`)
  t.same(problems, [])
})
