import t from 'tap'
import type { Page } from 'playwright-core'
import * as client from 'openid-client'
import { launchBrowser, launchFirefox, newPage } from '../../helpers/browser.js'
import { authorizationRequest, discover, relyingParty } from '../../helpers/oidc.js'
import { publicApp } from '../../helpers/server.js'

/**
 * No page is wider than a phone's screen: at 320 and 390 px every page (the PC page, the phone's, the
 * provider's own) fits its viewport, in English and in Chinese, so nothing scrolls sideways or is cut off.
 * What scrolls on purpose (the inspector's table, in its own scroller) does not count.
 */

/** Elements that reach past the viewport's right edge, and how wide the document is. */
// A string, not a function: the test runner's transform would wrap a function's inner helpers in a __name()
// the page does not have; and the same script runs in Firefox.
const measure = `(() => {
    const width = document.documentElement.clientWidth
    function scrollsItself(element) {
      for (let parent = element.parentElement; parent; parent = parent.parentElement) {
        const overflowX = getComputedStyle(parent).overflowX
        if ((overflowX === 'auto' || overflowX === 'scroll') && parent !== document.documentElement) return true
      }
      return false
    }
    const past = [...document.querySelectorAll('body *')]
      .filter((element) => {
        const box = element.getBoundingClientRect()
        return box.width > 0 && box.right > width + 0.5 && !scrollsItself(element)
      })
      .map((element) => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') + ' ends at ' + Math.round(element.getBoundingClientRect().right))
    return { width, documentWidth: document.documentElement.scrollWidth, past }
  })()`

type Measured = { width: number; documentWidth: number; past: string[] }

async function overflow(page: Page): Promise<Measured> {
  return page.evaluate<Measured>(measure)
}

t.test('every page fits 320 and 390 px wide, in English and Chinese', async (t) => {
  const rp = await relyingParty(t)
  const { app, base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, MATCH_CODE: '1' })
  await app.appLogos.ready
  const browser = await launchBrowser(t)
  const config = await discover(`${base}/oidc`)
  const device = await discover(`${base}/oidc`, 'test-tv', null)

  for (const width of [320, 390]) {
    for (const lang of ['en', 'zh-CN']) {
      const problems: string[] = []
      const viewport = { viewport: { width, height: 740 }, isMobile: true, hasTouch: true, locale: lang }
      const headers = { extraHTTPHeaders: { 'accept-language': lang } }
      const pc = await newPage(browser, { ...viewport, ...headers }, 'pc', problems)
      const phone = await newPage(browser, { ...viewport, ...headers }, 'phone', problems)
      const check = async (page: Page, what: string) => {
        const found = await overflow(page)
        t.same(found.past, [], `${what} at ${width} px (${lang}): nothing past the edge`)
        t.ok(
          found.documentWidth <= found.width,
          `${what} at ${width} px (${lang}): ${found.documentWidth} ≤ ${found.width}`,
        )
      }

      // The PC page: a QR waiting (with number matching), as opened on a narrow screen.
      await pc.page.goto(`${base}/?login_hint=someone-with-a-rather-long-user-name`)
      await pc.page.waitForSelector('main[data-state="pending"]')
      await check(pc.page, 'the PC page')
      const scanUrl = await pc.page.evaluate(() => document.querySelector('#hint')?.textContent ?? '')

      // The phone: sign-in form, home, the ask screen and a result.
      await phone.page.goto(`${base}/m`)
      await phone.page.waitForSelector('main[data-state="sign-in"]')
      await check(phone.page, 'the phone’s sign-in')
      await phone.page.fill('#username', 'alice')
      await phone.page.fill('#password', 'demo')
      await phone.page.click('#sign-in-form button[type="submit"]')
      await phone.page.waitForSelector('main[data-state="home"]')
      await check(phone.page, 'the phone’s home')
      const loginId = await pc.page.locator('main').getAttribute('data-login-id')
      await phone.page.goto(`${base}/m/${loginId}`)
      await phone.page.waitForSelector('main[data-state="wrong-account"]')
      await check(phone.page, 'the phone’s refusal')
      t.ok(scanUrl, 'the PC page says where to go')

      // An application's QR page, and the phone's confirm for it.
      const { url } = await authorizationRequest(config, rp.redirectUri)
      await pc.page.goto(url.href)
      await pc.page.waitForSelector('main[data-state="pending"]')
      await check(pc.page, 'an app’s QR page')
      const appLogin = await pc.page.locator('main').getAttribute('data-login-id')
      await phone.page.goto(`${base}/m/${appLogin}`)
      await phone.page.waitForSelector('main[data-state="ask"]')
      await check(phone.page, 'the phone’s confirm for an app')

      // The provider's own pages: code entry, a device's confirm, sign-out, an error.
      const authorized = await client.initiateDeviceAuthorization(device, { scope: 'openid' })
      await phone.page.goto(`${base}/oidc/device`)
      await check(phone.page, 'the provider’s code entry')
      await phone.page.goto(authorized.verification_uri_complete!)
      await phone.page.waitForSelector('#ask-title')
      await check(phone.page, 'a device’s confirm')
      await phone.page.goto(`${base}/oidc/session/end`)
      await check(phone.page, 'the provider’s sign-out')
      await phone.page.goto(`${base}/oidc/auth?client_id=nobody&response_type=code&scope=openid`)
      await check(phone.page, 'the provider’s error page')

      // The refused scan (403) and the provider's error page (400) are answers these pages were sent to see.
      t.same(
        problems.filter((problem) => !/status of (400|403)/.test(problem)),
        [],
        `no page error at ${width} px (${lang})`,
      )
      await pc.context.close()
      await phone.context.close()
    }
  }
})

t.test('the phone’s pages and the PC page fit 320 and 390 px in Firefox too', async (t) => {
  // Firefox keeps an input's intrinsic width as its minimum in a grid cell, which once pushed the phone's
  // forms past a 390 px screen; Chromium never showed it.
  const rp = await relyingParty(t)
  const { app, base } = await publicApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile })
  await app.appLogos.ready
  const firefox = await launchFirefox(t)
  const signIn = await fetch(`${base}/api/mobile/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'demo' }),
  })
  const { token } = (await signIn.json()) as { token: string }
  for (const width of [320, 390]) {
    for (const lang of ['en', 'zh-CN']) {
      const context = await firefox.createBrowserContext()
      const page = await context.newPage()
      await page.setViewport({ width, height: 740 })
      await page.setExtraHTTPHeaders({ 'accept-language': lang })
      const check = async (what: string) => {
        const found = (await page.evaluate(measure)) as Measured
        t.same(found.past, [], `Firefox: ${what} at ${width} px (${lang}): nothing past the edge`)
        t.ok(
          found.documentWidth <= found.width,
          `Firefox: ${what} at ${width} px (${lang}): ${found.documentWidth} ≤ ${found.width}`,
        )
      }
      await page.goto(`${base}/`)
      await page.waitForSelector('main[data-state="pending"]')
      await check('the PC page')
      await page.goto(`${base}/m`)
      await page.waitForSelector('main[data-state="sign-in"]')
      await check('the phone’s sign-in')
      await context.setCookie({ name: 'm_session', value: token, domain: '127.0.0.1', path: '/' })
      await page.goto(`${base}/m`)
      await page.waitForSelector('main[data-state="home"]')
      await check('the phone’s home, with its code field')
      const created = (await (await fetch(`${base}/api/qr`, { method: 'POST' })).json()) as { id: string }
      await page.goto(`${base}/m/${created.id}`)
      await page.waitForSelector('main[data-state="ask"]')
      await check('the phone’s confirm')
      await page.goto(`${base}/oidc/device`)
      await check('the provider’s code entry')
      await context.close()
    }
  }
})
