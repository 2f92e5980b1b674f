import t from 'tap'
import type { App } from '@qr-login/server'
import { authorizationQuery, cookiesOf, relyingParty } from '../../helpers/oidc.js'
import { bearer, listeningApp, phoneToken, testApp } from '../../helpers/server.js'
import { openSocketIo } from '../../helpers/socket-io.js'

/**
 * One client-address rule (TRUST_PROXY) for every part of the service: what the phone is shown about the
 * PC must be the same whether the PC came through the API, an application's QR page or the provider's
 * device authorization, and a header written by a peer that is not a trusted proxy is never believed.
 */

const proxy = '10.0.0.1'
const stranger = '192.0.2.50'
// The client claims 198.51.100.7; the proxy in front of us appended the address it saw, 203.0.113.9.
const forwardedFor = '198.51.100.7, 203.0.113.9'

const cases: { trust?: string; peer: string; expected: string; why: string }[] = [
  { peer: proxy, expected: proxy, why: 'TRUST_PROXY unset: the peer, whatever it forwards' },
  { trust: '10.0.0.0/8', peer: proxy, expected: '203.0.113.9', why: 'a listed proxy: the hop it saw' },
  { trust: '10.0.0.0/8', peer: stranger, expected: stranger, why: 'a peer not listed: its header is ignored' },
  { trust: `${proxy},203.0.113.9`, peer: proxy, expected: '198.51.100.7', why: 'two listed proxies in a row' },
  { trust: '1', peer: proxy, expected: '203.0.113.9', why: 'one hop: the peer is the proxy' },
  { trust: '1', peer: stranger, expected: '203.0.113.9', why: 'a hop count cannot tell peers apart' },
  { trust: '2', peer: proxy, expected: '198.51.100.7', why: 'two hops' },
  { trust: 'true', peer: proxy, expected: '198.51.100.7', why: 'true: the left-most entry' },
]

const sent = (peer: string) => ({ remoteAddress: peer, headers: { 'x-forwarded-for': forwardedFor } })

async function scannedRequester(app: App, id: string, phone: string) {
  const scan = await app.inject({ method: 'POST', url: `/api/qr/${id}/scan`, headers: bearer(phone) })
  if (scan.statusCode !== 200) throw new Error(`scan failed: ${scan.statusCode} ${scan.body}`)
  return scan.json().requester.ip as string
}

/** The API's POST /api/qr. */
async function throughApi(app: App, peer: string, phone: string) {
  const { remoteAddress, headers } = sent(peer)
  const created = await app.inject({ method: 'POST', url: '/api/qr', remoteAddress, headers })
  return scannedRequester(app, created.json().id, phone)
}

/** An application's QR page: the authorization request, then the page's POST /interaction/:uid/qr. */
async function throughAppPage(app: App, peer: string, phone: string, redirectUri: string) {
  const { remoteAddress, headers } = sent(peer)
  const query = authorizationQuery(redirectUri)
  const authorize = await app.inject({ method: 'GET', url: `/oidc/auth?${query}`, remoteAddress, headers })
  const interaction = String(authorize.headers.location)
  if (!interaction.includes('/interaction/')) throw new Error(`no interaction: ${authorize.statusCode}`)
  const uid = interaction.split('/interaction/')[1]
  const created = await app.inject({
    method: 'POST',
    url: `/interaction/${uid}/qr`,
    remoteAddress,
    headers: { ...headers, cookie: cookiesOf(authorize) },
  })
  if (created.statusCode !== 201) throw new Error(`QR page create failed: ${created.statusCode} ${created.body}`)
  return scannedRequester(app, created.json().id, phone)
}

/** The provider's own pages: a device authorization, then its confirm screen on the phone. */
async function throughDeviceGrant(app: App, peer: string, phone: string) {
  const { remoteAddress, headers } = sent(peer)
  const authorized = await app.inject({
    method: 'POST',
    url: '/oidc/device/auth',
    remoteAddress,
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ client_id: 'test-tv', scope: 'openid' }).toString(),
  })
  const { user_code } = authorized.json<{ user_code: string }>()
  // verification_uri_complete answers a form that posts itself (its xsrf token) to the confirm screen.
  const opened = await app.inject({
    method: 'GET',
    url: `/oidc/device?user_code=${user_code}`,
    headers: { cookie: `m_session=${phone}` },
  })
  const fields = Object.fromEntries(
    [...opened.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  )
  const page = await app.inject({
    method: 'POST',
    url: '/oidc/device',
    headers: {
      cookie: [`m_session=${phone}`, cookiesOf(opened)].join('; '),
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: new URLSearchParams(fields).toString(),
  })
  const shown = /<dd id="req-ip">([^<]*)<\/dd>/.exec(page.body)
  if (!shown) throw new Error(`no address on the confirm screen: ${page.statusCode} ${page.body.slice(0, 300)}`)
  return shown[1]
}

t.test('the phone is shown one address for the PC by the API, an app’s QR page and the device grant', async (t) => {
  const rp = await relyingParty(t)
  for (const { trust, peer, expected, why } of cases) {
    const app = await testApp(t, {
      OIDC_CLIENTS_FILE: rp.clientsFile,
      ...(trust ? { TRUST_PROXY: trust } : {}),
    })
    const phone = await phoneToken(app)
    t.equal(await throughApi(app, peer, phone), expected, `API: ${why}`)
    t.equal(await throughAppPage(app, peer, phone, rp.redirectUri), expected, `app's QR page: ${why}`)
    t.equal(await throughDeviceGrant(app, peer, phone), expected, `device grant: ${why}`)
  }
})

t.test('the phone’s own address follows the same rule', async (t) => {
  const app = await testApp(t, { TRUST_PROXY: '10.0.0.0/8' })
  const phone = await phoneToken(app)
  for (const [peer, expected] of [
    [proxy, '203.0.113.9'],
    [stranger, stranger],
  ]) {
    const created = await app.inject({ method: 'POST', url: '/api/qr' })
    const scan = await app.inject({
      method: 'POST',
      url: `/api/qr/${created.json().id}/scan`,
      ...sent(peer),
      headers: { ...bearer(phone), 'x-forwarded-for': forwardedFor },
    })
    t.equal(scan.json().network.phoneIp, expected, `phone behind ${peer}`)
  }
})

t.test('socket.io counts watchers per address by the same rule', async (t) => {
  // Real sockets come from 127.0.0.1: trusted by the first setting, a stranger to the second.
  for (const [trust, separate] of [
    ['127.0.0.1', true],
    ['10.0.0.0/8', false],
  ] as const) {
    const { app, base } = await listeningApp(t, { TRUST_PROXY: trust, MAX_WATCHERS_PER_IP: '1' })
    const logins = await Promise.all(
      [1, 2].map(async () => (await app.inject({ method: 'POST', url: '/api/qr' })).json()),
    )
    const watch = (login: { id: string; watchToken: string }, address: string) =>
      openSocketIo(
        base,
        { id: login.id, watchToken: login.watchToken },
        { transports: ['websocket'], extraHeaders: { 'x-forwarded-for': address } },
      )
    const first = watch(logins[0], '198.51.100.7')
    t.teardown(() => first.close())
    await first.connected
    const second = watch(logins[1], '198.51.100.8')
    t.teardown(() => second.close())
    if (separate) {
      await second.connected
      await second.until(() => second.statuses.length > 0)
      t.match(
        second.statuses[0],
        { id: logins[1].id, status: 'pending' },
        `TRUST_PROXY=${trust}: two forwarded addresses are two clients, and the second one watches`,
      )
    } else {
      const refused = await second.refused
      t.equal(refused.message, 'RATE_LIMITED', `TRUST_PROXY=${trust}: a stranger's header is ignored, one client`)
    }
  }
})

t.test('a TRUST_PROXY entry that is not an address, a CIDR or a known name stops the start', async (t) => {
  const { loadConfig } = await import('../../../apps/server/src/config.js')
  t.throws(() => loadConfig({ TRUST_PROXY: '10.0.0.0/40' }), /TRUST_PROXY must be/)
  t.throws(() => loadConfig({ TRUST_PROXY: 'proxy.example' }), /TRUST_PROXY must be/)
  t.same(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy, ['loopback', '10.0.0.0/8'])
})

t.test('X-Forwarded-Proto is read only from a trusted proxy: by the API and by the provider alike', async (t) => {
  const rp = await relyingParty(t)
  const app = await testApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile, TRUST_PROXY: '10.0.0.0/8' })
  const query = authorizationQuery(rp.redirectUri)
  const secureFlags = (response: { headers: Record<string, unknown> }) =>
    ([] as string[])
      .concat((response.headers['set-cookie'] as string[] | string | undefined) ?? [])
      .map((cookie) => /;\s*secure/i.test(cookie))
  for (const [peer, secure] of [
    [proxy, true],
    [stranger, false],
  ] as const) {
    const headers = { 'x-forwarded-proto': 'https' }
    const created = await app.inject({ method: 'POST', url: '/api/qr', remoteAddress: peer, headers })
    t.same(secureFlags(created), [secure], `the API's qr_watch cookie from ${peer}: Secure ${secure}`)
    const authorize = await app.inject({ url: `/oidc/auth?${query}`, remoteAddress: peer, headers })
    const flags = secureFlags(authorize)
    t.ok(flags.length > 0, 'the provider sets its interaction cookies')
    t.ok(
      flags.every((flag) => flag === secure),
      `the provider's cookies from ${peer}: Secure ${secure}`,
    )
  }
})
