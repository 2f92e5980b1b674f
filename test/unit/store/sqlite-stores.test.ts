import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import t, { type Test } from 'tap'
import { ManualClock } from '@qr-login/core'
import {
  SqliteDatabase,
  SqliteHistoryStore,
  SqliteKeyStore,
  SqliteLoginStore,
  SqliteOidcArtefactStore,
  SqlitePasskeyStore,
  SqliteSessionStore,
  applicationId,
  schemaMigrations,
  sqliteBackend,
} from '@qr-login/sqlite'
import { storeContract } from '../../helpers/contracts/store-contract.js'
import { keyStoreContract } from '../../helpers/contracts/key-store-contract.js'
import { passkeyStoreContract } from '../../helpers/contracts/passkey-store-contract.js'
import { oidcStoreContract } from '../../helpers/contracts/oidc-store-contract.js'
import { coreFixture, pc, pendingRecord } from '../../helpers/core.js'

const freshPath = () => join(mkdtempSync(join(tmpdir(), 'qr-sqlite-')), 'qr-login.db')

/** A database file of the test's own, closed when it ends. */
function database(t: Test, clock: ManualClock, path = freshPath()) {
  const opened = new SqliteDatabase(path, clock)
  t.teardown(() => opened.close())
  return opened
}

// The same suites as the memory and Redis stores, each on a database file of its own.
t.test('login, session and history stores', async (t) => {
  storeContract(t, async () => {
    const clock = new ManualClock()
    const backend = sqliteBackend({ path: freshPath(), clock })
    t.teardown(() => backend.close())
    return { stores: backend, ping: backend.ping, now: () => clock.now(), letTimePass: (ms) => clock.advance(ms) }
  })
})

t.test('key store', async (t) => {
  keyStoreContract(t, async () => {
    const path = freshPath()
    const clock = new ManualClock()
    return {
      keys: new SqliteKeyStore(database(t, clock, path)),
      reopen: async () => new SqliteKeyStore(database(t, clock, path)),
    }
  })
})

t.test('passkey store', async (t) => {
  passkeyStoreContract(t, async () => {
    const clock = new ManualClock()
    const store = new SqlitePasskeyStore(database(t, clock), clock)
    return { store, now: () => clock.now(), letTimePass: (ms) => clock.advance(ms) }
  })
})

t.test('OIDC artefact store', async (t) => {
  oidcStoreContract(t, async () => {
    const clock = new ManualClock(Date.now())
    const store = new SqliteOidcArtefactStore(database(t, clock), clock)
    return { store, letTimePass: (ms) => clock.advance(ms) }
  })
})

t.test('what a write returned is in the file: another connection, opened after, reads it', async (t) => {
  const path = freshPath()
  const clock = new ManualClock()
  const store = new SqliteLoginStore(database(t, clock, path), clock)
  const login = pendingRecord('sqlitewrite0000000001', clock.now() + 60_000, clock.now())
  t.equal(await store.insert(login, clock.now() + 120_000), true)
  await new SqliteSessionStore(database(t, clock, path), clock).putSession(
    { tokenHash: 'h1', kind: 'pc', username: 'alice', createdAt: clock.now(), expiresAt: clock.now() + 1000 },
    clock.now() + 1000,
  )
  const other = database(t, clock, path)
  t.same(await new SqliteLoginStore(other, clock).get(login.id), login)
  t.equal((await new SqliteSessionStore(other, clock).getSession('h1'))?.username, 'alice')
  const raw = new DatabaseSync(path)
  t.teardown(() => raw.close())
  t.equal((raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal')
})

t.test('one sweep deletes what outlived its time through the keep_until indexes; close() stops it', async (t) => {
  const clock = new ManualClock()
  const opened = new SqliteDatabase(freshPath(), clock)
  const store = new SqliteLoginStore(opened, clock)
  const passkeys = new SqlitePasskeyStore(opened, clock)
  await store.insert(pendingRecord('sqlitesweep0000000001', clock.now() + 1000), clock.now() + 1000)
  await store.insert(pendingRecord('sqlitesweep0000000002', clock.now() + 1000), clock.now() + 120_000)
  await passkeys.putChallenge('confirm:x', 'c', clock.now() + 1000)
  const rows = (table: string) => (opened.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
  t.equal(rows('logins'), 2)
  t.equal(clock.pendingTimers, 1, 'one sweep timer, for the whole database')
  await clock.advance(60_000)
  t.equal(rows('logins'), 1, 'the login past its time is gone after a sweep')
  t.equal(rows('challenges'), 0, 'and the challenge')
  t.equal(clock.pendingTimers, 1, 'the next sweep is scheduled')
  for (const table of ['logins', 'user_codes', 'sessions', 'history', 'challenges', 'oidc_artefacts']) {
    const plan = opened.db
      .prepare(`EXPLAIN QUERY PLAN DELETE FROM ${table} WHERE keep_until <= ?`)
      .all(0)
      .map((row) => String((row as { detail: string }).detail))
    t.match(plan.join(' '), new RegExp(`USING (COVERING )?INDEX ${table}_keep_until`), `${table}: indexed, not a scan`)
  }
  opened.close()
  t.equal(clock.pendingTimers, 0)
})

t.test('migrations: a new file gets every one; a file of the first schema is brought up to date', async (t) => {
  const clock = new ManualClock()
  const fresh = database(t, clock)
  const version = (db: DatabaseSync) =>
    (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
  t.equal(version(fresh.db), schemaMigrations.length)

  const old = freshPath()
  const first = new DatabaseSync(old)
  first.exec(schemaMigrations[0])
  first.exec(`PRAGMA application_id = ${applicationId}`)
  first.exec('PRAGMA user_version = 1')
  first
    .prepare('INSERT INTO logins (id, version, record, live, keep_until) VALUES (?, 1, ?, 1, ?)')
    .run('sqliteold000000000001', JSON.stringify(pendingRecord('sqliteold000000000001', 1)), clock.now() + 60_000)
  first.close()
  const upgraded = database(t, clock, old)
  t.equal(version(upgraded.db), schemaMigrations.length, 'migrated on open')
  t.equal((await new SqliteLoginStore(upgraded, clock).get('sqliteold000000000001'))?.id, 'sqliteold000000000001')
  t.equal(
    await new SqlitePasskeyStore(upgraded, clock).addPasskey('alice', passkeyFixture(), 10),
    'added',
    'new tables',
  )
})

t.test(
  'a file that is not this service’s database, or newer than this build, is refused, naming the path',
  async (t) => {
    const clock = new ManualClock()
    const foreign = freshPath()
    const other = new DatabaseSync(foreign)
    other.exec('CREATE TABLE notes (body TEXT)')
    other.close()
    t.throws(() => new SqliteDatabase(foreign, clock), {
      name: 'DatabaseRefused',
      message: new RegExp(`${foreign} is not this service's database`),
    })

    const newer = freshPath()
    new SqliteDatabase(newer, clock).close()
    const bump = new DatabaseSync(newer)
    bump.exec('PRAGMA user_version = 99')
    bump.close()
    t.throws(() => new SqliteDatabase(newer, clock), {
      name: 'DatabaseRefused',
      message: new RegExp(`${newer} has schema version 99, newer than this build's ${schemaMigrations.length}`),
    })

    const garbage = freshPath()
    writeFileSync(garbage, 'not a database at all, only text long enough to fill its header. '.repeat(20))
    t.throws(() => new SqliteDatabase(garbage, clock), { name: 'DatabaseRefused', message: new RegExp(garbage) })
    t.equal(clock.pendingTimers, 0, 'a refused file leaves no sweep behind')
  },
)

t.test('a database that takes no writes: STORE_UNAVAILABLE, nothing half-written, reads still answer', async (t) => {
  const clock = new ManualClock()
  const opened = database(t, clock)
  const store = new SqliteLoginStore(opened, clock)
  const history = new SqliteHistoryStore(opened, clock)
  const passkeys = new SqlitePasskeyStore(opened, clock)
  // What SQLite says of a disk turned read-only: every write refused.
  opened.db.exec('PRAGMA query_only = ON')
  await t.rejects(store.insert(pendingRecord('sqlitereadonly0000001', clock.now() + 1000), clock.now() + 1000), {
    name: 'LoginError',
    code: 'STORE_UNAVAILABLE',
  })
  await t.rejects(history.addHistory('alice', historyFixture(clock), clock.now() + 1000), {
    code: 'STORE_UNAVAILABLE',
  })
  await t.rejects(passkeys.addPasskey('alice', passkeyFixture(), 10), { code: 'STORE_UNAVAILABLE' })
  t.same(await history.listHistory('alice'), [], 'nothing of the failed transactions stands')
  t.same(await passkeys.listPasskeys('alice'), [])
  t.doesNotThrow(() => opened.ping(), 'reads still answer')
  opened.db.exec('PRAGMA query_only = OFF')
  t.equal(
    await store.insert(pendingRecord('sqlitereadonly0000001', clock.now() + 1000), clock.now() + 1000),
    true,
    'writes resume by themselves once the disk takes them',
  )
})

function passkeyFixture() {
  return {
    id: 'c3FsaXRl',
    publicKey: 'a2V5',
    counter: 0,
    rpId: 'localhost',
    deviceType: 'singleDevice' as const,
    backedUp: false,
    label: 'Chrome on Android',
    createdAt: 1,
  }
}

function historyFixture(clock: ManualClock) {
  return {
    loginId: 'sqlitereadonly0000002',
    outcome: 'approved' as const,
    at: clock.now(),
    pc: { ip: '192.0.2.1', browser: 'Chrome 131', os: 'Windows 10' },
  } as never
}

t.test('writes of one turn share a commit; one that fails leaves the others standing', async (t) => {
  const clock = new ManualClock()
  const path = freshPath()
  const opened = database(t, clock, path)
  const store = new SqliteLoginStore(opened, clock)
  const sessions = new SqliteSessionStore(opened, clock)
  const before = opened.writeStats
  const inserted = await Promise.all(
    Array.from({ length: 40 }, (_, index) =>
      store.insert(pendingRecord(`sqlitegroup${String(index).padStart(10, '0')}`, 60_000), 120_000),
    ),
  )
  t.same(inserted, Array(40).fill(true))
  const after = opened.writeStats
  t.equal(after.writes - before.writes, 40)
  t.equal(after.commits - before.commits, 1, 'forty writes asked for in one turn: one commit')

  // A write that throws in the middle of a group: its statements are undone, the others' are not.
  const failing = opened.write(() => {
    opened.db.prepare("INSERT INTO history (username, entry, keep_until) VALUES ('alice', '{}', 1)").run()
    throw new Error('refused half-way')
  })
  const standing = sessions.putSession(
    { tokenHash: 'grouped', kind: 'pc', username: 'alice', createdAt: 0, expiresAt: 1 },
    120_000,
  )
  await t.rejects(failing, { name: 'LoginError', code: 'STORE_UNAVAILABLE', message: /refused half-way/ })
  await t.resolves(standing)
  const other = new DatabaseSync(path)
  t.teardown(() => other.close())
  t.equal((other.prepare('SELECT count(*) AS n FROM history').get() as { n: number }).n, 0, 'nothing of it stands')
  t.equal(
    (other.prepare("SELECT count(*) AS n FROM sessions WHERE token_hash = 'grouped'").get() as { n: number }).n,
    1,
    'the other write is committed: another connection reads it once its promise resolved',
  )
  t.equal((other.prepare('SELECT count(*) AS n FROM logins').get() as { n: number }).n, 40)
})

t.test('closing the database commits the writes already asked for', async (t) => {
  const clock = new ManualClock()
  const path = freshPath()
  const opened = new SqliteDatabase(path, clock)
  const written = new SqliteSessionStore(opened, clock).putSession(
    { tokenHash: 'at-close', kind: 'phone', username: 'bob', createdAt: 0, expiresAt: 1 },
    clock.now() + 120_000,
  )
  opened.close()
  await t.resolves(written)
  const reopened = database(t, clock, path)
  t.equal((await new SqliteSessionStore(reopened, clock).getSession('at-close'))?.username, 'bob')
})

t.test('a scan writes its transition and releases its typed code in one commit, one fsync', async (t) => {
  const clock = new ManualClock()
  const opened = database(t, clock)
  const { service, alice } = coreFixture({ clock, store: new SqliteLoginStore(opened, clock) })
  t.teardown(() => service.close())
  const login = await service.createLogin(pc)
  t.equal(await service.resolveUserCode(login.userCode.replace('-', '')), login.status.id, 'the code finds it')
  const before = opened.writeStats
  await service.scan(login.status.id, alice)
  const after = opened.writeStats
  t.equal(after.writes - before.writes, 2, 'the transition and the release')
  t.equal(after.commits - before.commits, 1, 'asked for in one turn: one commit')
  await t.rejects(service.resolveUserCode(login.userCode.replace('-', '')), { code: 'CODE_NOT_FOUND' })
})
