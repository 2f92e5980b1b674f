import t from 'tap'
import { plainAddress } from '../../../apps/server/src/lib/client-address.js'
import { sameNetwork } from '../../../apps/server/src/lib/network.js'

t.test('an address is written as a person reads it, the same each time it comes back', async (t) => {
  for (let round = 0; round < 2; round++) {
    t.equal(plainAddress('192.0.2.7'), '192.0.2.7')
    t.equal(plainAddress('::ffff:192.0.2.7'), '192.0.2.7', 'an IPv4 peer of a dual-stack socket')
    t.equal(plainAddress('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1', 'IPv6 in its short form')
    t.equal(plainAddress('not an address'), 'not an address', 'kept as it came')
  }
  t.ok(sameNetwork('::ffff:192.0.2.7', '192.0.2.7'), 'one address, however written')
  t.notOk(sameNetwork('not an address', 'not an address'), 'text that is no address is no network')
})
