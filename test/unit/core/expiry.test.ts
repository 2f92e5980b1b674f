import t from 'tap'
import { coreFixture, pc, recorder, settings } from '../../helpers/core.js'

t.test('an idle login expires by itself and its watcher is told', async (t) => {
  const { service, clock } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  const watcher = recorder()
  await service.watch(status.id, watchToken, watcher)
  await clock.advance(settings.qrTtlMs - 1)
  t.same(
    watcher.seen.map((s) => s.status),
    ['pending'],
  )
  await clock.advance(1)
  t.same(
    watcher.seen.map((s) => [s.status, s.version]),
    [
      ['pending', 1],
      ['expired', 2],
    ],
  )
  t.same(service.stats().feed, { channels: 0, listeners: 0 }, 'the watch closed itself after the terminal status')
})

t.test('expiry follows the moved deadline after a scan and a confirm', async (t) => {
  const { service, clock, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  await clock.advance(settings.qrTtlMs - 1000)
  await service.scan(status.id, alice)
  await clock.advance(1000)
  t.equal((await service.read(status.id, watchToken)).status, 'scanned', 'the QR lifetime no longer applies')
  await clock.advance(settings.confirmWindowMs - 1000)
  t.equal((await service.read(status.id, watchToken)).status, 'expired')
  t.equal((await service.read(status.id, watchToken)).version, 3)
})

t.test('a confirmed login that is never exchanged expires', async (t) => {
  const { service, clock, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  await service.scan(status.id, alice)
  await service.confirm(status.id, alice)
  await clock.advance(settings.exchangeWindowMs)
  await t.rejects(service.exchange(status.id, watchToken, pc), { name: 'LoginError', code: 'QR_EXPIRED' })
  await t.rejects(service.scan(status.id, alice), { code: 'QR_EXPIRED' })
  await t.rejects(service.confirm(status.id, alice), { code: 'QR_EXPIRED' })
  await t.rejects(service.cancel(status.id, alice), { code: 'QR_EXPIRED' })
})

t.test('a read after the deadline sees expired even before the timer fires', async (t) => {
  const { service, store, clock } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  // Move the record's deadline behind the clock without going through a timer.
  const record = (await store.get(status.id))!
  await store.compareAndSet({ ...record, expiresAt: clock.now() - 1 }, record.version, clock.now() + 60_000)
  const seen = await service.read(status.id, watchToken)
  t.equal(seen.status, 'expired')
})

t.test('finished logins stay readable for the retention time, then are forgotten', async (t) => {
  const { service, clock, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  await service.cancel(status.id, alice)
  await clock.advance(settings.retentionMs - 1)
  t.equal((await service.read(status.id, watchToken)).status, 'cancelled')
  await clock.advance(1)
  await t.rejects(service.read(status.id, watchToken), { code: 'QR_NOT_FOUND' })
})

t.test('nothing is left behind once watchers leave and logins end', async (t) => {
  const { service, clock, alice, bob, backend } = coreFixture()
  const logins = await Promise.all(Array.from({ length: 20 }, () => service.createLogin(pc)))
  const watches = await Promise.all(logins.map((l) => service.watch(l.status.id, l.watchToken, recorder())))
  const sinceFirstRecorders = logins.map(() => recorder())
  await Promise.all(
    logins.map((l, i) => service.watch(l.status.id, l.watchToken, { ...sinceFirstRecorders[i], since: 1 })),
  )
  t.equal(service.stats().watches, 40)
  t.equal(service.stats().expiryTimers, 20)

  for (const [i, login] of logins.entries()) {
    if (i % 4 === 0) await service.cancel(login.status.id, bob)
    if (i % 4 === 1) {
      await service.scan(login.status.id, alice)
      await service.confirm(login.status.id, alice)
      await service.exchange(login.status.id, login.watchToken, pc)
    }
  }
  for (const watch of watches) watch.close()
  t.equal(service.stats().watches, 10, 'the watches of ended logins closed themselves')
  await clock.advance(settings.qrTtlMs)
  t.same(
    sinceFirstRecorders.map((r) => r.seen.at(-1)?.status),
    logins.map((_, i) => ['cancelled', 'confirmed', 'expired', 'expired'][i % 4]),
    'each watcher that already had version 1 heard how its login ended',
  )

  const afterEnd = service.stats()
  t.equal(afterEnd.watches, 0)
  t.same(afterEnd.feed, { channels: 0, listeners: 0 })
  t.equal(afterEnd.expiryTimers, 0, 'every login ended, so no expiry timer remains')

  // Past the longest keep of anything: a login's retention after a session's lifetime, and the history's.
  await clock.advance(Math.max(settings.retentionMs + settings.sessionTtlMs, settings.historyRetentionMs!))
  t.same(backend.logins.stats(), { logins: 0, timers: 0 })
  t.same(backend.sessions.stats(), { sessions: 0, timers: 0 })
  t.same(backend.history.stats(), { users: 0, timers: 0 })
  t.equal(clock.pendingTimers, 0, 'no timer of any kind remains')
})
