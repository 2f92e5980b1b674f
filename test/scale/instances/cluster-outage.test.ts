import t from 'tap'
import { once } from 'node:events'
import { cryptoSecrets } from '@qr-login/core'
import { keys } from '@qr-login/redis'
import { bearer, createLogin, phoneToken, testApp } from '../../helpers/server.js'
import { uniquePrefix } from '../../helpers/redis.js'
import { redisCluster } from '../../helpers/redis-cluster.js'

// Three masters and no replica: a master taken away stays away, and its slots with it. (With Redis's default
// cluster-require-full-coverage, once the others notice, about a second later, they refuse every command too.)
const cluster = await redisCluster(t, { masters: 3, replicasEach: 0 })

t.test('a cluster master taken away: a code whose slot it held is a 503, never "no such code"', async (t) => {
  const prefix = uniquePrefix('outage')
  const app = await testApp(t, {
    STORE: 'redis',
    REDIS_CLUSTER: cluster.seeds,
    REDIS_PREFIX: prefix,
    REDIS_WAIT_REPLICAS: '0',
  })
  const alice = await phoneToken(app)
  const sessionMaster = await cluster.masterOf(keys.session(prefix, cryptoSecrets.hash(alice)))
  // A waiting login whose code lives on a master that does not hold alice's session: the phone is signed in, and
  // only the look-up of the code meets the missing master.
  let login = await createLogin(app)
  let victim = await cluster.masterOf(keys.userCode(prefix, login.userCode.replace('-', '')))
  while (victim.port === sessionMaster.port) {
    login = await createLogin(app)
    victim = await cluster.masterOf(keys.userCode(prefix, login.userCode.replace('-', '')))
  }
  const exited = once(victim.process, 'exit')
  victim.process.kill('SIGKILL')
  await exited

  const lookUp = await app.inject({
    method: 'POST',
    url: '/api/mobile/code',
    headers: bearer(alice),
    payload: { code: login.userCode },
  })
  t.equal(lookUp.statusCode, 503, 'the look-up says the store is away')
  t.equal(lookUp.json().code, 'STORE_UNAVAILABLE')
  const read = await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
  t.not(read.statusCode, 404, 'the login is not "not found" either')
})
