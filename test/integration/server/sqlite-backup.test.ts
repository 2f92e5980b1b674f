import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startInstance } from '../../helpers/instances.js'
import { freshDataDir } from '../../helpers/data-dir.js'

/** `qr-login backup` as a person runs it (the bin npx finds). */
async function backup(args: string[]) {
  const child = spawn(process.execPath, ['apps/cli/bin/qr-login.mjs', 'backup', ...args], { stdio: 'pipe' })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const [code] = (await once(child, 'exit')) as [number]
  return { code, output }
}

const post = (base: string, path: string, token?: string, body?: object) =>
  fetch(base + path, {
    method: 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  }).then(async (response) => ({ status: response.status, json: await response.json() }))

t.test('a backup taken while the service writes restores to a service with everything it held then', async (t) => {
  const dataDir = freshDataDir(t)
  const service = await startInstance(t, 'service', { DATA_DIR: dataDir })
  const phone = (await post(service.base, '/api/mobile/session', undefined, { username: 'alice', password: 'demo' }))
    .json
  const login = (await post(service.base, '/api/qr')).json
  t.equal((await post(service.base, `/api/qr/${login.id}/scan`, phone.token)).status, 200)

  // Logins keep being made while the copy is taken.
  let writing = true
  const traffic = (async () => {
    let made = 0
    while (writing) made += (await post(service.base, '/api/qr')).status === 201 ? 1 : 0
    return made
  })()
  const target = join(freshDataDir(t), 'copy.db')
  const taken = await backup([target, '--data-dir', dataDir])
  writing = false
  t.ok((await traffic) > 0, 'the service kept answering writes during the backup')
  t.equal(taken.code, 0, taken.output)
  t.match(taken.output, /Backed up .*qr-login\.db to .*copy\.db \(schema \d+; rows: .*logins \d+/)
  t.match(taken.output, /To restore: stop the service/)

  const again = await backup([target, '--data-dir', dataDir])
  t.equal(again.code, 1, 'an existing file is never overwritten')
  t.match(again.output, /exists already/)
  const nowhere = await backup([join(dataDir, 'x.db'), '--data-dir', join(dataDir, 'missing')])
  t.equal(nowhere.code, 1)
  t.match(nowhere.output, /does not exist: is DATA_DIR right\?/)

  // Restored as the README says: the copy in place of qr-login.db in a DATA_DIR, and the service started.
  const restoredDir = freshDataDir(t)
  copyFileSync(target, join(restoredDir, 'qr-login.db'))
  t.notOk(existsSync(join(restoredDir, 'qr-login.db-wal')))
  const restored = await startInstance(t, 'restored', { DATA_DIR: restoredDir })
  const me = await fetch(`${restored.base}/api/mobile/me`, { headers: { authorization: `Bearer ${phone.token}` } })
  t.equal(me.status, 200, 'the phone session taken before the backup is there')
  const confirmed = await post(restored.base, `/api/qr/${login.id}/confirm`, phone.token)
  t.equal(confirmed.json.status, 'confirmed', 'and the login it had scanned confirms')
})
