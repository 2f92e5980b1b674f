import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { DatabaseSync } from 'node:sqlite'
import { systemClock } from '@qr-login/core'
import { SqliteDatabase, schemaMigrations } from '@qr-login/sqlite'
import { loadConfig } from '../../../apps/server/src/config.js'
import { bearer, createLogin, phoneAction, phoneToken, testApp } from '../../helpers/server.js'
import { runUntilExit, startInstance, type Instance } from '../../helpers/instances.js'

/** One HTTP call as a client makes it: JSON in and out, a bearer token or a cookie, and any sid it is given. */
async function call(
  base: string,
  method: string,
  path: string,
  auth: { token?: string; cookie?: string } = {},
  body?: object,
) {
  const response = await fetch(base + path, {
    method,
    headers: {
      'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36',
      ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
      ...(auth.cookie ? { cookie: auth.cookie } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  })
  const sid = response.headers.getSetCookie().find((each) => each.startsWith('sid='))
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : undefined, sid: sid?.split(';')[0] }
}

t.test(
  'STORE=sqlite: the service SIGKILLed and started again on the same DATA_DIR has lost nothing it answered',
  async (t) => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'qr-data-')), 'data')
    const env = { STORE: 'sqlite', DATA_DIR: dataDir }
    const first: Instance = await startInstance(t, 'first', env)
    const base = first.base

    const { json: phone } = await call(base, 'POST', '/api/mobile/session', {}, { username: 'alice', password: 'demo' })
    const signedIn = (await call(base, 'POST', '/api/qr')).json
    await call(base, 'POST', `/api/qr/${signedIn.id}/scan`, { token: phone.token })
    t.equal((await call(base, 'POST', `/api/qr/${signedIn.id}/confirm`, { token: phone.token })).status, 200)
    const exchanged = await call(base, 'POST', `/api/qr/${signedIn.id}/exchange`, { token: signedIn.watchToken })
    t.equal(exchanged.status, 200)
    const scanned = (await call(base, 'POST', '/api/qr')).json
    t.equal((await call(base, 'POST', `/api/qr/${scanned.id}/scan`, { token: phone.token })).status, 200)
    const pending = (await call(base, 'POST', '/api/qr')).json
    const confirms = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const login = (await call(base, 'POST', '/api/qr')).json
        await call(base, 'POST', `/api/qr/${login.id}/scan`, { token: phone.token })
        return { login, confirm: await call(base, 'POST', `/api/qr/${login.id}/confirm`, { token: phone.token }) }
      }),
    )
    t.ok(
      confirms.every(({ confirm }) => confirm.status === 200),
      'eight confirms acknowledged',
    )

    first.signal('SIGKILL')
    t.equal(await first.exited, null, 'killed, not stopped')
    const second = await startInstance(t, 'second', env)
    const again = second.base

    const me = await call(again, 'GET', '/api/me', { cookie: exchanged.sid })
    t.equal(me.status, 200, 'the PC is still signed in')
    t.equal(me.json.user.username, 'alice')
    t.equal((await call(again, 'GET', '/api/mobile/me', { token: phone.token })).status, 200, 'so is the phone')
    const history = await call(again, 'GET', '/api/mobile/history', { token: phone.token })
    t.ok(
      history.json.entries.some((entry: { outcome: string }) => entry.outcome === 'approved'),
      'its history is there',
    )
    const computers = await call(again, 'GET', '/api/mobile/sessions', { token: phone.token })
    t.equal(computers.json.sessions.length, 1, 'and the computer it signed in')
    t.equal((await call(again, 'GET', `/api/qr/${scanned.id}`, { token: scanned.watchToken })).json.status, 'scanned')
    t.equal((await call(again, 'GET', `/api/qr/${pending.id}`, { token: pending.watchToken })).json.status, 'pending')
    const code = await call(again, 'POST', '/api/mobile/code', { token: phone.token }, { code: pending.userCode })
    t.equal(code.json.id, pending.id, 'its user code still resolves')
    for (const { login } of confirms) {
      const read = await call(again, 'GET', `/api/qr/${login.id}`, { token: login.watchToken })
      if (read.json?.status !== 'confirmed') t.fail(`${login.id} was acknowledged confirmed, reads ${read.status}`)
    }
    t.equal((await call(again, 'POST', `/api/qr/${scanned.id}/confirm`, { token: phone.token })).status, 200)
    t.equal((await call(again, 'POST', `/api/qr/${scanned.id}/exchange`, { token: scanned.watchToken })).status, 200)
  },
)

t.test('the default store refuses WORKERS above 1, as the process says at start', async (t) => {
  t.throws(() => loadConfig({ WORKERS: '2' }), /WORKERS=2 needs STORE=redis: the SQLite store serves one process/)
  const { code, output } = await runUntilExit({ WORKERS: '2' })
  t.equal(code, 1, output)
  t.match(output, /Configuration error: WORKERS=2 needs STORE=redis: the SQLite store serves one process/)
})

t.test('a DATA_DIR the service cannot use stops the start within 30 s, naming the path', async (t) => {
  const cases: { what: string; dataDir: () => string; says: (dir: string) => RegExp }[] = [
    {
      what: 'a path that is a file',
      dataDir: () => {
        const file = join(mkdtempSync(join(tmpdir(), 'qr-data-')), 'a-file')
        writeFileSync(file, 'not a directory')
        return file
      },
      says: (dir) => new RegExp(`Cannot start: DATA_DIR ${dir} cannot hold the database`),
    },
    {
      // Root writes wherever a mode says no; /sys takes no new directory from anyone (EPERM).
      what: 'a directory that cannot be made or written',
      dataDir: () => '/sys/qr-login-data',
      says: (dir) => new RegExp(`Cannot start: DATA_DIR ${dir} cannot hold the database: ${dir}/qr-login.db: EPERM`),
    },
    {
      what: "a qr-login.db that is not this service's database",
      dataDir: () => {
        const dir = mkdtempSync(join(tmpdir(), 'qr-data-'))
        const other = new DatabaseSync(join(dir, 'qr-login.db'))
        other.exec('CREATE TABLE notes (body TEXT)')
        other.close()
        return dir
      },
      says: (dir) => new RegExp(`${dir}/qr-login.db is not this service's database`),
    },
    {
      what: 'a qr-login.db made by a newer build',
      dataDir: () => {
        const dir = mkdtempSync(join(tmpdir(), 'qr-data-'))
        new SqliteDatabase(join(dir, 'qr-login.db'), systemClock).close()
        const newer = new DatabaseSync(join(dir, 'qr-login.db'))
        newer.exec(`PRAGMA user_version = ${schemaMigrations.length + 1}`)
        newer.close()
        return dir
      },
      says: (dir) =>
        new RegExp(`${dir}/qr-login.db has schema version ${schemaMigrations.length + 1}, newer than this build's`),
    },
  ]
  for (const { what, dataDir, says } of cases) {
    const dir = dataDir()
    const began = Date.now()
    const { code, output } = await runUntilExit({ DATA_DIR: dir })
    t.equal(code, 1, `${what}: exit 1`)
    t.match(output, says(dir), `${what}: the message names the path`)
    t.ok(Date.now() - began < 30_000, `${what}: within 30 s`)
  }
})

t.test('a disk that stops taking writes: 503 STORE_UNAVAILABLE, nothing half-written, service resumes', async (t) => {
  const app = await testApp(t)
  const database = (app.backend as unknown as { database: SqliteDatabase }).database
  const alice = await phoneToken(app)
  const before = await createLogin(app)
  await phoneAction(app, 'scan', before.id, alice)
  // What SQLite says of a disk that turned read-only: every write refused, reads answered.
  database.db.exec('PRAGMA query_only = ON')
  const refused = await app.inject({ method: 'POST', url: '/api/qr' })
  t.equal(refused.statusCode, 503)
  t.equal(refused.json().code, 'STORE_UNAVAILABLE')
  const confirm = await phoneAction(app, 'confirm', before.id, alice)
  t.equal(confirm.statusCode, 503, 'a confirm is refused, not half-made')
  t.equal(confirm.json().code, 'STORE_UNAVAILABLE')
  const read = await app.inject({ url: `/api/qr/${before.id}`, headers: bearer(before.watchToken) })
  t.equal(read.json().status, 'scanned', 'the login is as it was')
  database.db.exec('PRAGMA query_only = OFF')
  t.equal((await phoneAction(app, 'confirm', before.id, alice)).json().status, 'confirmed', 'and service resumes')
  t.equal((await app.inject({ method: 'POST', url: '/api/qr' })).statusCode, 201)
})
