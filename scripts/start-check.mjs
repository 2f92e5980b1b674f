// Starts the built service (apps/server/dist/server.js) on the Node running this script, as `npm start`
// does, reads the OpenID provider's discovery document, takes one QR login all the way through the HTTP API (create, read, phone sign-in, scan,
// confirm, long poll, exchange, /api/me with the session cookie), stops it with SIGTERM and checks it exits 0. Anything the
// service prints as a warning fails the check, except those named in --allow-warning (a regular
// expression, for a warning the README explains). Plain JavaScript, so it needs no TypeScript loader:
// CI runs it on every supported Node line.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { 'allow-warning': { type: 'string', multiple: true, default: [] } } })
const allowed = values['allow-warning'].map((pattern) => new RegExp(pattern))

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address()
    probe.close(() => resolve(port))
  })
})
const base = `http://127.0.0.1:${port}`
const dataDir = mkdtempSync(join(tmpdir(), 'qr-start-check-'))
const child = spawn(process.execPath, ['apps/server/dist/server.js'], {
  // The default store (SQLite), in a DATA_DIR of its own.
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: base,
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
  },
  stdio: ['ignore', 'pipe', 'pipe'],
})
let output = ''
child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk))
child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk))
const exited = once(child, 'exit')

function fail(message) {
  console.error(`start-check on Node ${process.version}: ${message}\n--- the service printed:\n${output}`)
  child.kill('SIGKILL')
  process.exit(1)
}

const startedBy = Date.now() + 20_000
while (!/is running/.test(output)) {
  if (child.exitCode !== null) fail(`the service exited (${child.exitCode}) before it was running`)
  if (Date.now() > startedBy) fail('the service did not say "is running" within 20 s')
  await new Promise((resolve) => setTimeout(resolve, 50))
}

let cookie = ''
async function call(method, path, { token, body, expect }) {
  const response = await fetch(base + path, {
    method,
    headers: {
      'user-agent': `start-check/${process.version}`,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(cookie ? { cookie } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  })
  const sid = response.headers.getSetCookie().find((each) => each.startsWith('sid='))
  if (sid) cookie = sid.split(';')[0]
  const text = await response.text()
  if (response.status !== expect) fail(`${method} ${path}: ${response.status}, expected ${expect}: ${text}`)
  return text ? JSON.parse(text) : undefined
}

const discovery = await call('GET', '/oidc/.well-known/openid-configuration', { expect: 200 })
if (discovery.issuer !== `${base}/oidc`) fail(`the provider names itself ${discovery.issuer}`)
const login = await call('POST', '/api/qr', { expect: 201 })
const watch = { token: login.watchToken }
const pending = await call('GET', `/api/qr/${login.id}`, { ...watch, expect: 200 })
if (pending.status !== 'pending' || pending.version !== 1) fail(`a new login reads ${JSON.stringify(pending)}`)
const { token: phone } = await call('POST', '/api/mobile/session', {
  body: { username: 'alice', password: 'demo' },
  expect: 200,
})
const scanned = await call('POST', `/api/qr/${login.id}/scan`, { token: phone, expect: 200 })
if (!scanned.requester?.browser) fail(`the phone is not told who asks: ${JSON.stringify(scanned)}`)
const held = call('GET', `/api/qr/${login.id}?since=2&wait=10`, { ...watch, expect: 200 })
await call('POST', `/api/qr/${login.id}/confirm`, { token: phone, expect: 200 })
const confirmed = await held
if (confirmed.status !== 'confirmed' || confirmed.version !== 3) fail(`the long poll saw ${JSON.stringify(confirmed)}`)
await call('POST', `/api/qr/${login.id}/exchange`, { ...watch, expect: 200 })
if (!cookie) fail('the exchange set no sid cookie')
const me = await call('GET', '/api/me', { expect: 200 })
if (me.user?.username !== 'alice') fail(`/api/me answered ${JSON.stringify(me)}`)

child.kill('SIGTERM')
const [code] = await exited
if (code !== 0) fail(`SIGTERM: exit code ${code}`)
const warnings = output
  .split('\n')
  // Node's and the libraries' own warnings, and the service's log lines at warn (40) and above.
  .filter((line) => (/warn/i.test(line) && !/"level":30/.test(line)) || Number(/"level":(\d+)/.exec(line)?.[1]) >= 40)
  .filter((line) => !allowed.some((pattern) => pattern.test(line)))
if (warnings.length) fail(`it warned:\n${warnings.join('\n')}`)
rmSync(dataDir, { recursive: true, force: true })
console.log(`start-check on Node ${process.version}: started, signed alice in over the HTTP API, stopped with exit 0`)
