import type { Test } from 'tap'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { PNG } from 'pngjs'
import jsQRModule from 'jsqr'

const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as typeof jsQRModule.default

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Debian's chromium, headless, never reaching out to the network on its own. */
export async function launchBrowser(t: Test, extraArgs: string[] = []): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...chromiumArgs, ...extraArgs] })
  t.teardown(() => browser.close())
  return browser
}

export const desktop = { viewport: { width: 1100, height: 720 } }
export const mobile = { viewport: { width: 390, height: 780 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }

/** Every console error, uncaught exception and CSP violation a page produces. */
export function recordProblems(page: Page, label: string, problems: string[]): Page {
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text()))
      problems.push(`${label}: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`${label}: ${error.message}`))
  return page
}

export async function newPage(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0],
  label: string,
  problems: string[],
) {
  const context: BrowserContext = await browser.newContext(options)
  const page = recordProblems(await context.newPage(), label, problems)
  return { context, page }
}

/** Reads the QR code from the pixels of a screenshot of the whole page, as a phone camera would. */
export async function decodeQrOnScreen(page: Page): Promise<string> {
  // The QR is an <img>: a new login's state is on the page before its image has loaded (slowly, on a busy machine).
  await page.waitForFunction(() => {
    const qr = document.querySelector<HTMLImageElement>('img#qr')
    const id = document.querySelector<HTMLElement>('main')?.dataset.loginId
    return !qr || (id !== undefined && qr.src.includes(encodeURIComponent(id)) && qr.complete && qr.naturalWidth > 0)
  })
  const image = PNG.sync.read(await page.screenshot())
  const found = jsQR(
    new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength),
    image.width,
    image.height,
  )
  if (!found) throw new Error('no QR code found on the screen')
  return found.data
}

/**
 * Debian's Firefox ESR over WebDriver BiDi (puppeteer-core), for what must hold in a second engine. Firefox
 * reaches for its settings service at start: pointed at a closed port, it gives up at once.
 */
export async function launchFirefox(t: Test) {
  const { default: puppeteer } = await import('puppeteer-core')
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: {
      'services.settings.server': 'http://127.0.0.1:9/',
      'network.connectivity-service.enabled': false,
      'app.update.enabled': false,
    },
  })
  t.teardown(() => browser.close())
  return browser
}
