import t from 'tap'
import { ManualClock, MemoryPasskeyStore, type StoredPasskey } from '@qr-login/core'
import type { App } from '@qr-login/server'
import { loadConfig } from '../../../apps/server/src/config.js'
import { COSEALG, isoCBOR } from '@simplewebauthn/server/helpers'
import { bearer, createLogin, phoneAction, phoneToken, testApp } from '../../helpers/server.js'
import { SoftwareAuthenticator } from '../../helpers/software-authenticator.js'

const post = (app: App, url: string, token: string, payload?: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers: { ...bearer(token), ...headers }, ...(payload ? { payload } : {}) })

/** Well-formed, but signed by nobody: what a client that guesses would send. */
const forgedAssertion = {
  id: 'Y3JlZGVudGlhbA',
  rawId: 'Y3JlZGVudGlhbA',
  type: 'public-key',
  response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
  clientExtensionResults: {},
}

function storedPasskey(id: string, rpId = 'qr.test'): StoredPasskey {
  return {
    id,
    publicKey: 'pQECAyYgASFYIA',
    counter: 0,
    rpId,
    deviceType: 'singleDevice',
    backedUp: false,
    label: 'Chrome 131 on Android 14',
    createdAt: Date.parse('2026-11-01T00:00:00Z'),
  }
}

async function scannedBy(app: App, username = 'alice') {
  const login = await createLogin(app)
  const token = await phoneToken(app, username)
  t.equal((await phoneAction(app, 'scan', login.id, token)).statusCode, 200)
  return { login, token }
}

t.test('a passkey prompt is only for the user who scanned, while the login waits for them', async (t) => {
  const passkeyStore = new MemoryPasskeyStore(new ManualClock())
  await passkeyStore.addPasskey('alice', storedPasskey('YWxpY2Uta2V5'), 10)
  const app = await testApp(t, {}, { stores: { passkeys: passkeyStore } })
  const alice = await phoneToken(app, 'alice')
  const bob = await phoneToken(app, 'bob')
  const pending = await createLogin(app)
  const optionsFor = (id: string, token: string) => post(app, `/api/qr/${id}/passkey-options`, token)

  t.equal((await app.inject({ method: 'POST', url: `/api/qr/${pending.id}/passkey-options` })).statusCode, 401)
  t.equal((await optionsFor('not-a-login-id', alice)).json().code, 'VALIDATION_ERROR')
  t.equal((await optionsFor('x'.repeat(21), alice)).json().code, 'QR_NOT_FOUND')
  t.equal((await optionsFor(pending.id, alice)).json().code, 'NOT_SCANNED')
  await phoneAction(app, 'scan', pending.id, alice)
  t.equal((await optionsFor(pending.id, bob)).json().code, 'NOT_SCANNER')

  const asked = await optionsFor(pending.id, alice)
  t.equal(asked.statusCode, 200)
  const options = asked.json()
  t.match(options, {
    challenge: /^[A-Za-z0-9_-]{43}$/,
    rpId: 'qr.test',
    userVerification: 'required',
    allowCredentials: [{ id: 'YWxpY2Uta2V5', type: 'public-key' }],
  })
  t.equal(asked.headers['cache-control'], 'no-store')
  t.not((await optionsFor(pending.id, alice)).json().challenge, options.challenge, 'each prompt is new')

  // Bob has no passkey: nothing to prompt for.
  const { login: bobs } = await scannedBy(app, 'bob')
  const none = await optionsFor(bobs.id, bob)
  t.equal(none.statusCode, 409)
  t.equal(none.json().code, 'NO_PASSKEY')
})

t.test('a passkey only prompts on the host it was added on', async (t) => {
  const passkeyStore = new MemoryPasskeyStore(new ManualClock())
  await passkeyStore.addPasskey('alice', storedPasskey('b24tbG9jYWxob3N0', 'localhost'), 10)
  const app = await testApp(
    t,
    { ALLOWED_ORIGINS: 'http://qr.test:3000,http://localhost:3000' },
    { stores: { passkeys: passkeyStore } },
  )
  const { login, token } = await scannedBy(app)
  const onPublicUrl = await post(app, `/api/qr/${login.id}/passkey-options`, token)
  t.equal(onPublicUrl.json().code, 'NO_PASSKEY', 'added on localhost: no use on qr.test')
  const onLocalhost = await post(app, `/api/qr/${login.id}/passkey-options`, token, undefined, {
    origin: 'http://localhost:3000',
  })
  t.match(onLocalhost.json(), { rpId: 'localhost', allowCredentials: [{ id: 'b24tbG9jYWxob3N0' }] })
})

t.test('a confirm with a passkey answer that does not verify is refused, and the login still waits', async (t) => {
  const passkeyStore = new MemoryPasskeyStore(new ManualClock())
  await passkeyStore.addPasskey('alice', storedPasskey('Y3JlZGVudGlhbA'), 10)
  const app = await testApp(t, {}, { stores: { passkeys: passkeyStore } })
  const { login, token } = await scannedBy(app)
  const confirm = (payload: object) => post(app, `/api/qr/${login.id}/confirm`, token, payload)

  const unasked = await confirm({ passkey: forgedAssertion })
  t.equal(unasked.statusCode, 403)
  t.equal(unasked.json().code, 'PASSKEY_REJECTED', 'no prompt was open')

  await post(app, `/api/qr/${login.id}/passkey-options`, token)
  const forged = await confirm({ passkey: forgedAssertion })
  t.equal(forged.statusCode, 403)
  t.match(forged.json(), { code: 'PASSKEY_REJECTED', message: /could not be verified/ })
  t.equal(passkeyStore.stats().challenges, 0, 'the prompt was spent by the failed answer')

  await post(app, `/api/qr/${login.id}/passkey-options`, token)
  const foreign = await confirm({ passkey: { ...forgedAssertion, id: 'bm90LW1pbmU', rawId: 'bm90LW1pbmU' } })
  t.match(foreign.json(), { code: 'PASSKEY_REJECTED', message: /not one of yours/ })

  for (const malformed of [
    { passkey: { ...forgedAssertion, type: 'password' } },
    { passkey: { ...forgedAssertion, response: { clientDataJSON: 'e30' } } },
    { passkey: { ...forgedAssertion, id: 'not base64url!' } },
    { passkey: 'yes' },
  ]) {
    const refused = await confirm(malformed)
    t.equal(refused.statusCode, 400, JSON.stringify(malformed))
    t.equal(refused.json().code, 'VALIDATION_ERROR')
  }
  const status = await app.inject({ method: 'GET', url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
  t.equal(status.json().status, 'scanned')

  const tapped = await confirm({})
  t.equal(tapped.json().status, 'confirmed', 'without REQUIRE_PASSKEY a tap still approves')
})

t.test('REQUIRE_PASSKEY=1: a tap-only confirm is 403 PASSKEY_REQUIRED and changes nothing', async (t) => {
  const app = await testApp(t, { REQUIRE_PASSKEY: '1', MATCH_CODE: '1' })
  const { login, token } = await scannedBy(app)
  for (const body of [undefined, { matchCode: '00' }, { matchCode: login.matchCode }]) {
    const refused = await post(app, `/api/qr/${login.id}/confirm`, token, body)
    t.equal(refused.statusCode, 403)
    t.match(refused.json(), { code: 'PASSKEY_REQUIRED', message: /passkey/ })
  }
  const status = await app.inject({ method: 'GET', url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) })
  t.equal(status.json().status, 'scanned', 'a wrong number without a passkey did not spend the pick')
  t.equal(status.json().version, 2)
})

t.test('the PC session records a tap: the exchange and /api/me say approvedWith', async (t) => {
  const app = await testApp(t)
  const { login, token } = await scannedBy(app)
  await phoneAction(app, 'confirm', login.id, token)
  const exchanged = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    headers: bearer(login.watchToken),
  })
  t.match(exchanged.json(), { user: { username: 'alice' }, approvedWith: 'tap' })
  const sid = exchanged.cookies.find((cookie) => cookie.name === 'sid')!.value
  const me = await app.inject({ method: 'GET', url: '/api/me', cookies: { sid } })
  t.same(me.json(), {
    user: { username: 'alice', displayName: 'Alice', avatarUrl: '/avatars/alice.svg' },
    approvedWith: 'tap',
  })
  const history = await app.inject({ method: 'GET', url: '/api/mobile/history', headers: bearer(token) })
  t.match(history.json().entries, [{ outcome: 'approved', method: 'tap' }])
})

t.test('adding a passkey: a prompt first, one answer per prompt, bounded, removable by its owner only', async (t) => {
  const passkeyStore = new MemoryPasskeyStore(new ManualClock())
  const app = await testApp(t, { MAX_PASSKEYS_PER_USER: '2' }, { stores: { passkeys: passkeyStore } })
  const alice = await phoneToken(app, 'alice')
  const bob = await phoneToken(app, 'bob')

  const options = await post(app, '/api/mobile/passkeys/options', alice)
  t.equal(options.statusCode, 200)
  t.match(options.json(), {
    rp: { name: 'QR Login', id: 'qr.test' },
    user: { name: 'alice', displayName: 'Alice', id: /^[A-Za-z0-9_-]{22}$/ },
    authenticatorSelection: { userVerification: 'required' },
    attestation: 'none',
  })
  t.equal(
    (await post(app, '/api/mobile/passkeys/options', alice)).json().user.id,
    options.json().user.id,
    'the same user handle every time',
  )
  const attestation = {
    id: 'bmV3',
    rawId: 'bmV3',
    type: 'public-key',
    response: { clientDataJSON: 'e30', attestationObject: 'oA' },
    clientExtensionResults: {},
  }
  const forged = await post(app, '/api/mobile/passkeys', alice, attestation)
  t.equal(forged.statusCode, 403)
  t.equal(forged.json().code, 'PASSKEY_REJECTED')
  const unasked = await post(app, '/api/mobile/passkeys', alice, attestation)
  t.match(unasked.json(), { code: 'PASSKEY_REJECTED', message: /expired or was answered already/ })
  t.equal((await post(app, '/api/mobile/passkeys', alice, { id: 'x' })).json().code, 'VALIDATION_ERROR')
  t.equal((await app.inject({ method: 'POST', url: '/api/mobile/passkeys/options' })).statusCode, 401)

  await passkeyStore.addPasskey('alice', storedPasskey('Zmlyc3Q'), 2)
  await passkeyStore.addPasskey('alice', storedPasskey('c2Vjb25k'), 2)
  const full = await post(app, '/api/mobile/passkeys/options', alice)
  t.equal(full.statusCode, 409)
  t.equal(full.json().code, 'PASSKEY_LIMIT_REACHED')
  const listed = await app.inject({ method: 'GET', url: '/api/mobile/passkeys', headers: bearer(alice) })
  t.same(
    listed.json().passkeys.map((passkey: { id: string }) => passkey.id),
    ['Zmlyc3Q', 'c2Vjb25k'],
  )
  t.notOk('publicKey' in listed.json().passkeys[0], 'the key itself is never shown')

  const remove = (id: string, token: string) =>
    app.inject({ method: 'DELETE', url: `/api/mobile/passkeys/${id}`, headers: bearer(token) })
  t.equal((await remove('Zmlyc3Q', bob)).json().code, 'PASSKEY_NOT_FOUND', "not someone else's")
  t.equal((await remove('not%20valid', alice)).json().code, 'VALIDATION_ERROR')
  t.equal((await remove('Zmlyc3Q', alice)).statusCode, 204)
  t.equal((await remove('Zmlyc3Q', alice)).statusCode, 404)
  t.equal((await post(app, '/api/mobile/passkeys/options', alice)).statusCode, 200, 'room for one again')
})

t.test('passkeys use one list of algorithms every supported Node verifies, whatever Node made them', async (t) => {
  const passkeyStore = new MemoryPasskeyStore(new ManualClock())
  const app = await testApp(t, {}, { stores: { passkeys: passkeyStore } })
  const alice = await phoneToken(app, 'alice')
  const ask = async () => {
    const options = await post(app, '/api/mobile/passkeys/options', alice)
    t.equal(options.statusCode, 200)
    return options.json()
  }

  const options = await ask()
  t.same(
    options.pubKeyCredParams,
    [COSEALG.ES256, COSEALG.EdDSA, COSEALG.RS256].map((alg) => ({ alg, type: 'public-key' })),
    'ES256, EdDSA, RS256 and nothing that depends on the runtime (Node 24 and later would offer ML-DSA-44 first)',
  )

  // An authenticator that answers with a post-quantum key anyway: Node 22 could not verify it.
  const postQuantum = new SoftwareAuthenticator('http://qr.test:3000', 'qr.test', COSEALG.ML_DSA_44)
  const refused = await post(app, '/api/mobile/passkeys', alice, postQuantum.register(options))
  t.equal(refused.statusCode, 403)
  t.match(refused.json(), { code: 'PASSKEY_REJECTED', message: /alg "-48"/ })
  t.same(await passkeyStore.listPasskeys('alice'), [], 'nothing kept')

  const phone = new SoftwareAuthenticator('http://qr.test:3000', 'qr.test')
  const added = await post(app, '/api/mobile/passkeys', alice, phone.register(await ask()))
  t.equal(added.statusCode, 201, added.body)
  const login = await createLogin(app)
  t.equal((await phoneAction(app, 'scan', login.id, alice)).statusCode, 200)
  const prompt = await post(app, `/api/qr/${login.id}/passkey-options`, alice)
  const confirmed = await post(app, `/api/qr/${login.id}/confirm`, alice, { passkey: phone.assert(prompt.json()) })
  t.equal(confirmed.statusCode, 200, confirmed.body)
  t.equal(confirmed.json().status, 'confirmed')

  // A passkey stored by an older build that let the runtime choose: refused with the reason, before any crypto.
  const [stored] = await passkeyStore.listPasskeys('alice')
  const foreignKey = Buffer.from(
    isoCBOR.encode(
      new Map<number, unknown>([
        [1, 7],
        [3, COSEALG.ML_DSA_44],
        [-1, new Uint8Array(32)],
      ]) as never,
    ),
  ).toString('base64url')
  await passkeyStore.addPasskey('bob', { ...stored, id: 'b2xkLWtleQ', publicKey: foreignKey }, 10)
  const bob = await phoneToken(app, 'bob')
  const bobs = await createLogin(app)
  await phoneAction(app, 'scan', bobs.id, bob)
  await post(app, `/api/qr/${bobs.id}/passkey-options`, bob)
  const old = await post(app, `/api/qr/${bobs.id}/confirm`, bob, {
    passkey: { ...forgedAssertion, id: 'b2xkLWtleQ', rawId: 'b2xkLWtleQ' },
  })
  t.equal(old.statusCode, 403)
  t.match(old.json(), { code: 'PASSKEY_REJECTED', message: /algorithm this service does not accept/ })
})

t.test('passkey settings are checked at start, naming the variable', async (t) => {
  t.throws(() => loadConfig({ PASSKEY_RP_ID: '192.168.1.20:3000' }), /PASSKEY_RP_ID must be a host name/)
  t.throws(() => loadConfig({ PASSKEY_RP_ID: 'https://login.example.com' }), /PASSKEY_RP_ID/)
  t.throws(() => loadConfig({ MAX_PASSKEYS_PER_USER: '0' }), /MAX_PASSKEYS_PER_USER/)
  t.throws(() => loadConfig({ REQUIRE_PASSKEY: 'maybe' }), /REQUIRE_PASSKEY/)
  t.match(loadConfig({ PASSKEY_RP_ID: 'login.example.com', REQUIRE_PASSKEY: '1' }).passkeys, {
    rpId: 'login.example.com',
    required: true,
    maxPerUser: 10,
  })
})

t.test(
  'a device’s passkey prompt: only for a device that waits, limited like a typed code, and answered once',
  async (t) => {
    const passkeyStore = new MemoryPasskeyStore(new ManualClock())
    const app = await testApp(t, { RATE_LIMIT_CODE_FAILURES_PER_SESSION: '2' }, { stores: { passkeys: passkeyStore } })
    const token = await phoneToken(app, 'alice')
    const device = await app.inject({
      method: 'POST',
      url: '/oidc/device/auth',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'client_id=qr-login-cli&scope=openid',
    })
    const { user_code: userCode } = device.json<{ user_code: string }>()

    t.equal(
      (await app.inject({ method: 'POST', url: '/api/mobile/device/passkey-options', payload: { userCode } }))
        .statusCode,
      401,
    )
    t.equal(
      (await post(app, '/api/mobile/device/passkey-options', token, { userCode: 'nope' })).json().code,
      'VALIDATION_ERROR',
    )
    t.equal(
      (await post(app, '/api/mobile/device/passkey-options', token, { userCode })).json().code,
      'NO_PASSKEY',
      'no passkey yet: 409',
    )

    await passkeyStore.addPasskey('alice', storedPasskey('Y3JlZGVudGlhbA'), 10)
    const options = await post(app, '/api/mobile/device/passkey-options', token, { userCode })
    t.equal(options.statusCode, 200)
    t.match(options.json(), {
      challenge: /.+/,
      allowCredentials: [{ id: 'Y3JlZGVudGlhbA' }],
      userVerification: 'required',
    })
    const forged = await post(app, '/api/mobile/device/passkey', token, { userCode, passkey: forgedAssertion })
    t.equal(forged.statusCode, 403)
    t.equal(forged.json().code, 'PASSKEY_REJECTED')
    const again = await post(app, '/api/mobile/device/passkey', token, { userCode, passkey: forgedAssertion })
    t.match(again.json(), { code: 'PASSKEY_REJECTED', message: /No passkey prompt is open/ }, 'the prompt was spent')

    for (const guess of ['BCDF-GHJK', 'BCDF-GHJL']) {
      const miss = await post(app, '/api/mobile/device/passkey-options', token, { userCode: guess })
      t.equal(miss.json().code, 'CODE_NOT_FOUND', `${guess}: no device waits for it`)
    }
    const limited = await post(app, '/api/mobile/device/passkey-options', token, { userCode })
    t.equal(limited.statusCode, 429, 'guessing device codes here spends the same allowance as typing them')
  },
)
