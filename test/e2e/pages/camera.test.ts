import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { writeQrY4m } from '@qr-login/testing'
import { launchBrowser, mobile, recordProblems } from '../../helpers/browser.js'
import { publicApp } from '../../helpers/server.js'

/** A Y4M video of the QR, from the test kit (@qr-login/testing), for Chromium's fake camera. */
function qrVideo(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'qr-camera-')), 'qr.y4m')
  writeQrY4m(text, file)
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
