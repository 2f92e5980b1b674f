import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../../../apps/server/src/config.js'
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

t.test(
  'STORE=sqlite refuses WORKERS above 1, and a DATA_DIR it cannot use stops the start naming the path',
  async (t) => {
    t.throws(
      () => loadConfig({ STORE: 'sqlite', WORKERS: '2' }),
      /WORKERS=2 needs STORE=redis: the SQLite store serves one process/,
    )
    const file = join(mkdtempSync(join(tmpdir(), 'qr-data-')), 'a-file')
    writeFileSync(file, 'not a directory')
    const { code, output } = await runUntilExit({ STORE: 'sqlite', DATA_DIR: file })
    t.equal(code, 1, output)
    t.match(output, new RegExp(`Cannot start: DATA_DIR ${file} cannot hold the database`))
  },
)
