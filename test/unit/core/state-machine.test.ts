import t, { type Test } from 'tap'
import {
  decide,
  expireIfDue,
  type LoginAction,
  type ErrorCode,
  type LoginRecord,
  type LoginStatus,
} from '@qr-login/core'
import { coreFixture, pc, settings } from '../../helpers/core.js'

async function rejectsWith(t: Test, promise: Promise<unknown>, code: ErrorCode) {
  await t.rejects(promise, { name: 'LoginError', code }, code)
}

t.test('a login is created pending at version 1 with the QR lifetime', async (t) => {
  const { service, clock } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  t.match(status.id, /^[A-Za-z0-9_-]{21}$/)
  t.equal(status.status, 'pending')
  t.equal(status.version, 1)
  t.equal(status.expiresAt, new Date(clock.now() + settings.qrTtlMs).toISOString())
  t.notOk('scannedBy' in status)
  t.ok(Buffer.from(watchToken, 'base64url').length >= 16, 'watch token carries at least 128 bits')
})

t.test('only a hash of the watch token is stored', async (t) => {
  const { service, store } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  const record = await store.get(status.id)
  t.not(record!.watchTokenHash, watchToken)
  t.notOk(JSON.stringify(record).includes(watchToken))
})

t.test('happy path: pending → scanned → confirmed → consumed, one version per step', async (t) => {
  const { service, clock, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  await clock.advance(100_000)
  const scanned = await service.scan(status.id, alice)
  t.equal(scanned.status.status, 'scanned')
  t.equal(scanned.status.version, 2)
  t.same(scanned.status.scannedBy, { displayName: 'Alice', avatarUrl: '/avatars/alice.svg' })
  t.equal(
    scanned.status.expiresAt,
    new Date(clock.now() + settings.confirmWindowMs).toISOString(),
    'scan extends the lifetime to the confirm window',
  )
  t.same(scanned.requester, { ...pc, createdAt: new Date(clock.now() - 100_000).toISOString() })

  const confirmed = await service.confirm(status.id, alice)
  t.equal(confirmed.status, 'confirmed')
  t.equal(confirmed.version, 3)
  t.equal(confirmed.expiresAt, new Date(clock.now() + settings.exchangeWindowMs).toISOString())

  const { user, token } = await service.exchange(status.id, watchToken, pc)
  t.same(user, { username: 'alice', displayName: 'Alice', avatarUrl: '/avatars/alice.svg' })
  const after = await service.read(status.id, watchToken)
  t.equal(after.status, 'consumed')
  t.equal(after.version, 4)
  t.same(await service.sessions.user('pc', token), user, 'the exchange minted a PC session')
  t.equal(await service.sessions.user('phone', token), undefined, 'a PC session is not a phone session')
})

t.test('the timeline records when each version was written', async (t) => {
  const { service, clock, alice } = coreFixture()
  const { status, watchToken } = await service.createLogin(pc)
  const created = clock.now()
  await clock.advance(1500)
  await service.scan(status.id, alice)
  await clock.advance(250)
  await service.confirm(status.id, alice)
  t.same(await service.timeline(status.id, watchToken), {
    now: clock.now(),
    changes: [
      { version: 1, at: created },
      { version: 2, at: created + 1500 },
      { version: 3, at: created + 1750 },
    ],
  })
  await t.rejects(service.timeline(status.id, 'nope'), { code: 'WATCH_TOKEN_INVALID' })
})

t.test('scanning never shortens the lifetime', async (t) => {
  const { service, alice } = coreFixture()
  const { status } = await service.createLogin(pc)
  const scanned = await service.scan(status.id, alice)
  t.equal(scanned.status.expiresAt, status.expiresAt)
})

t.test('scan is idempotent for the same user and refused for another', async (t) => {
  const { service, alice, bob } = coreFixture()
  const { status } = await service.createLogin(pc)
  const first = await service.scan(status.id, alice)
  const again = await service.scan(status.id, alice)
  t.same(again.status, first.status, 'same version, nothing changed')
  await rejectsWith(t, service.scan(status.id, bob), 'ALREADY_SCANNED')
})

t.test('confirm needs a scan by the same user', async (t) => {
  const { service, alice, bob } = coreFixture()
  const { status } = await service.createLogin(pc)
  await rejectsWith(t, service.confirm(status.id, alice), 'NOT_SCANNED')
  await service.scan(status.id, alice)
  await rejectsWith(t, service.confirm(status.id, bob), 'NOT_SCANNER')
  await service.confirm(status.id, alice)
  await rejectsWith(t, service.confirm(status.id, alice), 'INVALID_TRANSITION')
  await rejectsWith(t, service.confirm(status.id, bob), 'NOT_SCANNER')
  await rejectsWith(t, service.scan(status.id, alice), 'INVALID_TRANSITION')
  await rejectsWith(t, service.scan(status.id, bob), 'ALREADY_SCANNED')
  await rejectsWith(t, service.cancel(status.id, alice), 'INVALID_TRANSITION')
})

t.test('cancel: anyone signed in while pending, only the scanner once scanned', async (t) => {
  const { service, alice, bob } = coreFixture()
  const pending = (await service.createLogin(pc)).status
  const cancelled = await service.cancel(pending.id, bob)
  t.equal(cancelled.status, 'cancelled')
  t.equal(cancelled.version, 2)

  const scanned = (await service.createLogin(pc)).status
  await service.scan(scanned.id, alice)
  await rejectsWith(t, service.cancel(scanned.id, bob), 'NOT_SCANNER')
  const byScanner = await service.cancel(scanned.id, alice)
  t.equal(byScanner.status, 'cancelled')
  t.equal(byScanner.version, 3)
  t.ok(byScanner.scannedBy, 'a cancelled login still says who scanned it')
})

t.test('terminal states refuse every action with the right code', async (t) => {
  const { service, alice } = coreFixture()
  const cancelled = await service.createLogin(pc)
  await service.cancel(cancelled.status.id, alice)
  for (const action of [
    () => service.scan(cancelled.status.id, alice),
    () => service.confirm(cancelled.status.id, alice),
    () => service.cancel(cancelled.status.id, alice),
    () => service.exchange(cancelled.status.id, cancelled.watchToken, pc),
  ]) {
    await rejectsWith(t, action(), 'INVALID_TRANSITION')
  }

  const consumed = await service.createLogin(pc)
  await service.scan(consumed.status.id, alice)
  await service.confirm(consumed.status.id, alice)
  await service.exchange(consumed.status.id, consumed.watchToken, pc)
  for (const action of [
    () => service.scan(consumed.status.id, alice),
    () => service.confirm(consumed.status.id, alice),
    () => service.cancel(consumed.status.id, alice),
    () => service.exchange(consumed.status.id, consumed.watchToken, pc),
  ]) {
    await rejectsWith(t, action(), 'ALREADY_CONSUMED')
  }
})

t.test('exchange needs a confirmed login and its own watch token', async (t) => {
  const { service, alice } = coreFixture()
  const login = await service.createLogin(pc)
  const other = await service.createLogin(pc)
  await rejectsWith(t, service.exchange(login.status.id, login.watchToken, pc), 'NOT_CONFIRMED')
  await service.scan(login.status.id, alice)
  await rejectsWith(t, service.exchange(login.status.id, login.watchToken, pc), 'NOT_CONFIRMED')
  await service.confirm(login.status.id, alice)
  await rejectsWith(t, service.exchange(login.status.id, undefined, pc), 'WATCH_TOKEN_REQUIRED')
  await rejectsWith(t, service.exchange(login.status.id, other.watchToken, pc), 'WATCH_TOKEN_INVALID')
  t.equal(
    (await service.read(login.status.id, login.watchToken)).status,
    'confirmed',
    'refused exchanges change nothing',
  )
})

t.test('reads need the watch token; unknown ids are not found whatever the token', async (t) => {
  const { service } = coreFixture()
  const login = await service.createLogin(pc)
  await rejectsWith(t, service.read(login.status.id, undefined), 'WATCH_TOKEN_REQUIRED')
  await rejectsWith(t, service.read(login.status.id, 'guess'), 'WATCH_TOKEN_INVALID')
  await rejectsWith(t, service.read('A'.repeat(21), login.watchToken), 'QR_NOT_FOUND')
  await rejectsWith(t, service.read('A'.repeat(21), undefined), 'QR_NOT_FOUND')
})

t.test('phone sign-in checks the password and sessions can end', async (t) => {
  const { service } = coreFixture()
  await rejectsWith(t, service.sessions.signInPhone('alice', 'wrong'), 'BAD_CREDENTIALS')
  await rejectsWith(t, service.sessions.signInPhone('mallory', 'demo'), 'BAD_CREDENTIALS')
  const { user, token } = await service.sessions.signInPhone('alice', 'demo')
  t.equal(user.username, 'alice')
  t.same(await service.sessions.user('phone', token), user)
  await service.sessions.end('pc', token)
  t.same(await service.sessions.user('phone', token), user, 'ending a PC session with a phone token does nothing')
  await service.sessions.end('phone', token)
  t.equal(await service.sessions.user('phone', token), undefined)
  t.equal(await service.sessions.user('phone', undefined), undefined)
  await service.sessions.end('phone', undefined)
})

t.test('sessions expire after their lifetime', async (t) => {
  const { service, clock } = coreFixture()
  const { token } = await service.sessions.signInPhone('bob', 'demo')
  await clock.advance(settings.sessionTtlMs)
  t.equal(await service.sessions.user('phone', token), undefined)
})

t.test('transitions.ts: every state × action, as a pure function of (record, action, time)', async (t) => {
  const alice = { username: 'alice', displayName: 'Alice', avatarUrl: '/avatars/alice.svg' }
  const bob = { username: 'bob', displayName: 'Bob', avatarUrl: '/avatars/bob.svg' }
  const now = 1_000_000
  const rules = { confirmWindowMs: 60_000, exchangeWindowMs: 30_000 }
  const record = (status: LoginStatus, extra: Partial<LoginRecord> = {}): LoginRecord => ({
    id: 'V1StGXR8_Z5jdHi6B-myT',
    status,
    version: 5,
    createdAt: now - 10_000,
    expiresAt: now + 5_000,
    watchTokenHash: 'hash',
    requester: { ...pc, createdAt: new Date(now - 10_000).toISOString() },
    changeTimes: [],
    ...(status === 'pending' ? {} : { scannedBy: alice }),
    ...extra,
  })
  const actions: [string, LoginAction][] = [
    ['scan by alice', { type: 'scan', user: alice }],
    ['scan by bob', { type: 'scan', user: bob }],
    ['confirm by alice', { type: 'confirm', user: alice }],
    ['confirm by bob', { type: 'confirm', user: bob }],
    ['cancel by alice', { type: 'cancel', user: alice }],
    ['cancel by bob', { type: 'cancel', user: bob }],
    ['exchange', { type: 'exchange' }],
  ]
  // What each action does in each state: the next status, "same" (nothing written) or the refusal's code.
  const expected: Record<LoginStatus, string[]> = {
    pending: ['scanned', 'scanned', 'NOT_SCANNED', 'NOT_SCANNED', 'cancelled', 'cancelled', 'NOT_CONFIRMED'],
    scanned: ['same', 'ALREADY_SCANNED', 'confirmed', 'NOT_SCANNER', 'cancelled', 'NOT_SCANNER', 'NOT_CONFIRMED'],
    confirmed: [
      'INVALID_TRANSITION',
      'ALREADY_SCANNED',
      'INVALID_TRANSITION',
      'NOT_SCANNER',
      'INVALID_TRANSITION',
      'INVALID_TRANSITION',
      'consumed',
    ],
    consumed: Array(7).fill('ALREADY_CONSUMED'),
    cancelled: Array(7).fill('INVALID_TRANSITION'),
    expired: Array(7).fill('QR_EXPIRED'),
  }
  for (const [status, outcomes] of Object.entries(expected) as [LoginStatus, string[]][]) {
    for (const [index, [name, action]] of actions.entries()) {
      const before = record(status)
      const snapshot = structuredClone(before)
      const decision = decide(before, action, now, rules)
      const seen =
        decision.outcome === 'next'
          ? decision.record.status
          : decision.outcome === 'unchanged'
            ? 'same'
            : decision.error.code
      t.equal(seen, outcomes[index], `${status} + ${name}`)
      t.same(before, snapshot, `${status} + ${name}: the record given is not changed`)
      if (decision.outcome === 'next') t.equal(decision.record.version, 6, `${status} + ${name}: one version up`)
    }
  }

  const scanned = decide(record('pending', { expiresAt: now + 1000 }), { type: 'scan', user: alice }, now, rules)
  t.match(
    scanned,
    { outcome: 'next', record: { expiresAt: now + 60_000, scannedBy: alice } },
    'a scan extends the lifetime to the confirm window',
  )
  const confirmed = decide(record('scanned'), { type: 'confirm', user: alice }, now, rules)
  t.match(confirmed, { outcome: 'next', record: { expiresAt: now + 30_000 } }, 'a confirm opens the exchange window')
  const cancelled = decide(record('pending'), { type: 'cancel', user: bob }, now, rules)
  t.match(cancelled, { outcome: 'next', record: { endedAt: now } }, 'an ending records when it ended')

  // login_hint: another account can neither scan nor cancel a login hinted for alice, in any live state.
  for (const status of ['pending', 'scanned', 'confirmed'] as const) {
    for (const type of ['scan', 'cancel'] as const) {
      t.match(
        decide(record(status, { loginHint: 'Alice' }), { type, user: bob }, now, rules),
        { outcome: 'refused', error: { code: 'WRONG_ACCOUNT' } },
        `hinted ${status} + ${type} by bob`,
      )
    }
  }
  t.match(decide(record('pending', { loginHint: 'Alice' }), { type: 'scan', user: alice }, now, rules), {
    outcome: 'next',
    record: { status: 'scanned' },
  })
  t.match(
    decide(record('expired', { loginHint: 'alice' }), { type: 'scan', user: bob }, now, rules),
    { outcome: 'refused', error: { code: 'QR_EXPIRED' } },
    'an ended login says it ended, whoever asks',
  )
  // REQUIRE_SAME_NETWORK: the rule is given; the PC's address is the record's, the phone's the action's.
  const sameNetwork = { ...rules, requireSameNetwork: (pcIp: string, phoneIp: string) => pcIp === phoneIp }
  for (const phoneIp of [undefined, '198.51.100.7']) {
    t.match(
      decide(record('scanned'), { type: 'confirm', user: alice, phoneIp }, now, sameNetwork),
      { outcome: 'refused', error: { code: 'NETWORK_MISMATCH' } },
      `a phone at ${phoneIp ?? 'no known address'}`,
    )
  }
  t.match(
    decide(
      record('scanned', { match: { code: '42', choices: ['17', '42', '88'] } }),
      { type: 'confirm', user: alice, matchCode: '17', phoneIp: '198.51.100.7' },
      now,
      sameNetwork,
    ),
    { outcome: 'refused', error: { code: 'NETWORK_MISMATCH' } },
    'checked before the number pick: a wrong pick from elsewhere does not end the login',
  )
  t.match(decide(record('scanned'), { type: 'confirm', user: alice, phoneIp: pc.ip }, now, sameNetwork), {
    outcome: 'next',
    record: { status: 'confirmed' },
  })

  const matching = record('scanned', { match: { code: '42', choices: ['17', '42', '88'] } })
  t.match(
    decide(matching, { type: 'confirm', user: alice }, now, rules),
    { outcome: 'refused', error: { code: 'VALIDATION_ERROR' } },
    'no pick: refused, nothing written',
  )
  t.match(decide(matching, { type: 'confirm', user: alice, matchCode: '42' }, now, rules), {
    outcome: 'next',
    record: { status: 'confirmed' },
  })
  t.match(
    decide(matching, { type: 'confirm', user: alice, matchCode: '17' }, now, rules),
    { outcome: 'next', record: { status: 'cancelled' }, refusal: { code: 'MATCH_CODE_MISMATCH' } },
    'a wrong pick is written as cancelled, then refused',
  )

  t.match(confirmed, { record: { approvedWith: 'tap' } }, 'a confirm without a method is a tap')
  const strict = { ...rules, requirePasskey: true }
  t.match(
    decide(record('scanned'), { type: 'confirm', user: alice }, now, strict),
    { outcome: 'refused', error: { code: 'PASSKEY_REQUIRED' } },
    'REQUIRE_PASSKEY: a tap is refused',
  )
  t.match(
    decide(matching, { type: 'confirm', user: alice, matchCode: '17' }, now, strict),
    { outcome: 'refused', error: { code: 'PASSKEY_REQUIRED' } },
    'REQUIRE_PASSKEY: a pick without a passkey is refused before it is judged (a wrong one would cancel)',
  )
  t.match(decide(record('scanned'), { type: 'confirm', user: alice, method: 'passkey' }, now, strict), {
    outcome: 'next',
    record: { status: 'confirmed', approvedWith: 'passkey' },
  })
  t.match(
    decide(record('scanned'), { type: 'confirm', user: bob, method: 'passkey' }, now, strict),
    { outcome: 'refused', error: { code: 'NOT_SCANNER' } },
    'a passkey does not make another user the scanner',
  )

  t.equal(expireIfDue(record('scanned'), now), undefined, 'not yet due')
  t.match(
    expireIfDue(record('scanned'), now + 5_000),
    { status: 'expired', version: 6, endedAt: now + 5_000 },
    'ended when it expired',
  )
  t.equal(expireIfDue(record('consumed'), now + 60_000), undefined, 'an ended login never expires')
})
