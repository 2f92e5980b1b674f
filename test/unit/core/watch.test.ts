import t from 'tap'
import { coreFixture, pc, recorder } from '../../helpers/core.js'

t.test('a watch gets the current status at once, then every change in order', async (t) => {
  const { service, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  const watcher = recorder()
  const watch = await service.watch(status.id, watchToken, watcher)
  t.same(watch.current, status)
  await service.scan(status.id, alice)
  await service.scan(status.id, alice)
  await service.confirm(status.id, alice)
  t.same(
    watcher.seen.map((s) => [s.status, s.version]),
    [
      ['pending', 1],
      ['scanned', 2],
      ['confirmed', 3],
    ],
  )
  t.equal(service.stats().watches, 0, 'confirmed ends the watch')
})

t.test('a watch that already has the current version is not sent it again', async (t) => {
  const { service, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  await service.scan(status.id, alice)
  const watcher = recorder()
  const watch = await service.watch(status.id, watchToken, { since: 2, ...watcher })
  t.same(watcher.seen, [])
  await service.confirm(status.id, alice)
  t.same(
    watcher.seen.map((s) => s.version),
    [3],
  )
  watch.close()
})

t.test('a stale or unknown since still gets the current status', async (t) => {
  const { service, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  await service.scan(status.id, alice)
  for (const since of [1, 7]) {
    const watcher = recorder()
    const watch = await service.watch(status.id, watchToken, { since, ...watcher })
    t.same(
      watcher.seen.map((s) => s.version),
      [2],
      `since=${since}`,
    )
    watch.close()
  }
})

t.test('two watchers of one login both get every change', async (t) => {
  const { service, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  const first = recorder()
  const second = recorder()
  await service.watch(status.id, watchToken, first)
  await service.watch(status.id, watchToken, second)
  await service.scan(status.id, alice)
  await service.cancel(status.id, alice)
  t.same(
    first.seen.map((s) => s.status),
    ['pending', 'scanned', 'cancelled'],
  )
  t.same(second.seen, first.seen)
})

t.test('a watch is refused without the right token and leaves nothing behind', async (t) => {
  const { service } = coreFixture()
  const { status } = await service.createLogin(pc)
  const other = await service.createLogin(pc)
  await t.rejects(service.watch(status.id, undefined, recorder()), { code: 'WATCH_TOKEN_REQUIRED' })
  await t.rejects(service.watch(status.id, other.watchToken, recorder()), { code: 'WATCH_TOKEN_INVALID' })
  await t.rejects(service.watch('x'.repeat(21), other.watchToken, recorder()), { code: 'QR_NOT_FOUND' })
  t.same(service.stats().feed, { channels: 0, listeners: 0 })
  t.equal(service.stats().watches, 0)
})

t.test('a change made while a watch is being opened is not lost', async (t) => {
  const { service, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  const watcher = recorder()
  const opening = service.watch(status.id, watchToken, watcher)
  await service.scan(status.id, alice)
  await opening
  t.same(watcher.seen.at(-1)?.status, 'scanned')
})
