import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import QRCode from 'qrcode'
import { launchBrowser, mobile, recordProblems } from '../helpers/browser.js'
import { publicApp } from '../helpers/server.js'

/** A Y4M video of one QR code, for Chromium's fake camera. */
function qrVideo(text: string): string {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' })
  const scale = 8
  const quiet = 4
  const side = (modules.size + 2 * quiet) * scale
  const size = side + (side % 2)
  const luma = Buffer.alloc(size * size, 235)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const row = Math.floor(y / scale) - quiet
      const column = Math.floor(x / scale) - quiet
      if (row >= 0 && column >= 0 && row < modules.size && column < modules.size && modules.get(row, column))
        luma[y * size + x] = 16
    }
  }
  const chroma = Buffer.alloc((size / 2) * (size / 2) * 2, 128)
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma])
  const file = join(mkdtempSync(join(tmpdir(), 'qr-camera-')), 'qr.y4m')
  writeFileSync(
    file,
    Buffer.concat([Buffer.from(`YUV4MPEG2 W${size} H${size} F10:1 Ip A1:1 C420jpeg\n`), frame, frame, frame]),
  )
  return file
}

t.test('the phone home page scans a QR with the in-page camera and opens the login', async (t) => {
  const { app, base } = await publicApp(t)
  const login = (await app.inject({ method: 'POST', url: '/api/qr' })).json()
  const browser = await launchBrowser(t, [
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${qrVideo(login.scanUrl)}`,
  ])
  const problems: string[] = []
  const context = await browser.newContext({ ...mobile, permissions: ['camera'] })
  const page = recordProblems(await context.newPage(), 'phone', problems)
  await page.goto(`${base}/m`)
  await page.click('.pick[data-username="alice"]')
  await page.waitForSelector('main[data-state="home"]')
  t.equal(await page.evaluate(() => window.isSecureContext), true, '127.0.0.1 is a secure context')
  await page.click('#camera')
  await page.waitForURL(`${base}/m/${login.id}`)
  await page.waitForSelector('main[data-state="ask"]')
  t.equal(await page.locator('#ask-title').textContent(), 'Sign in on a computer?')
  t.same(problems, [])
})
