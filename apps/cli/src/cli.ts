import { join } from 'node:path'
import { parseArgs } from 'node:util'
import QRCode from 'qrcode'
import {
  QrLoginClient,
  QrLoginError,
  parseScanUrl,
  transportNames,
  type LoginStatusView,
  type TransportChoice,
} from '@qr-login/client'
import { nodeWebSocket } from '@qr-login/client/node'
import { hashPassword } from '@qr-login/core'
import { DatabaseRefused, backupDatabase } from '@qr-login/sqlite'
import * as oidc from 'openid-client'

/** Exit codes, so scripts can tell outcomes apart. */
export const exitCodes = { signedIn: 0, failed: 1, usage: 2, cancelled: 3, expired: 4 } as const

const transports: TransportChoice[] = ['auto', ...transportNames]

const usage = `Usage:
  qr-login login [--url URL] [--transport ${transports.join('|')}] [--login-hint NAME] [--json] [--no-qr]
      Creates a QR login, draws the QR, prints each status; on confirmation
      exchanges it and prints the user. With --login-hint only that account's phone may scan.
  qr-login phone (<scanUrl> | --code BCDF-GHJK [--url URL]) --user NAME [--password PASSWORD]
                 (--confirm [--match-code NN] | --cancel) [--json]
      Plays the phone: signs in, scans (or finds the login by the code shown under
      the QR), shows who is asking, then confirms or cancels.
      With MATCH_CODE=1 on the server, --match-code is the number the computer shows.

  qr-login device-login --issuer URL [--client-id qr-login-cli] [--scope "openid profile"] [--json] [--no-qr]
      Signs a device in through the OpenID provider (RFC 8628 device grant): draws the QR of
      verification_uri_complete, says the code to type instead, waits, prints the ID token's claims.
  qr-login hash-password < password.txt
      Prints a salted scrypt hash of the password read from standard input, for USERS_FILE.
  qr-login backup <file> [--data-dir DIR]
      Copies the service's database (<DIR>/qr-login.db; DIR defaults to $DATA_DIR or ./data) to
      <file> while the service runs: a consistent snapshot, checked, never overwriting <file>.

  --url defaults to $QR_LOGIN_URL or http://localhost:3000; --password to "demo";
  --issuer to $QR_LOGIN_ISSUER or <url>/oidc.
Exit codes: 0 done, 1 error, 2 usage, 3 cancelled, 4 expired.`

const userAgent = 'qr-login-cli/0.1.0'
const defaultUrl = () => process.env.QR_LOGIN_URL || 'http://localhost:3000'

class UsageError extends Error {}

function client(baseUrl: string) {
  return new QrLoginClient({ baseUrl, webSocket: nodeWebSocket, headers: { 'user-agent': userAgent } })
}

function say(json: boolean, value: object, text: string) {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`)
}

function describe(status: LoginStatusView): string {
  const match = status.matchCode ? ` On the phone, pick ${status.matchCode}.` : ''
  switch (status.status) {
    case 'pending':
      return `Waiting for a phone to scan the QR code…${match}`
    case 'scanned':
      return `Scanned by ${status.scannedBy?.displayName ?? 'someone'} — confirm on your phone.${match}`
    case 'confirmed':
      return 'Confirmed on the phone.'
    case 'cancelled':
      return 'Cancelled on the phone.'
    case 'expired':
      return 'The QR code expired.'
    case 'consumed':
      return 'This login was already used.'
  }
}

async function login(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string', default: defaultUrl() },
      transport: { type: 'string', default: 'auto' },
      'login-hint': { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-qr': { type: 'boolean', default: false },
    },
  })
  const loginHint = values['login-hint']
  const transport = values.transport as TransportChoice
  if (!transports.includes(transport)) throw new UsageError(`--transport must be one of ${transports.join(', ')}`)
  const api = client(values.url)
  const created = await api.createLogin({ loginHint })
  if (!values.json && !values['no-qr'])
    process.stdout.write(`${await QRCode.toString(created.scanUrl, { type: 'terminal', small: true })}\n`)
  say(
    values.json,
    {
      type: 'created',
      id: created.id,
      scanUrl: created.scanUrl,
      userCode: created.userCode,
      expiresAt: created.expiresAt,
      ...(created.loginHint ? { loginHint: created.loginHint } : {}),
    },
    `Scan with ${created.loginHint ? `the phone signed in as ${created.loginHint}` : 'your phone'}: ${created.scanUrl}\nCan't scan? On your phone, open ${new URL('/m', created.scanUrl).href} and enter ${created.userCode}`,
  )

  let last: LoginStatusView | undefined
  for await (const status of api.watch(created, {
    transport,
    onTraffic: (event) => {
      if (event.type === 'fallback' && !values.json)
        process.stderr.write(`(${event.from} unavailable, using ${event.to})\n`)
    },
  })) {
    last = status
    say(values.json, { type: 'status', ...status }, describe(status))
  }
  if (last?.status === 'confirmed') {
    const { user } = await api.exchange(created)
    say(values.json, { type: 'signed-in', user }, `Signed in as ${user.displayName} (${user.username}).`)
    return exitCodes.signedIn
  }
  if (last?.status === 'expired') return exitCodes.expired
  if (last?.status === 'cancelled') return exitCodes.cancelled
  return exitCodes.failed
}

function age(createdAt: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(createdAt)) / 1000))
  return seconds < 60 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`
}

async function phone(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      password: { type: 'string', default: 'demo' },
      confirm: { type: 'boolean', default: false },
      cancel: { type: 'boolean', default: false },
      'match-code': { type: 'string' },
      code: { type: 'string' },
      url: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  })
  const [scanUrl] = positionals
  if (positionals.length > 1 || Boolean(scanUrl) === Boolean(values.code)) {
    throw new UsageError('phone takes exactly one scan URL, or --code')
  }
  if (!values.user) throw new UsageError('phone needs --user')
  if (values.confirm === values.cancel) throw new UsageError('phone needs exactly one of --confirm and --cancel')
  let target: { baseUrl: string; id: string } | undefined
  try {
    if (scanUrl) target = parseScanUrl(scanUrl)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const api = client(values.url ?? target?.baseUrl ?? defaultUrl())
  const device = await api.signInPhone(values.user, values.password)
  const resolved = target ? undefined : await device.resolveCode(values.code!)
  if (resolved && !resolved.id)
    throw new Error(`That is a device's code: confirm it in a browser at ${resolved.scanUrl}`)
  const id = target?.id ?? resolved!.id!
  const scanned = await device.scan(id)
  const { requester, network, matchChoices } = scanned
  say(
    values.json,
    { type: 'scanned', requester, network, matchChoices },
    `Sign-in request from ${requester.browser} on ${requester.os}, ${requester.ip}, QR made ${age(requester.createdAt)}.` +
      (network && !network.sameNetwork
        ? `\nWarning: that computer is not on this device's network (${network.phoneIp}).`
        : '') +
      (matchChoices ? `\nNumber matching: one of ${matchChoices.join(', ')} is shown on the computer.` : ''),
  )
  const matchCode = values['match-code']
  if (values.confirm && matchChoices && matchCode === undefined) {
    throw new UsageError(
      `this login uses number matching: add --match-code with the number the computer shows (${matchChoices.join(', ')})`,
    )
  }
  const result = values.confirm ? await device.confirm(id, matchCode) : await device.cancel(id)
  say(
    values.json,
    { type: 'status', ...result },
    values.confirm ? `Confirmed as ${device.user?.displayName}.` : 'Cancelled.',
  )
  return exitCodes.signedIn
}

/** RFC 8628 from a terminal: the QR to scan (or the code to type on the phone), then the wait. */
async function deviceLogin(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      issuer: { type: 'string', default: process.env.QR_LOGIN_ISSUER || `${defaultUrl()}/oidc` },
      'client-id': { type: 'string', default: 'qr-login-cli' },
      scope: { type: 'string', default: 'openid profile' },
      json: { type: 'boolean', default: false },
      'no-qr': { type: 'boolean', default: false },
    },
  })
  const issuer = new URL(values.issuer)
  const config = await oidc.discovery(issuer, values['client-id'], undefined, oidc.None(), {
    ...(issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
  })
  const started = await oidc.initiateDeviceAuthorization(config, { scope: values.scope })
  const complete = started.verification_uri_complete ?? started.verification_uri
  if (!values.json && !values['no-qr'])
    process.stdout.write(`${await QRCode.toString(complete, { type: 'terminal', small: true })}\n`)
  say(
    values.json,
    {
      type: 'device-code',
      verificationUri: started.verification_uri,
      verificationUriComplete: complete,
      userCode: started.user_code,
      expiresIn: started.expires_in,
    },
    `Scan with your phone: ${complete}\nOr on your phone, open ${started.verification_uri} (or its QR login home) and enter ${started.user_code}`,
  )
  try {
    const tokens = await oidc.pollDeviceAuthorizationGrant(config, started)
    const claims = tokens.claims()
    say(
      values.json,
      { type: 'signed-in', claims },
      `Signed in as ${String(claims?.name ?? claims?.sub)} (${String(claims?.sub)}).`,
    )
    return exitCodes.signedIn
  } catch (error) {
    const reason = (error as { error?: string }).error ?? (error as { code?: string }).code
    if (reason === 'access_denied') {
      say(values.json, { type: 'cancelled' }, 'Cancelled on the phone.')
      return exitCodes.cancelled
    }
    if (reason === 'expired_token' || reason === 'OAUTH_TIMEOUT') {
      say(values.json, { type: 'expired' }, 'The code expired before anyone confirmed it.')
      return exitCodes.expired
    }
    throw error
  }
}

/** For USERS_FILE: the hash of the password on standard input (one trailing newline is not part of it). */
async function hashPasswordFromStdin(args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError('hash-password reads the password from standard input, not arguments')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
  if (!password) throw new UsageError('hash-password: standard input held no password')
  process.stdout.write(`${await hashPassword(password)}\n`)
  return exitCodes.signedIn
}

/** STORE=sqlite: a consistent copy of the running service's database (SQLite's online backup). */
async function backup(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string', default: process.env.DATA_DIR || './data' }, json: { type: 'boolean' } },
  })
  if (positionals.length !== 1) throw new UsageError('backup takes one argument: the file to write the copy to')
  const report = await backupDatabase(join(values['data-dir'], 'qr-login.db'), positionals[0])
  const rows = Object.entries(report.rows)
    .map(([table, count]) => `${table} ${count}`)
    .join(', ')
  say(
    Boolean(values.json),
    report,
    `Backed up ${report.source} to ${report.target} (schema ${report.schemaVersion}; rows: ${rows}).\n` +
      'To restore: stop the service, move qr-login.db and any qr-login.db-wal and -shm aside, copy the backup ' +
      'in as qr-login.db, start the service.',
  )
  return exitCodes.signedIn
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === 'login') return await login(rest)
    if (command === 'phone') return await phone(rest)
    if (command === 'device-login') return await deviceLogin(rest)
    if (command === 'hash-password') return await hashPasswordFromStdin(rest)
    if (command === 'backup') return await backup(rest)
    if (command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${usage}\n`)
      return 0
    }
    throw new UsageError(command ? `Unknown command "${command}"` : 'No command given')
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n\n${usage}\n`)
      return exitCodes.usage
    }
    if (error instanceof DatabaseRefused) {
      process.stderr.write(`Cannot back up: ${error.message}\n`)
      return exitCodes.failed
    }
    if (error instanceof QrLoginError) {
      process.stderr.write(`Error ${error.code}${error.statusCode ? ` (${error.statusCode})` : ''}: ${error.message}\n`)
      if (error.code === 'QR_EXPIRED') return exitCodes.expired
      return exitCodes.failed
    }
    process.stderr.write(`Error: ${(error as Error)?.message ?? error}\n`)
    return exitCodes.failed
  }
}

process.exitCode = await main(process.argv.slice(2))
