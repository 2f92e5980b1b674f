import t from 'tap'
import fc from 'fast-check'
import { ExpiringMap, ManualClock } from '@qr-login/core'

t.test('an entry is gone at its own time exactly, though the sweep comes up to an interval later', async (t) => {
  const clock = new ManualClock()
  const forgotten: string[] = []
  const map = new ExpiringMap<string>(clock, { onForget: (key) => forgotten.push(key) })
  map.set('a', 'first', clock.now() + 1500)
  await clock.advance(1499)
  t.equal(map.get('a'), 'first')
  await clock.advance(1)
  t.equal(map.get('a'), undefined, 'unreadable at its keepUntil')
  t.notOk(map.has('a'))
  await clock.advance(1000)
  t.same(forgotten, ['a'], 'swept within one interval')
  t.equal(map.size, 0)
  t.equal(map.timers, 0, 'no timer once nothing is queued')
  t.equal(clock.pendingTimers, 0)
})

t.test('one timer for many entries; a renewal moves the deadline; delete is not a forget', async (t) => {
  const clock = new ManualClock()
  const forgotten: string[] = []
  const map = new ExpiringMap<number>(clock, { onForget: (key) => forgotten.push(key) })
  for (let i = 0; i < 100; i++) map.set(`k${i}`, i, clock.now() + 1000 + i * 100)
  t.equal(clock.pendingTimers, 1)
  t.equal(map.timers, 1)
  map.set('k0', 0, clock.now() + 60_000)
  t.equal(map.delete('k1'), 1)
  await clock.advance(20_000)
  t.equal(map.get('k0'), 0, 'the renewed entry outlives its first deadline')
  t.equal(map.size, 1)
  t.notOk(forgotten.includes('k0'))
  t.notOk(forgotten.includes('k1'), 'a deleted entry is not reported as forgotten')
  t.equal(forgotten.length, 98)
  await clock.advance(40_000)
  t.same(forgotten.slice(-1), ['k0'])
  t.equal(clock.pendingTimers, 0)
})

t.test('an entry set again after its time holds the new value until the new time', async (t) => {
  const clock = new ManualClock()
  const map = new ExpiringMap<string>(clock)
  map.set('code', 'login-1', clock.now() + 100)
  await clock.advance(150)
  t.equal(map.get('code'), undefined)
  map.set('code', 'login-2', clock.now() + 5000)
  await clock.advance(2000)
  t.equal(map.get('code'), 'login-2', 'the first deadline swept nothing of the second entry')
  map.clear()
  t.equal(clock.pendingTimers, 0, 'clear cancels the sweep')
  t.equal(map.size, 0)
})

t.test('reads match a model with a timer per entry, whatever the order of writes, deletes and time', async (t) => {
  let compared = 0
  type Op = { kind: 'set'; key: number; ttl: number } | { kind: 'delete'; key: number } | { kind: 'wait'; ms: number }
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      key: fc.integer({ min: 0, max: 5 }),
      ttl: fc.integer({ min: 1, max: 5000 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
  )
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
      const clock = new ManualClock()
      const map = new ExpiringMap<number>(clock)
      const model = new Map<number, { value: number; until: number }>()
      let written = 0
      for (const each of ops) {
        if (each.kind === 'set') {
          model.set(each.key, { value: ++written, until: clock.now() + each.ttl })
          map.set(String(each.key), written, clock.now() + each.ttl)
        } else if (each.kind === 'delete') {
          model.delete(each.key)
          map.delete(String(each.key))
        } else await clock.advance(each.ms)
        for (let key = 0; key <= 5; key++) {
          const expected = model.get(key)
          const live = expected && expected.until > clock.now() ? expected.value : undefined
          if (map.get(String(key)) !== live) throw new Error(`key ${key}: ${map.get(String(key))} !== ${live}`)
          compared++
        }
      }
      await clock.advance(10_000)
      if (map.size !== 0 || clock.pendingTimers !== 0) throw new Error('something outlived every deadline')
    }),
  )
  t.ok(compared > 1000, `${compared} reads agreed with the model`)
})

t.test('deleted and renewed entries leave no pile of stale deadlines behind', async (t) => {
  const clock = new ManualClock()
  const map = new ExpiringMap<number>(clock)
  // A login's life in the store: kept long while it waits, renewed at each step, its user code reserved then released.
  for (let i = 0; i < 20_000; i++) {
    map.set(`login-${i}`, 1, clock.now() + 1_200_000)
    map.set(`code-${i}`, 1, clock.now() + 900_000)
    map.set(`login-${i}`, 2, clock.now() + 1_200_500)
    map.delete(`code-${i}`)
    map.set(`login-${i}`, 3, clock.now() + 1_300_000)
    if (i % 100 === 0) await clock.advance(1000)
  }
  t.equal(map.size, 20_000)
  t.ok(map.queued <= 2 * map.size + 1024, `${map.queued} deadlines queued for ${map.size} entries`)
  await clock.advance(1_500_000)
  t.equal(map.size, 0)
  t.equal(map.queued, 0)
  t.equal(clock.pendingTimers, 0)
})
