import type { Page } from 'playwright-core'
import { PNG } from 'pngjs'
import jsQRModule from 'jsqr'

// jsQR is CommonJS: its default export arrives as the module or as `.default`, depending on the loader.
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as typeof jsQRModule.default

/** Decodes the first QR code in a PNG, or undefined when there is none. */
export function decodeQrPng(png: Buffer): string | undefined {
  const image = PNG.sync.read(png)
  const pixels = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength)
  return jsQR(pixels, image.width, image.height)?.data
}

/**
 * The text of the QR code on the page, read from a screenshot of its pixels as a phone camera
 * would (never from the DOM), trying until one shows or `timeoutMs` passes.
 */
export async function readQrFromPage(page: Page, { timeoutMs = 10_000 } = {}): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const text = decodeQrPng(await page.screenshot())
    if (text) return text
    if (Date.now() > deadline) throw new Error(`no QR code on ${page.url()} within ${timeoutMs} ms`)
    await page.waitForTimeout(200)
  }
}
