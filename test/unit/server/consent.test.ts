import t from 'tap'
import { cryptoSecrets } from '@qr-login/core'
import type { App } from '@qr-login/server'
import { sameNetwork } from '../../../apps/server/src/lib/network.js'
import { bearer, chromeOnWindows, phoneToken, testApp } from '../../helpers/server.js'

async function createFrom(app: App, remoteAddress: string) {
  const response = await app.inject({
    method: 'POST',
    url: '/api/qr',
    headers: { 'user-agent': chromeOnWindows },
    remoteAddress,
  })
  return response.json()
}

function scanFrom(app: App, id: string, token: string, remoteAddress: string) {
  return app.inject({ method: 'POST', url: `/api/qr/${id}/scan`, headers: bearer(token), remoteAddress })
}

function confirm(app: App, id: string, token: string, payload?: object) {
  return app.inject({
    method: 'POST',
    url: `/api/qr/${id}/confirm`,
    headers: bearer(token),
    ...(payload ? { payload } : {}),
  })
}

function poll(app: App, login: { id: string; watchToken: string }) {
  return app
    .inject({ method: 'GET', url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
    .then((response) => response.json())
}

t.test('sameNetwork: one address, one IPv4 /24 or one IPv6 /64', async (t) => {
  t.ok(sameNetwork('203.0.113.9', '203.0.113.9'), 'one NAT')
  t.ok(sameNetwork('192.168.1.20', '192.168.1.35'), 'one LAN')
  t.notOk(sameNetwork('192.168.1.20', '192.168.2.20'))
  t.notOk(sameNetwork('192.168.1.20', '100.64.3.4'), 'the phone on mobile data')
  t.ok(sameNetwork('2001:db8:1:2::10', '2001:db8:1:2:abcd::1'))
  t.notOk(sameNetwork('2001:db8:1:2::10', '2001:db8:1:3::10'))
  t.notOk(sameNetwork('192.168.1.20', '::1'))
  t.ok(sameNetwork('::1', '::1'))
})

t.test('the scan tells the phone whether it is on the PC’s network', async (t) => {
  const app = await testApp(t)
  const token = await phoneToken(app)
  const nearby = await createFrom(app, '192.168.1.20')
  const near = (await scanFrom(app, nearby.id, token, '192.168.1.35')).json()
  t.same(near.network, { phoneIp: '192.168.1.35', sameNetwork: true })
  t.equal(near.requester.ip, '192.168.1.20')

  const far = await createFrom(app, '198.51.100.7')
  const away = (await scanFrom(app, far.id, token, '100.64.3.4')).json()
  t.same(away.network, { phoneIp: '100.64.3.4', sameNetwork: false })
  t.notOk('matchChoices' in away, 'no number matching unless MATCH_CODE=1')
  t.notOk('matchCode' in nearby)
})

t.test('MATCH_CODE=1: the PC shows a code, the phone picks it among three; a wrong pick cancels', async (t) => {
  const app = await testApp(t, { MATCH_CODE: '1' })
  const token = await phoneToken(app)

  const login = await createFrom(app, '192.168.1.20')
  t.match(login.matchCode, /^\d{2}$/, 'the create response carries the code for the PC page')
  t.equal((await poll(app, login)).matchCode, login.matchCode, 'and so does every PC read while it may be needed')
  const scanned = await scanFrom(app, login.id, token, '192.168.1.35')
  const { matchChoices } = scanned.json()
  t.equal(matchChoices.length, 3)
  t.equal(new Set(matchChoices).size, 3, 'three different codes')
  t.ok(matchChoices.includes(login.matchCode))
  t.notOk('matchCode' in scanned.json(), 'the phone is never told which one is right')
  t.notMatch(scanned.body, /"matchCode"/)

  t.match(
    (await confirm(app, login.id, token)).json(),
    { statusCode: 400, code: 'VALIDATION_ERROR' },
    'no pick: refused, nothing changes',
  )
  t.match((await confirm(app, login.id, token, { matchCode: 'ab' })).json(), { statusCode: 400 })
  t.equal((await poll(app, login)).status, 'scanned')

  const wrong = matchChoices.find((code: string) => code !== login.matchCode)
  t.match((await confirm(app, login.id, token, { matchCode: wrong })).json(), {
    statusCode: 409,
    code: 'MATCH_CODE_MISMATCH',
  })
  const after = await poll(app, login)
  t.equal(after.status, 'cancelled', 'the PC sees the login cancelled')
  t.notOk('matchCode' in after, 'an ended login no longer shows a code')
  t.match(
    (await confirm(app, login.id, token, { matchCode: login.matchCode })).json(),
    { statusCode: 409 },
    'no second try',
  )

  const second = await createFrom(app, '192.168.1.20')
  await scanFrom(app, second.id, token, '192.168.1.35')
  const right = await confirm(app, second.id, token, { matchCode: second.matchCode })
  t.equal(right.statusCode, 200)
  t.equal(right.json().status, 'confirmed')
  t.notOk('matchCode' in right.json())
  const exchanged = await app.inject({
    method: 'POST',
    url: `/api/qr/${second.id}/exchange`,
    headers: bearer(second.watchToken),
  })
  t.equal(exchanged.statusCode, 200)
})

t.test('match codes come from the CSPRNG: two digits, three distinct choices, the right one anywhere', async (t) => {
  const positions = new Set<number>()
  for (let i = 0; i < 300; i++) {
    const { code, choices } = cryptoSecrets.matchCode()
    if (!/^[1-9]\d$/.test(code) || choices.length !== 3 || new Set(choices).size !== 3 || !choices.includes(code)) {
      t.fail(`bad match code ${code} ${choices}`)
    }
    positions.add(choices.indexOf(code))
  }
  t.same([...positions].sort(), [0, 1, 2])
})

function confirmFrom(app: App, id: string, token: string, remoteAddress: string) {
  return app.inject({ method: 'POST', url: `/api/qr/${id}/confirm`, headers: bearer(token), remoteAddress })
}

t.test(
  'REQUIRE_SAME_NETWORK=1: a confirm from outside the PC’s network is 403 and the login keeps waiting',
  async (t) => {
    const app = await testApp(t, { REQUIRE_SAME_NETWORK: '1' })
    const token = await phoneToken(app)
    const login = await createFrom(app, '192.168.1.20')
    await scanFrom(app, login.id, token, '100.64.3.4')

    const refused = await confirmFrom(app, login.id, token, '100.64.3.4')
    t.equal(refused.statusCode, 403)
    t.equal(refused.json().code, 'NETWORK_MISMATCH')
    const options = await app.inject({
      method: 'POST',
      url: `/api/qr/${login.id}/passkey-options`,
      headers: bearer(token),
      remoteAddress: '100.64.3.4',
    })
    t.equal(options.json().code, 'NETWORK_MISMATCH', 'no passkey prompt is offered from there either')
    t.match(await poll(app, login), { status: 'scanned', version: 2 }, 'not confirmed, not cancelled: it still waits')

    const joined = await confirmFrom(app, login.id, token, '192.168.1.35')
    t.equal(joined.statusCode, 200, 'the same phone, once on the PC’s network, confirms')
    t.equal(joined.json().status, 'confirmed')
  },
)

t.test('REQUIRE_SAME_NETWORK: IPv6 /64, the prefixes and ranges the operator sets', async (t) => {
  const cases: { env: Record<string, string>; pc: string; phone: string; allowed: boolean }[] = [
    { env: {}, pc: '2001:db8:1:2::10', phone: '2001:db8:1:2:abcd::1', allowed: true },
    { env: {}, pc: '2001:db8:1:2::10', phone: '2001:db8:1:3::10', allowed: false },
    { env: {}, pc: '192.168.1.20', phone: '::ffff:192.168.1.99', allowed: true },
    { env: {}, pc: '192.168.1.20', phone: '2001:db8::1', allowed: false },
    { env: { SAME_NETWORK_IPV4_PREFIX: '32' }, pc: '192.168.1.20', phone: '192.168.1.35', allowed: false },
    { env: { SAME_NETWORK_IPV4_PREFIX: '16' }, pc: '192.168.1.20', phone: '192.168.7.35', allowed: true },
    { env: { SAME_NETWORK_RANGES: '10.20.0.0/16' }, pc: '10.20.1.5', phone: '10.20.9.9', allowed: true },
    { env: { SAME_NETWORK_RANGES: '10.20.0.0/16' }, pc: '10.20.1.5', phone: '10.21.1.5', allowed: false },
  ]
  for (const { env, pc, phone, allowed } of cases) {
    const app = await testApp(t, { REQUIRE_SAME_NETWORK: '1', ...env })
    const token = await phoneToken(app)
    const login = await createFrom(app, pc)
    const scan = (await scanFrom(app, login.id, token, phone)).json()
    t.equal(scan.network.sameNetwork, allowed, `the phone's warning agrees: ${pc} / ${phone} ${JSON.stringify(env)}`)
    const answer = await confirmFrom(app, login.id, token, phone)
    t.equal(answer.statusCode, allowed ? 200 : 403, `${pc} / ${phone} ${JSON.stringify(env)}`)
  }
})

t.test('without REQUIRE_SAME_NETWORK another network is a warning only', async (t) => {
  const app = await testApp(t)
  const token = await phoneToken(app)
  const login = await createFrom(app, '192.168.1.20')
  await scanFrom(app, login.id, token, '100.64.3.4')
  t.equal((await confirmFrom(app, login.id, token, '100.64.3.4')).statusCode, 200)
})

t.test('a SAME_NETWORK_RANGES entry that is not a CIDR stops the start', async (t) => {
  const { loadConfig } = await import('../../../apps/server/src/config.js')
  t.throws(() => loadConfig({ SAME_NETWORK_RANGES: '10.20.0.0' }), /SAME_NETWORK_RANGES must list CIDRs/)
  t.throws(() => loadConfig({ SAME_NETWORK_IPV4_PREFIX: '40' }), /SAME_NETWORK_IPV4_PREFIX/)
})
