import t, { type Test } from 'tap'
import { ManualClock } from '@qr-login/core'
import type { App } from '@qr-login/server'
import { cleanUpPrefix, sharedRedisUrl, uniquePrefix } from '../../helpers/redis.js'
import { bearer, createLogin, phoneToken, testApp } from '../../helpers/server.js'

async function history(t: Test, app: App, token: string) {
  const response = await app.inject({ url: '/api/mobile/history', headers: bearer(token) })
  t.equal(response.statusCode, 200)
  return response.json().entries as {
    loginId: string
    outcome: string
    at: string
    ip: string
    browser: string
    os: string
  }[]
}

const post = (app: App, path: string, token: string, payload?: object) =>
  app.inject({ method: 'POST', url: path, headers: bearer(token), ...(payload ? { payload } : {}) })

for (const store of ['memory', 'redis'] as const) {
  t.test(`${store}: each outcome appears once, newest first, with the computer that asked`, async (t) => {
    const env: Record<string, string> = { MATCH_CODE: '1' }
    if (store === 'redis') {
      const prefix = uniquePrefix('history')
      cleanUpPrefix(t, prefix)
      Object.assign(env, { STORE: 'redis', REDIS_URL: sharedRedisUrl, REDIS_PREFIX: prefix })
    }
    const clock = new ManualClock(Date.now())
    const app = await testApp(t, env, { clock })
    const alice = await phoneToken(app, 'alice')
    const bob = await phoneToken(app, 'bob')

    const approved = await createLogin(app)
    await post(app, `/api/qr/${approved.id}/scan`, alice)
    // Racing confirms: one wins, and the history says so once.
    await Promise.all(
      Array.from({ length: 10 }, () =>
        post(app, `/api/qr/${approved.id}/confirm`, alice, { matchCode: approved.matchCode }),
      ),
    )
    await post(app, `/api/qr/${approved.id}/exchange`, approved.watchToken)
    await clock.advance(1000)

    const cancelled = await createLogin(app)
    await post(app, `/api/qr/${cancelled.id}/scan`, alice)
    await post(app, `/api/qr/${cancelled.id}/cancel`, alice)
    await clock.advance(1000)

    const wrongNumber = await createLogin(app)
    await post(app, `/api/qr/${wrongNumber.id}/scan`, alice)
    const wrong = String(((Number(wrongNumber.matchCode) + 1) % 90) + 10)
    t.equal((await post(app, `/api/qr/${wrongNumber.id}/confirm`, alice, { matchCode: wrong })).statusCode, 409)
    await clock.advance(1000)

    const leftToExpire = await createLogin(app)
    await post(app, `/api/qr/${leftToExpire.id}/scan`, alice)
    const neverScanned = await createLogin(app)
    const cancelledUnscanned = await createLogin(app)
    await post(app, `/api/qr/${cancelledUnscanned.id}/cancel`, bob)
    await clock.advance(120_000)
    // Read both, so the expiry has been written wherever it is due.
    await app.inject({ url: `/api/qr/${leftToExpire.id}`, headers: bearer(leftToExpire.watchToken) })
    await app.inject({ url: `/api/qr/${neverScanned.id}`, headers: bearer(neverScanned.watchToken) })

    const entries = await history(t, app, alice)
    t.same(
      entries.map((entry) => [entry.loginId, entry.outcome]),
      [
        [leftToExpire.id, 'expired'],
        [wrongNumber.id, 'wrong-number'],
        [cancelled.id, 'cancelled'],
        [approved.id, 'approved'],
      ],
      'once each, newest first; the exchange and the unscanned expiry add nothing',
    )
    t.match(entries[0], { ip: '127.0.0.1', browser: 'Chrome 131', os: 'Windows 10' })
    t.ok(Date.parse(entries[3].at) < Date.parse(entries[2].at), 'times in order')
    t.same(
      (await history(t, app, bob)).map((entry) => [entry.loginId, entry.outcome]),
      [[cancelledUnscanned.id, 'cancelled']],
      'a pending login cancelled by someone who never scanned it is in their history',
    )
    const anonymous = await app.inject({ url: '/api/mobile/history' })
    t.equal(anonymous.statusCode, 401)
  })
}
