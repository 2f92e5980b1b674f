import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import t from 'tap'
import { ManualClock } from '@qr-login/core'
import { SqliteLoginStore, openDatabase } from '@qr-login/sqlite'
import { storeContract } from '../../helpers/contracts/store-contract.js'
import { pendingRecord } from '../../helpers/core.js'

const freshPath = () => join(mkdtempSync(join(tmpdir(), 'qr-sqlite-')), 'qr-login.db')

// The same suite as the memory and Redis stores, on a database file of its own.
storeContract(t, async () => {
  const clock = new ManualClock()
  const db = openDatabase(freshPath())
  const store = new SqliteLoginStore(db, clock)
  t.teardown(async () => {
    await store.close()
    db.close()
  })
  return { store, now: () => clock.now(), letTimePass: (ms) => clock.advance(ms) }
})

t.test('what a write returned is in the file: another connection, opened after, reads it', async (t) => {
  const path = freshPath()
  const clock = new ManualClock()
  const db = openDatabase(path)
  const store = new SqliteLoginStore(db, clock)
  t.teardown(async () => {
    await store.close()
    db.close()
  })
  const login = pendingRecord('sqlitewrite0000000001', clock.now() + 60_000, clock.now())
  t.equal(await store.insert(login, clock.now() + 120_000), true)
  await store.putSession(
    { tokenHash: 'h1', kind: 'pc', username: 'alice', createdAt: clock.now(), expiresAt: clock.now() + 1000 },
    clock.now() + 1000,
  )
  const other = new SqliteLoginStore(openDatabase(path), clock)
  t.teardown(() => other.close())
  t.same(await other.get(login.id), login)
  t.equal((await other.getSession('h1'))?.username, 'alice')
  const mode = new DatabaseSync(path).prepare('PRAGMA journal_mode').get() as { journal_mode: string }
  t.equal(mode.journal_mode, 'wal')
})

t.test('the sweep deletes what outlived its time through the keep_until indexes, and close() stops it', async (t) => {
  const clock = new ManualClock()
  const db = openDatabase(freshPath())
  const store = new SqliteLoginStore(db, clock)
  await store.insert(pendingRecord('sqlitesweep0000000001', clock.now() + 1000), clock.now() + 1000)
  await store.insert(pendingRecord('sqlitesweep0000000002', clock.now() + 1000), clock.now() + 120_000)
  const rows = () => (db.prepare('SELECT count(*) AS n FROM logins').get() as { n: number }).n
  t.equal(rows(), 2)
  t.equal(clock.pendingTimers, 1, 'one sweep timer')
  await clock.advance(60_000)
  t.equal(rows(), 1, 'the row past its time is gone after a sweep')
  t.equal(clock.pendingTimers, 1, 'and the next sweep is scheduled')
  const plan = db
    .prepare('EXPLAIN QUERY PLAN DELETE FROM sessions WHERE keep_until <= ?')
    .all(0)
    .map((row) => String((row as { detail: string }).detail))
  t.match(plan.join(' '), /USING (COVERING )?INDEX sessions_keep_until/, 'indexed, not a scan')
  await store.close()
  t.equal(clock.pendingTimers, 0)
  db.close()
})

t.test('a database that is not this service’s, or newer than this build, is refused, naming the path', async (t) => {
  const foreign = freshPath()
  const other = new DatabaseSync(foreign)
  other.exec('CREATE TABLE notes (body TEXT)')
  other.close()
  t.throws(() => openDatabase(foreign), {
    name: 'DatabaseRefused',
    message: new RegExp(`${foreign} is not this service's database`),
  })

  const newer = freshPath()
  openDatabase(newer).close()
  const bump = new DatabaseSync(newer)
  bump.exec('PRAGMA user_version = 99')
  bump.close()
  t.throws(() => openDatabase(newer), {
    name: 'DatabaseRefused',
    message: new RegExp(`${newer} has schema version 99, newer than this build's 1`),
  })

  const garbage = freshPath()
  writeFileSync(garbage, 'not a database at all, just text that is long enough to have a header'.repeat(20))
  t.throws(() => openDatabase(garbage), { name: 'DatabaseRefused', message: new RegExp(garbage) })

  const reopened = freshPath()
  openDatabase(reopened).close()
  t.doesNotThrow(() => openDatabase(reopened).close(), 'its own database opens again, migrations not re-run')
})

t.test('a database that cannot be written: STORE_UNAVAILABLE, and nothing half-written', async (t) => {
  const path = freshPath()
  const clock = new ManualClock()
  openDatabase(path).close()
  const readOnly = new DatabaseSync(path, { readOnly: true })
  const store = new SqliteLoginStore(readOnly, clock)
  t.teardown(async () => {
    await store.close()
    readOnly.close()
  })
  await t.rejects(store.insert(pendingRecord('sqlitereadonly0000001', clock.now() + 1000), clock.now() + 1000), {
    name: 'LoginError',
    code: 'STORE_UNAVAILABLE',
  })
  await t.rejects(store.addHistory('alice', { at: clock.now(), outcome: 'approved' } as never, clock.now() + 1000), {
    code: 'STORE_UNAVAILABLE',
  })
  t.same(await store.listHistory('alice'), [], 'nothing of the failed transaction stands')
  t.equal(await store.get('sqlitereadonly0000001'), undefined)
  await t.resolves(store.ping(), 'reads still answer')
})
