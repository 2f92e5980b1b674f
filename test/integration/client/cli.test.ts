import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { ManualClock } from '@qr-login/core'
import { publicApp } from '../../helpers/server.js'

const bin = 'apps/cli/bin/qr-login.mjs'

function run(args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const lineWaiters: { pattern: RegExp; resolve: (line: string) => void }[] = []
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    for (const waiter of [...lineWaiters]) {
      const line = stdout.split('\n').find((l) => waiter.pattern.test(l))
      if (line) {
        lineWaiters.splice(lineWaiters.indexOf(waiter), 1)
        waiter.resolve(line)
      }
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exit = once(child, 'exit').then(([code]) => code as number)
  return {
    exit,
    output: () => ({ stdout, stderr }),
    line: (pattern: RegExp) => new Promise<string>((resolve) => lineWaiters.push({ pattern, resolve })),
  }
}

for (const transport of ['auto', 'sse', 'long-poll', 'socket.io']) {
  t.test(`CLI login (${transport}) and CLI phone complete a sign-in together`, async (t) => {
    const { base } = await publicApp(t)
    const pc = run(['login', '--url', base, '--transport', transport, '--json'])
    const created = JSON.parse(await pc.line(/"type":"created"/))
    t.match(created.scanUrl, new RegExp(`^${base}/m/`))
    await pc.line(/"status":"pending"/)

    const phone = run(['phone', created.scanUrl, '--user', 'bob', '--confirm'])
    t.equal(await phone.exit, 0, 'phone exits 0')
    t.match(
      phone.output().stdout,
      /Sign-in request from qr-login-cli 0 on Unknown OS, 127\.0\.0\.1, QR made \d+ s ago\./,
    )
    t.match(phone.output().stdout, /Confirmed as Bob\./)

    t.equal(await pc.exit, 0, 'login exits 0 once signed in')
    const lines = pc
      .output()
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    t.same(
      lines.filter((l) => l.type === 'status').map((l) => l.status),
      ['pending', 'scanned', 'confirmed'],
    )
    t.same(lines.at(-1), {
      type: 'signed-in',
      user: { username: 'bob', displayName: 'Bob', avatarUrl: '/avatars/bob.svg' },
    })
  })
}

t.test('CLI phone --code: finds the login by the code shown under the QR, in any case and spacing', async (t) => {
  const { base } = await publicApp(t)
  const pc = run(['login', '--url', base, '--transport', 'sse', '--json'])
  const created = JSON.parse(await pc.line(/"type":"created"/))
  t.match(created.userCode, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
  await pc.line(/"status":"pending"/)
  const typed = created.userCode.toLowerCase().replace('-', ' ')
  const phone = run(['phone', '--code', typed, '--url', base, '--user', 'carol', '--confirm'])
  t.equal(await phone.exit, 0)
  t.match(phone.output().stdout, /Confirmed as Carol\./)
  t.equal(await pc.exit, 0)

  const unknown = run(['phone', '--code', 'ZZZZ-ZZZZ', '--url', base, '--user', 'carol', '--confirm'])
  t.equal(await unknown.exit, 1)
  t.match(unknown.output().stderr, /Error CODE_NOT_FOUND \(404\)/)
  const both = run(['phone', created.scanUrl, '--code', 'ZZZZ-ZZZZ', '--user', 'carol', '--confirm'])
  t.equal(await both.exit, 2, 'a scan URL and a code together is a usage error')
})

t.test('human output draws the QR and describes each state; cancel exits 3', async (t) => {
  const { base } = await publicApp(t)
  const pc = run(['login', '--url', base])
  const scanLine = await pc.line(/^Scan with your phone: /)
  await pc.line(/Waiting for a phone/)
  t.match(pc.output().stdout, /[█▀▄]/, 'a QR drawn with block characters')
  const scanUrl = scanLine.replace('Scan with your phone: ', '')
  const phone = run(['phone', scanUrl, '--user', 'alice', '--cancel'])
  t.equal(await phone.exit, 0)
  t.equal(await pc.exit, 3)
  t.match(pc.output().stdout, /Scanned by Alice — confirm on your phone\.\nCancelled on the phone\./)
})

t.test('an expired login exits 4; the phone then gets QR_EXPIRED', async (t) => {
  const clock = new ManualClock(Date.now())
  const { base } = await publicApp(t, { QR_TTL_SECONDS: '60' }, { clock })
  const pc = run(['login', '--url', base, '--json', '--transport', 'ws'])
  const created = JSON.parse(await pc.line(/"type":"created"/))
  await clock.advance(60_000)
  t.equal(await pc.exit, 4)
  const phone = run(['phone', created.scanUrl, '--user', 'alice', '--confirm'])
  t.equal(await phone.exit, 4)
  t.match(phone.output().stderr, /QR_EXPIRED \(410\)/)
})

t.test('errors and usage mistakes have their own exit codes', async (t) => {
  const { base } = await publicApp(t)
  const wrongPassword = run([
    'phone',
    `${base}/m/${'A'.repeat(21)}`,
    '--user',
    'alice',
    '--password',
    'nope',
    '--confirm',
  ])
  t.equal(await wrongPassword.exit, 1)
  t.match(wrongPassword.output().stderr, /BAD_CREDENTIALS/)
  const unknown = run(['phone', `${base}/m/${'A'.repeat(21)}`, '--user', 'alice', '--confirm'])
  t.equal(await unknown.exit, 1)
  t.match(unknown.output().stderr, /QR_NOT_FOUND \(404\)/)
  for (const args of [
    [],
    ['fly'],
    ['phone'],
    ['phone', `${base}/m/${'A'.repeat(21)}`, '--user', 'a'],
    ['login', '--transport', 'pigeon'],
    ['login', '--bogus'],
  ]) {
    const usage = run(args)
    t.equal(await usage.exit, 2, args.join(' ') || '(nothing)')
    t.match(usage.output().stderr, /Usage:/)
  }
  const unreachable = run(['login', '--url', 'http://127.0.0.1:9'])
  t.equal(await unreachable.exit, 1)
  t.match(unreachable.output().stderr, /NETWORK_ERROR/)
})

t.test('number matching from the command line: login shows the code, phone needs --match-code', async (t) => {
  const { base } = await publicApp(t, { MATCH_CODE: '1' })
  const pc = run(['login', '--url', base, '--transport', 'sse', '--no-qr'])
  const waiting = await pc.line(/On the phone, pick \d{2}\./)
  const code = /pick (\d{2})\./.exec(waiting)![1]
  const scanUrl = /https?:\/\/\S+\/m\/[A-Za-z0-9_-]{21}/.exec(pc.output().stdout)![0]

  const forgot = run(['phone', scanUrl, '--user', 'carol', '--confirm'])
  t.equal(await forgot.exit, 2, 'confirming without --match-code is a usage error')
  t.match(forgot.output().stderr, new RegExp(`--match-code.*${code}`))
  t.match(forgot.output().stdout, /Number matching: one of .*\d{2}.* is shown on the computer\./)

  const phone = run(['phone', scanUrl, '--user', 'carol', '--confirm', '--match-code', code])
  t.equal(await phone.exit, 0)
  t.equal(await pc.exit, 0)
  t.match(pc.output().stdout, /Signed in as Carol/)
})

t.test('login --login-hint: only that account’s phone takes it; another is refused with WRONG_ACCOUNT', async (t) => {
  const { base } = await publicApp(t)
  const pc = run(['login', '--url', base, '--login-hint', 'carol', '--json'])
  const created = JSON.parse(await pc.line(/"type":"created"/))
  t.equal(created.loginHint, 'carol')
  const bob = run(['phone', created.scanUrl, '--user', 'bob', '--confirm'])
  t.equal(await bob.exit, 1, 'bob’s phone exits 1')
  t.match(bob.output().stderr, /WRONG_ACCOUNT \(403\)/)
  const carol = run(['phone', created.scanUrl, '--user', 'carol', '--confirm'])
  t.equal(await carol.exit, 0, 'carol’s phone confirms')
  t.equal(await pc.exit, 0)
  t.match(pc.output().stdout, /"type":"signed-in","user":\{"username":"carol"/)
})
