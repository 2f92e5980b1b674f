import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import * as client from 'openid-client'
import { QrLoginClient, type LoginStatusView } from '@qr-login/client'
import { nodeWebSocket } from '@qr-login/client/node'
import { addPasskeyAuthenticator, approveOnPhone } from '@qr-login/testing'
import { desktop, launchBrowser, newPage } from '../../helpers/browser.js'
import { authorizationRequest, discover, relyingParty } from '../../helpers/oidc.js'
import { startInstance, type Instance } from '../../helpers/instances.js'
import { freePort, privateRedis, uniquePrefix } from '../../helpers/redis.js'
import { freshDataDir } from '../../helpers/data-dir.js'

// The whole service SIGKILLed in the middle of traffic and started again on the same data (contract v3,
// "Durable by default"): whatever a client was told succeeded is still there, for the default store
// (SQLite) and for Redis. The browser, its cookies and its virtual authenticator live on across the
// restart, as a person's would; the service comes back on the same port, so its pages' origin is the same.

const phoneViewport = { viewport: { width: 390, height: 780 }, isMobile: true, hasTouch: true }
const stores: { name: string; env: (t: Test) => Promise<Record<string, string>> }[] = [
  { name: 'sqlite (the default)', env: async (t) => ({ DATA_DIR: freshDataDir(t) }) },
  {
    name: 'redis',
    env: async (t) => {
      const redis = await privateRedis(t, { persistent: true })
      return { STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('crash') }
    },
  },
]

/** One JSON call as a phone or a script makes it, with a bearer token. */
async function call(base: string, method: string, path: string, token?: string, body?: object) {
  const response = await fetch(base + path, {
    method,
    headers: {
      'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : undefined }
}

async function signInPhone(page: Page, base: string, username: string) {
  await page.goto(`${base}/m`)
  await page.click(`.pick[data-username="${username}"]`)
  await page.waitForSelector('main[data-state="home"]')
}

/** The PC page's login, confirmed on the phone page with its passkey; resolves once the PC is signed in. */
async function signInWithPasskey(pc: Page, phone: Page, base: string) {
  await pc.goto(`${base}/?transport=sse`)
  await pc.waitForSelector('main[data-state="pending"]')
  const id = (await pc.locator('main').getAttribute('data-login-id'))!
  await phone.goto(`${base}/m/${id}`)
  await phone.waitForSelector('main[data-state="ask"]')
  const asks = await phone.locator('#confirm').textContent()
  await phone.click('#confirm')
  await phone.waitForSelector('main[data-state="done"]')
  await pc.waitForSelector('main[data-state="signed-in"]')
  return { asks, method: await pc.locator('#approved-with').getAttribute('data-method') }
}

/** Statuses a watcher (the SDK over SSE, reconnecting as it does) has seen, and a wait for the next one. */
function watching(t: Test, sdk: QrLoginClient, login: { id: string; watchToken: string }) {
  const stop = new AbortController()
  t.teardown(() => stop.abort())
  const seen: LoginStatusView[] = []
  const waiters: { status: string; resolve: () => void }[] = []
  const done = (async () => {
    for await (const status of sdk.watch(login, {
      transport: 'sse',
      retryDelayMs: 50,
      maxRetryDelayMs: 200,
      signal: stop.signal,
    })) {
      seen.push(status)
      for (const waiter of waiters.filter((each) => each.status === status.status)) waiter.resolve()
    }
  })()
  const until = (status: string) =>
    seen.some((each) => each.status === status)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ status, resolve }))
  return { seen, until, done }
}

for (const store of stores) {
  t.test(
    `${store.name}: SIGKILL in the middle of traffic, then a restart on the same data, loses nothing`,
    async (t) => {
      const port = await freePort()
      const base = `http://localhost:${port}`
      const rp = await relyingParty(t)
      const env = { ...(await store.env(t)), PUBLIC_URL: base, OIDC_CLIENTS_FILE: rp.clientsFile }
      const first: Instance = await startInstance(t, 'first', env, port)
      const browser = await launchBrowser(t)
      const problems: string[] = []
      const pc = await newPage(browser, desktop, 'pc', problems)
      const phone = await newPage(browser, phoneViewport, 'phone', problems)
      const authenticator = await addPasskeyAuthenticator(phone.context, phone.page)

      // Before: a phone signed in with a passkey added, a PC signed in with it, an app holding a refresh token.
      await signInPhone(phone.page, base, 'alice')
      await phone.page.waitForSelector('#passkeys-view:not([hidden])')
      await phone.page.click('#add-passkey')
      await phone.page.waitForSelector('#passkeys li[data-passkey-id]')
      t.same(await signInWithPasskey(pc.page, phone.page, base), { asks: 'Confirm with passkey', method: 'passkey' })
      const app = await newPage(browser, desktop, 'app', problems)
      const config = await discover(`${base}/oidc`)
      const { url, checks } = await authorizationRequest(config, rp.redirectUri, {
        scope: 'openid profile offline_access',
        prompt: 'consent',
      })
      await app.page.goto(url.href)
      const approval = await approveOnPhone(app.page, { user: 'carol' })
      const tokens = await client.authorizationCodeGrant(config, new URL(approval.url), checks)
      t.ok(tokens.refresh_token, 'the app holds a refresh token')
      const jwksBefore = (await call(base, 'GET', '/oidc/jwks')).json

      // Logins in flight: one scanned (its watcher has seen version 2), one pending (its user code typed later).
      const sdk = new QrLoginClient({ baseUrl: base, webSocket: nodeWebSocket })
      const bob = (await call(base, 'POST', '/api/mobile/session', undefined, { username: 'bob', password: 'demo' }))
        .json
      const scanned = (await call(base, 'POST', '/api/qr')).json
      t.equal((await call(base, 'POST', `/api/qr/${scanned.id}/scan`, bob.token)).status, 200)
      const watcher = watching(t, sdk, scanned)
      await watcher.until('scanned')
      const pending = (await call(base, 'POST', '/api/qr')).json

      // Twenty sign-ins racing; the service is killed once eight confirms have been acknowledged.
      const acknowledged: { id: string; watchToken: string }[] = []
      let killed = false
      const eighth = new Promise<void>((resolve) => {
        const race = Array.from({ length: 20 }, async () => {
          const login = (await call(base, 'POST', '/api/qr')).json
          if (!login) return
          await call(base, 'POST', `/api/qr/${login.id}/scan`, bob.token)
          const confirmed = await call(base, 'POST', `/api/qr/${login.id}/confirm`, bob.token)
          if (confirmed.status === 200 && !killed) acknowledged.push(login)
          if (acknowledged.length === 8) resolve()
        })
        void Promise.allSettled(race)
      }).catch(() => undefined)
      await eighth
      killed = true
      first.signal('SIGKILL')
      t.equal(await first.exited, null, 'killed, not stopped')
      const told = [...acknowledged]
      t.ok(told.length >= 8, `${told.length} confirms were acknowledged before the kill`)

      await startInstance(t, 'second', env, port)

      // After: every acknowledged confirm stands.
      const lost: string[] = []
      for (const login of told) {
        const read = await call(base, 'GET', `/api/qr/${login.id}`, login.watchToken)
        if (read.json?.status !== 'confirmed') lost.push(`${login.id}: ${read.status} ${read.json?.status}`)
      }
      t.same(lost, [], 'no acknowledged confirm is lost')

      // Sessions: the PC's cookie and the phone's are still signed in; the phone's history and computers are there.
      const me = await pc.context.request.get(`${base}/api/me`)
      t.equal(me.status(), 200, 'the PC is still signed in')
      t.match(await me.json(), { user: { username: 'alice' }, approvedWith: 'passkey' })
      const phoneMe = await phone.context.request.get(`${base}/api/mobile/me`)
      t.equal(phoneMe.status(), 200, 'so is the phone')
      const history = await (await phone.context.request.get(`${base}/api/mobile/history`)).json()
      t.match(history.entries[0], { outcome: 'approved', method: 'passkey' }, 'its history is there')
      const computers = await (await phone.context.request.get(`${base}/api/mobile/sessions`)).json()
      t.equal(computers.sessions.length, 1, 'and the computer it signed in')

      // The passkey still approves: a sign-in on another computer, confirmed with it.
      const signCount = (await authenticator.credentials())[0].signCount
      const otherPc = await newPage(browser, desktop, 'other pc', problems)
      t.same(await signInWithPasskey(otherPc.page, phone.page, base), {
        asks: 'Confirm with passkey',
        method: 'passkey',
      })
      t.equal((await authenticator.credentials())[0].signCount, signCount + 1, 'with the same credential')

      // The scanned login's watcher resumes: it reconnects by itself and hears the confirm.
      t.equal((await call(base, 'POST', `/api/qr/${scanned.id}/confirm`, bob.token)).status, 200)
      await watcher.until('confirmed')
      t.same(
        watcher.seen.map((status) => `${status.version} ${status.status}`),
        ['1 pending', '2 scanned', '3 confirmed'].slice(watcher.seen[0].version - 1),
        'every version once, in order, across the restart',
      )
      await watcher.done
      t.equal((await sdk.exchange(scanned)).user.username, 'bob', 'and its PC signs in')

      // The pending login's user code still resolves.
      const found = await call(base, 'POST', '/api/mobile/code', bob.token, { code: pending.userCode })
      t.equal(found.json?.id, pending.id, 'a user code typed after the restart finds its login')

      // The app: the same signing keys, and its refresh token still refreshes.
      t.same((await call(base, 'GET', '/oidc/jwks')).json, jwksBefore, 'the same signing keys')
      const refreshed = await client.refreshTokenGrant(await discover(`${base}/oidc`), tokens.refresh_token!)
      t.equal(refreshed.claims()?.sub, 'carol', 'the refresh token still refreshes')
      t.same(problems, [], 'no page error')
    },
  )
}

for (const store of stores) {
  t.test(
    `${store.name}: a login whose lifetime ran out while the service was down is expired, and its watcher is told`,
    async (t) => {
      const port = await freePort()
      const base = `http://127.0.0.1:${port}`
      const env = { ...(await store.env(t)), PUBLIC_URL: base, QR_TTL_SECONDS: '2' }
      const first = await startInstance(t, 'first', env, port)
      const sdk = new QrLoginClient({ baseUrl: base, webSocket: nodeWebSocket })
      const login = await sdk.createLogin()
      const watcher = watching(t, sdk, login)
      await watcher.until('pending')
      first.signal('SIGKILL')
      await first.exited
      // The only real wait here: the login's own lifetime, out while no process runs.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(login.expiresAt) - Date.now() + 100)))
      await startInstance(t, 'second', env, port)
      await watcher.until('expired')
      await watcher.done
      t.same(
        watcher.seen.map((status) => status.status),
        ['pending', 'expired'],
        'the watcher reconnected by itself and was told',
      )
      t.equal((await call(base, 'GET', `/api/qr/${login.id}`, login.watchToken)).json.status, 'expired')
    },
  )
}
