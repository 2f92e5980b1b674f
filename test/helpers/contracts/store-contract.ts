import type { Test } from 'tap'
import { historyLimit, type HistoryEntry, type LoginRecord, type LoginStores, type SessionRecord } from '@qr-login/core'

/** What the login, session and history stores of every backend must do. Run by one test file per backend. */
export interface StoreUnderTest {
  stores: LoginStores
  /** The backend's round trip (what /readyz asks). */
  ping(): Promise<void>
  now(): number
  /** Moves time past `ms` so entries whose keepUntil has passed are gone. */
  letTimePass(ms: number): Promise<void>
}

let counter = 0
function record(overrides: Partial<LoginRecord> = {}): LoginRecord {
  counter++
  return {
    id: `store-test-${String(counter).padStart(10, '0')}`.slice(0, 21),
    status: 'pending',
    version: 1,
    createdAt: 1,
    expiresAt: 2,
    watchTokenHash: 'hash',
    requester: { ip: '192.0.2.1', userAgent: 'ua', browser: 'b', os: 'o', createdAt: new Date(1).toISOString() },
    changeTimes: [1],
    ...overrides,
  }
}

export function storeContract(t: Test, open: () => Promise<StoreUnderTest>) {
  t.test('ping answers once the store has made a round trip (what /readyz asks)', async (t) => {
    const { ping } = await open()
    await t.resolves(ping())
  })

  t.test('insert then get returns an equal record; a taken id is refused', async (t) => {
    const { stores, now } = await open()
    const login = record()
    t.equal(await stores.logins.insert(login, now() + 60_000), true)
    t.same(await stores.logins.get(login.id), login)
    t.equal(await stores.logins.insert({ ...login, version: 9 }, now() + 60_000), false)
    t.same(await stores.logins.get(login.id), login, 'the first record is untouched')
    t.equal(await stores.logins.get('store-test-missing00'), undefined)
  })

  t.test('a user code is reserved for one login until its time, then forgotten', async (t) => {
    const { stores, now, letTimePass } = await open()
    const code = `BCDF${String(counter++).padStart(4, '0')}`.replace(/\d/g, (digit) => 'GHJKLMNPQR'[Number(digit)])
    t.equal(await stores.logins.reserveUserCode(code, 'login-one', now() + 1000), true)
    t.equal(
      await stores.logins.reserveUserCode(code, 'login-two', now() + 60_000),
      false,
      'a code held by another login is refused',
    )
    t.equal(await stores.logins.findByUserCode(code), 'login-one')
    t.equal(await stores.logins.findByUserCode('ZZZZZZZZ'), undefined)
    await letTimePass(1100)
    t.equal(await stores.logins.findByUserCode(code), undefined, 'gone once its time has passed')
    t.equal(await stores.logins.reserveUserCode(code, 'login-two', now() + 60_000), true, 'and free for another login')
    await stores.logins.releaseUserCode(code, 'login-one')
    t.equal(await stores.logins.findByUserCode(code), 'login-two', 'a login releases only its own reservation')
    await stores.logins.releaseUserCode(code, 'login-two')
    t.equal(await stores.logins.findByUserCode(code), undefined, 'released before its time')
    t.equal(await stores.logins.reserveUserCode(code, 'login-three', now() + 60_000), true)
  })

  t.test('a user’s history: newest first, the newest historyLimit kept, each entry until its time', async (t) => {
    const { stores, now, letTimePass } = await open()
    const username = `history-${counter++}`
    const entry = (n: number): HistoryEntry => ({
      loginId: `login-${n}`,
      outcome: n % 2 ? 'approved' : 'cancelled',
      at: n,
      ip: '192.0.2.1',
      browser: 'Chrome 131',
      os: 'Windows 10',
    })
    await stores.history.addHistory(username, entry(0), now() + 1000)
    for (let n = 1; n <= historyLimit; n++) await stores.history.addHistory(username, entry(n), now() + 60_000)
    const listed = await stores.history.listHistory(username)
    t.equal(listed.length, historyLimit, 'trimmed to the limit')
    t.same(listed[0], entry(historyLimit), 'newest first')
    t.same(listed.at(-1), entry(1), 'the oldest fell off')
    t.same(await stores.history.listHistory('nobody-at-all'), [])

    const other = `history-${counter++}`
    await stores.history.addHistory(other, { ...entry(7), app: 'Acme Notes' }, now() + 1000)
    await stores.history.addHistory(other, entry(8), now() + 60_000)
    await letTimePass(1100)
    t.same(await stores.history.listHistory(other), [entry(8)], 'an entry past its time is gone, the others stay')
  })

  t.test('compareAndSet writes only over the expected version', async (t) => {
    const { stores, now } = await open()
    const login = record()
    await stores.logins.insert(login, now() + 60_000)
    const scanned: LoginRecord = {
      ...login,
      status: 'scanned',
      version: 2,
      scannedBy: { username: 'alice', displayName: 'Alice', avatarUrl: '/avatars/alice.svg' },
    }
    t.equal(await stores.logins.compareAndSet(scanned, 1, now() + 60_000), true)
    t.same(await stores.logins.get(login.id), scanned)
    t.equal(await stores.logins.compareAndSet({ ...login, status: 'cancelled', version: 2 }, 1, now() + 60_000), false)
    t.same(await stores.logins.get(login.id), scanned, 'a stale write changes nothing')
    t.equal(await stores.logins.compareAndSet({ ...login, id: 'store-test-nothere0000' }, 1, now() + 60_000), false)
  })

  t.test('racing compareAndSets of one version: exactly one wins', async (t) => {
    const { stores, now } = await open()
    const login = record()
    await stores.logins.insert(login, now() + 60_000)
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        stores.logins.compareAndSet({ ...login, version: 2, expiresAt: i }, 1, now() + 60_000),
      ),
    )
    t.equal(results.filter(Boolean).length, 1)
  })

  t.test('entries are forgotten after keepUntil', async (t) => {
    const { stores, now, letTimePass } = await open()
    const login = record()
    await stores.logins.insert(login, now() + 1000)
    const session: SessionRecord = {
      tokenHash: `h${counter}`,
      kind: 'pc',
      username: 'alice',
      createdAt: now(),
      expiresAt: now() + 1000,
    }
    await stores.sessions.putSession(session, now() + 1000)
    t.same(await stores.sessions.getSession(session.tokenHash), session)
    await letTimePass(1100)
    t.equal(await stores.logins.get(login.id), undefined)
    t.equal(await stores.sessions.getSession(session.tokenHash), undefined)
  })

  t.test('a compareAndSet moves keepUntil', async (t) => {
    const { stores, now, letTimePass } = await open()
    const login = record()
    await stores.logins.insert(login, now() + 1000)
    await stores.logins.compareAndSet({ ...login, version: 2 }, 1, now() + 60_000)
    await letTimePass(1100)
    t.equal((await stores.logins.get(login.id))?.version, 2)
  })

  t.test('sessions can be deleted', async (t) => {
    const { stores, now } = await open()
    const session: SessionRecord = {
      tokenHash: `d${counter++}`,
      kind: 'phone',
      username: 'bob',
      createdAt: now(),
      expiresAt: now() + 1000,
    }
    await stores.sessions.putSession(session, now() + 60_000)
    await stores.sessions.deleteSession(session.tokenHash)
    t.equal(await stores.sessions.getSession(session.tokenHash), undefined)
    await stores.sessions.deleteSession('never-existed')
    t.equal(await stores.sessions.getSession('never-existed'), undefined)
  })

  t.test("listSessions gives a user's live sessions of both kinds, and none of anyone else's", async (t) => {
    const { stores, now, letTimePass } = await open()
    const username = `lister${counter++}`
    const session = (kind: 'pc' | 'phone', tokenHash: string, lifetime: number): SessionRecord => ({
      id: `id-${tokenHash}`,
      tokenHash,
      kind,
      username,
      createdAt: now(),
      expiresAt: now() + lifetime,
      ip: '192.0.2.7',
      userAgent: 'ua',
      browser: 'Chrome 131',
      os: 'Windows 10',
    })
    const pc = session('pc', `l${counter++}`, 60_000)
    const phone = session('phone', `l${counter++}`, 60_000)
    const shortLived = session('pc', `l${counter++}`, 1000)
    for (const each of [pc, phone, shortLived]) await stores.sessions.putSession(each, each.expiresAt)
    await stores.sessions.putSession(
      { ...pc, tokenHash: `l${counter++}`, username: `${username}-other` },
      now() + 60_000,
    )
    const byHash = (list: SessionRecord[]) => [...list].sort((a, b) => a.tokenHash.localeCompare(b.tokenHash))
    t.same(byHash(await stores.sessions.listSessions(username)), byHash([pc, phone, shortLived]))

    await stores.sessions.deleteSession(phone.tokenHash)
    await letTimePass(1100)
    t.same(await stores.sessions.listSessions(username), [pc], 'deleted and forgotten sessions are gone from the list')
    t.same(await stores.sessions.listSessions('nobody-at-all'), [])
  })

  t.test('countLive counts logins from insert until a terminal compare-and-set', async (t) => {
    const { stores, now } = await open()
    const base = await stores.logins.countLive()
    const first = record({ expiresAt: now() + 60_000 })
    const second = record({ expiresAt: now() + 60_000 })
    await stores.logins.insert(first, now() + 120_000)
    await stores.logins.insert(second, now() + 120_000)
    t.equal(await stores.logins.countLive(), base + 2)
    await stores.logins.compareAndSet(
      { ...first, status: 'scanned', version: 2, expiresAt: now() + 90_000 },
      1,
      now() + 120_000,
    )
    t.equal(await stores.logins.countLive(), base + 2, 'a login that moves on but has not ended still counts')
    await stores.logins.compareAndSet(
      { ...second, status: 'cancelled', version: 2, endedAt: now() },
      1,
      now() + 120_000,
    )
    t.equal(await stores.logins.countLive(), base + 1, 'an ended login no longer counts')
    t.equal(await stores.logins.insert(first, now() + 120_000), false)
    t.equal(await stores.logins.countLive(), base + 1, 'a refused insert counts nothing')
  })
}
