import type { Page } from 'playwright-core'
import { QrLoginClient, parseScanUrl, type ScannedLogin } from '@qr-login/client'
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
  const before = new URL(page.url())
  const wasAt = before.origin + before.pathname
  const scanUrl = await readQrFromPage(page, { timeoutMs })
  const { baseUrl, id } = parseScanUrl(scanUrl)
  const phone = await new QrLoginClient({ baseUrl, headers: { 'user-agent': 'qr-login-testing/0.1.0' } }).signInPhone(
    user,
    password,
  )
  const scanned = await phone.scan(id)
  if (action === 'cancel') await phone.cancel(id)
  else {
    const matchCode =
      options.matchCode ??
      (scanned.matchChoices ? ((await page.locator('#match-digits').textContent()) ?? undefined) : undefined)
    await phone.confirm(id, matchCode === undefined ? {} : { matchCode })
  }
  // Moved on: navigated away (an application's sign-in), or the service's own page left its waiting states.
  await page.waitForFunction(
    ({ at, states }) =>
      location.origin + location.pathname !== at ||
      !states.includes(document.querySelector('main')?.dataset.state ?? ''),
    { at: wasAt, states: [...waiting] },
    { timeout: timeoutMs, polling: 100 },
  )
  await page.waitForLoadState('domcontentloaded')
  return { scanUrl, scanned, url: page.url() }
}
