import t from 'tap'
import { LiveConnections } from '../../../apps/server/src/lib/live-connections.js'

t.test('shutdown ends every held connection, and one that arrives after it is ended at once', async (t) => {
  const live = new LiveConnections([{ kind: 'sse', heartbeatMs: 1000 }, { kind: 'long-poll' }])
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
