import t from 'tap'
import { coreFixture, pc } from '../../helpers/core.js'

function outcomes(results: PromiseSettledResult<unknown>[]) {
  const won = results.filter((r) => r.status === 'fulfilled').length
  const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : []))
  return { won, codes: [...new Set(codes)] }
}

t.test('100 racing confirms: exactly one wins, the rest get a 409 code', async (t) => {
  const { service, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  await service.scan(status.id, alice)
  const results = await Promise.allSettled(Array.from({ length: 100 }, () => service.confirm(status.id, alice)))
  t.same(outcomes(results), { won: 1, codes: ['INVALID_TRANSITION'] })
  t.equal((await service.read(status.id, watchToken)).version, 3)
})

t.test('100 racing exchanges: exactly one session is minted', async (t) => {
  const { service, alice, backend } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  await service.scan(status.id, alice)
  await service.confirm(status.id, alice)
  const sessionsBefore = backend.sessions.stats().sessions
  const results = await Promise.allSettled(
    Array.from({ length: 100 }, () => service.exchange(status.id, watchToken, pc)),
  )
  t.same(outcomes(results), { won: 1, codes: ['ALREADY_CONSUMED'] })
  t.equal(backend.sessions.stats().sessions, sessionsBefore + 1, 'losers leave no session behind')
  t.equal((await service.read(status.id, watchToken)).version, 4)
})

t.test('racing scans by two users: one owns the login', async (t) => {
  const { service, alice, bob } = coreFixture()
  const { status } = await service.createLogin(pc)
  const results = await Promise.allSettled(
    [...Array(50)].flatMap(() => [service.scan(status.id, alice), service.scan(status.id, bob)]),
  )
  const winners = new Set(
    results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.status.scannedBy!.displayName] : [])),
  )
  t.equal(winners.size, 1)
  const losers = outcomes(results).codes
  t.same(losers, ['ALREADY_SCANNED'])
})

t.test('cancel racing confirm: one of them, never both', async (t) => {
  const { service, alice, bob } = coreFixture()
  for (let round = 0; round < 20; round++) {
    const { status, watchToken } = await service.createLogin(pc)
    await service.scan(status.id, alice)
    const results = await Promise.allSettled([
      service.confirm(status.id, alice),
      service.cancel(status.id, alice),
      service.cancel(status.id, bob),
    ])
    const final = await service.read(status.id, watchToken)
    t.equal(final.version, 3, `round ${round}: exactly one transition`)
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  }
})
