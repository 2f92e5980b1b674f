import t from 'tap'
import { coreFixture, pc } from '../../helpers/core.js'

t.test(
  'a user code is held only while its login waits to be scanned: scanned, cancelled or expired frees it',
  async (t) => {
    const { service, store, clock, alice } = coreFixture()
    const held = async (code: string) => store.findByUserCode(code.replace('-', ''))

    const scanned = await service.createLogin(pc)
    const cancelled = await service.createLogin(pc)
    const expired = await service.createLogin(pc)
    const waiting = await service.createLogin(pc)
    for (const login of [scanned, cancelled, expired, waiting]) t.equal(await held(login.userCode), login.status.id)

    await service.scan(scanned.status.id, alice)
    await service.cancel(cancelled.status.id, alice)
    t.equal(await held(scanned.userCode), undefined, 'scanned: released')
    t.equal(await held(cancelled.userCode), undefined, 'cancelled: released')
    t.equal(await held(waiting.userCode), waiting.status.id, 'a login still waiting keeps its code')

    await clock.advance(120_000)
    t.equal(await held(expired.userCode), undefined, 'expired: released')
    await t.rejects(service.resolveUserCode(scanned.userCode.replace('-', '')), { code: 'CODE_NOT_FOUND' })
  },
)
