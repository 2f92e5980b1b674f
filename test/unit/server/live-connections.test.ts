import t from 'tap'
import { ManualClock } from '@qr-login/core'
import { LiveConnections } from '../../../apps/server/src/lib/live-connections.js'

t.test('shutdown ends every held connection, and one that arrives after it is ended at once', async (t) => {
  const live = new LiveConnections(new ManualClock(), [{ kind: 'sse', heartbeatMs: 1000 }, { kind: 'long-poll' }])
  const ended: string[] = []
  live.add('sse', { shutdown: () => ended.push('before') })
  live.add('long-poll', { shutdown: () => ended.push('long poll before') })
  live.shutdown()
  t.same(ended, ['before', 'long poll before'])
  t.equal(live.count('sse'), 0)

  // A request that was awaiting the store when shutdown began reaches add() afterwards.
  const late = new Promise<void>((resolve) => live.add('long-poll', { shutdown: resolve }))
  await late
  t.equal(live.count('long-poll'), 0, 'it is not held')
})

t.test('heartbeats tick on the injected clock, each connection once per interval, and stop at shutdown', async (t) => {
  const clock = new ManualClock()
  const live = new LiveConnections(clock, [{ kind: 'sse', heartbeatMs: 1000 }, { kind: 'long-poll' }])
  const ticks = new Map<string, number>()
  for (const name of ['a', 'b', 'c'])
    live.add('sse', { shutdown: () => {}, tick: () => ticks.set(name, (ticks.get(name) ?? 0) + 1) })
  live.add('long-poll', { shutdown: () => {}, tick: () => t.fail('a kind without a heartbeat is never ticked') })
  await clock.advance(10_000)
  t.same(Object.fromEntries(ticks), { a: 10, b: 10, c: 10 }, 'ten intervals, ten ticks each')
  t.equal(clock.pendingTimers, 1, 'one timer for the kind, not one per connection')
  const idle = new LiveConnections(clock, [{ kind: 'sse', heartbeatMs: 1000 }])
  const only = { shutdown: () => {}, tick: () => {} }
  idle.add('sse', only)
  t.equal(clock.pendingTimers, 2, 'a kind ticks once it holds a connection')
  idle.remove('sse', only)
  t.equal(clock.pendingTimers, 1, 'and stops when its last one goes: an idle server never wakes for heartbeats')
  live.shutdown()
  t.equal(clock.pendingTimers, 0, 'shutdown cancels the ticker')
  await clock.advance(10_000)
  t.same(Object.fromEntries(ticks), { a: 10, b: 10, c: 10 })
})
