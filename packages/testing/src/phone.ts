import type { Page } from 'playwright-core'
import { QrLoginClient, QrLoginError, parseScanUrl, type ScannedLogin } from '@qr-login/client'
import { readQrFromPage } from './read-qr.js'

export interface ApproveOptions {
  /** The phone's account (a demo account, or one from USERS_FILE). */
  user: string
  /** Its password; the demo accounts' is `demo`. */
  password?: string
  /** What the phone does: confirm (default) or cancel. */
  action?: 'confirm' | 'cancel'
  /** With MATCH_CODE=1: the number to pick; by default the one the page shows (#match-digits). */
  matchCode?: string
  /** How long to wait for the QR, and then for the page to move on. */
  timeoutMs?: number
}

export interface Approval {
  /** What the QR said: `<service>/m/<id>`. */
  scanUrl: string
  /** What the phone saw: who is asking, from where, and for which application. */
  scanned: ScannedLogin
  /** The page's URL once it moved on (for an application: its redirect_uri with a code, or with error=access_denied). */
  url: string
}

const waiting = new Set(['pending', 'scanned', 'confirmed'])

/**
 * Plays the phone for a page that shows this service's QR (its own login page, or the OpenID
 * provider's sign-in for your app): reads the QR from the page's pixels, signs the phone in as
 * `user` through the SDK, scans, confirms or cancels, and returns once the page has moved on.
 */
export async function approveOnPhone(page: Page, options: ApproveOptions): Promise<Approval> {
  const { user, password = 'demo', action = 'confirm', timeoutMs = 15_000 } = options
  // The page may rewrite its query (the login it shows) without going anywhere: only a new path counts.
  const deadline = Date.now() + timeoutMs
  const before = new URL(page.url())
  const wasAt = before.origin + before.pathname
  // An application's sign-in page (the OpenID provider's) moves on by going to the application; the service's own
  // page by leaving its waiting states. A cancelled app sign-in shows "cancelled" before it goes: not done yet.
  const forApp = (await page.locator('meta[name="qr-login-app"]').count()) > 0
  let scanUrl = await readQrFromPage(page, { timeoutMs })
  const phone = await new QrLoginClient({
    baseUrl: parseScanUrl(scanUrl).baseUrl,
    headers: { 'user-agent': 'qr-login-testing/0.1.0' },
  }).signInPhone(user, password)
  let scanned: ScannedLogin | undefined
  while (!scanned) {
    try {
      scanned = await phone.scan(parseScanUrl(scanUrl).id)
    } catch (error) {
      // The QR ran out while it was being read (short QR_TTL_SECONDS, a slow machine): the page shows a new one.
      if (!(error instanceof QrLoginError && error.code === 'QR_EXPIRED') || Date.now() > deadline) throw error
      const expired = scanUrl
      while (scanUrl === expired) {
        if (Date.now() > deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
        scanUrl = await readQrFromPage(page, { timeoutMs: Math.max(1, deadline - Date.now()) })
      }
    }
  }
  const { id } = parseScanUrl(scanUrl)
  if (action === 'cancel') await phone.cancel(id)
  else {
    const matchCode =
      options.matchCode ??
      (scanned.matchChoices ? ((await page.locator('#match-digits').textContent()) ?? undefined) : undefined)
    await phone.confirm(id, matchCode === undefined ? {} : { matchCode })
  }
  // Moved on: navigated away (an application's sign-in), or the service's own page left its waiting states.
  await page.waitForFunction(
    ({ at, states, forApp }) =>
      location.origin + location.pathname !== at ||
      (!forApp && !states.includes(document.querySelector('main')?.dataset.state ?? '')),
    { at: wasAt, states: [...waiting], forApp },
    { timeout: timeoutMs, polling: 100 },
  )
  await page.waitForLoadState('domcontentloaded')
  return { scanUrl, scanned, url: page.url() }
}
