import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashPassword, verifyPassword } from '@qr-login/core'
import { loadConfig } from '../../../apps/server/src/config.js'
import { serverBundle } from '../../helpers/instances.js'
import { testApp } from '../../helpers/server.js'

/** `npx qr-login hash-password`, with the password on standard input. */
async function hashFromCli(input: string) {
  const child = spawn(process.execPath, ['apps/cli/bin/qr-login.mjs', 'hash-password'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdin.end(input)
  const [code] = (await once(child, 'exit')) as [number]
  return { code, stdout, stderr }
}

const signIn = (app: Awaited<ReturnType<typeof testApp>>, username: string, password: string) =>
  app.inject({ method: 'POST', url: '/api/mobile/session', payload: { username, password } })

t.test('USERS_FILE with a hash from the CLI signs in; a wrong password or an unknown name fails alike', async (t) => {
  const hashed = await hashFromCli('correct horse battery staple\n')
  t.equal(hashed.code, 0, hashed.stderr)
  const passwordHash = hashed.stdout.trim()
  t.match(passwordHash, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
  t.ok(await verifyPassword('correct horse battery staple', passwordHash), 'the trailing newline is not the password')

  const file = join(mkdtempSync(join(tmpdir(), 'qr-users-')), 'users.json')
  writeFileSync(
    file,
    JSON.stringify([
      { username: 'dana', displayName: 'Dana Scully', passwordHash },
      {
        username: 'fox',
        displayName: 'Fox',
        avatarUrl: 'https://example.com/fox.png',
        passwordHash: await hashPassword('x'),
      },
    ]),
  )
  const app = await testApp(t, { USERS_FILE: file })
  const signedIn = await signIn(app, 'dana', 'correct horse battery staple')
  t.equal(signedIn.statusCode, 200)
  t.same(signedIn.json().user, { username: 'dana', displayName: 'Dana Scully', avatarUrl: '/avatars/dana.svg' })
  const me = await app.inject({
    method: 'GET',
    url: '/api/mobile/me',
    headers: { authorization: `Bearer ${signedIn.json().token}` },
  })
  t.equal(me.json().user.displayName, 'Dana Scully')

  for (const [username, password] of [
    ['dana', 'correct horse battery stapl'],
    ['dana', ''],
    ['alice', 'demo'],
    ['nobody', 'correct horse battery staple'],
  ]) {
    const refused = await signIn(app, username, password)
    t.equal(refused.statusCode, 401, `${username}/${password}`)
    t.equal(refused.json().code, 'BAD_CREDENTIALS')
  }
  t.same(
    (await app.inject({ method: 'GET', url: '/api/demo-users' })).json(),
    [],
    'a real directory offers no quick picks',
  )
  t.equal((await signIn(app, 'fox', 'x')).json().user.avatarUrl, 'https://example.com/fox.png')
})

t.test('hash-password: each hash is salted; no password on standard input is a usage error', async (t) => {
  const [one, two] = await Promise.all([hashFromCli('same'), hashFromCli('same')])
  t.not(one.stdout, two.stdout)
  const empty = await hashFromCli('')
  t.equal(empty.code, 2)
  t.match(empty.stderr, /standard input held no password/)
})

t.test('a malformed USERS_FILE stops the service at start, naming the variable and the entry', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qr-users-'))
  const hash = await hashPassword('x')
  const cases: [string, string, RegExp][] = [
    ['not json', '[{', /USERS_FILE ".*": not JSON/],
    ['empty', '[]', /non-empty JSON array/],
    [
      'bad name',
      JSON.stringify([{ username: 'Has Space', displayName: 'x', passwordHash: hash }]),
      /entry 0: username/,
    ],
    [
      'twice',
      JSON.stringify([
        { username: 'a', displayName: 'A', passwordHash: hash },
        { username: 'a', displayName: 'A', passwordHash: hash },
      ]),
      /entry 1: username "a" is listed twice/,
    ],
    [
      'plain password',
      JSON.stringify([{ username: 'a', displayName: 'A', passwordHash: 'hunter2' }]),
      /entry 0: passwordHash must be what `npx qr-login hash-password` prints/,
    ],
    ['no name', JSON.stringify([{ username: 'a', passwordHash: hash }]), /entry 0: displayName/],
  ]
  for (const [label, content, message] of cases) {
    const file = join(dir, `${label.replace(/ /g, '-')}.json`)
    writeFileSync(file, content)
    t.throws(() => loadConfig({ USERS_FILE: file }), message, label)
  }
  t.throws(() => loadConfig({ USERS_FILE: join(dir, 'absent.json') }), /USERS_FILE: cannot read/)

  const child = spawn(process.execPath, [serverBundle], {
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', USERS_FILE: join(dir, 'empty.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const [code] = (await once(child, 'exit')) as [number]
  t.equal(code, 1)
  t.match(stderr, /Configuration error: USERS_FILE .*non-empty JSON array/)
})
