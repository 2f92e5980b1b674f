import { parseUsers, type DemoAccount, type FileAccount } from '@qr-login/core'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { lanIPv4 } from './lib/lan.js'
import { checkTrustList, type TrustProxySetting } from './lib/client-address.js'
import { checkRanges, type NetworkRule } from './lib/network.js'
import { ConfigError } from './config-error.js'
import { loadClients, type OidcClient } from './oidc/clients.js'
import { checkOperatorKeys } from './oidc/keys.js'

export interface Config {
  port: number
  host: string
  /** Base of every scanUrl, without a trailing slash. */
  publicUrl: string
  qrTtlSeconds: number
  confirmWindowSeconds: number
  exchangeWindowSeconds: number
  retentionSeconds: number
  pollIntervalMs: number
  store: 'memory' | 'redis' | 'sqlite'
  /** DATA_DIR: where STORE=sqlite keeps its database (qr-login.db), created when missing. */
  dataDir: string
  /** Processes sharing the port (node:cluster); above 1 only with STORE=redis. */
  workers: number
  /** Connections the kernel may queue before the service accepts them (capped by net.core.somaxconn). */
  listenBacklog: number
  redisUrl: string
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER): used instead of redisUrl when set. */
  redisCluster: string[] | undefined
  /** Replicas that must hold a login's write before it counts as done (WAIT), and how long to wait for them. */
  redisWait: { replicas: number; timeoutMs: number }
  /** The live-login index MAX_LIVE_LOGINS counts: keys it is split over, and how long a count is reused. */
  redisLiveIndex: { keys: number; countCacheMs: number }
  /** Prepended to every Redis key and channel, so several deployments (or test runs) can share one Redis. */
  redisPrefix: string
  /** REDIS_REQUIRE_DURABLE: refuse to start when Redis would lose data (persistence off, keys evicted), instead of warning. */
  redisRequireDurable: boolean
  /** Explicit allow-list; when empty, PUBLIC_URL and the request's own origin are allowed. */
  allowedOrigins: string[]
  /** TRUST_PROXY, read by lib/client-address.ts's trustRule alike in every part of the service. */
  trustProxy: TrustProxySetting
  logLevel: string
  /** LOG_FORMAT: `pretty` lines, `json` lines, or `auto` (pretty when standard output is a terminal). */
  logFormat: 'auto' | 'pretty' | 'json'
  sessionTtlSeconds: number
  /** How long a sign-in request stays in its user's history on the phone. */
  historyRetentionSeconds: number
  sseHeartbeatMs: number
  wsPingMs: number
  bodyLimitBytes: number
  demoAccounts: DemoAccount[]
  /** USERS_FILE's accounts, in place of the demo ones. */
  users?: FileAccount[]
  /** Serve HTTPS (so the phone's in-page camera works over the LAN). */
  https: boolean
  /** Your own certificate; without them a self-signed one is made and kept in certDir. */
  tlsCertFile?: string
  tlsKeyFile?: string
  certDir: string
  limits: Limits
  /** Number matching: the PC shows a two-digit code that the phone must pick among three. */
  matchCode: boolean
  passkeys: PasskeyConfig
  oidc: OidcConfig
  /** What one network is (the phone's warning, REQUIRE_SAME_NETWORK), and whether a confirm must come from the PC's. */
  network: NetworkRule & { requireSame: boolean }
}

export interface OidcConfig {
  /** OIDC_CLIENTS_FILE's clients, or the demo ones (the example app and the CLI's device login). */
  clients: OidcClient[]
  deviceCodeTtlSeconds: number
  /** How often a device may poll the token endpoint (RFC 8628 interval); faster is told slow_down. */
  devicePollSeconds: number
  /** Where the signing keys are kept (memory store), or the operator's own keys (any store) when set. */
  keysFile: string
  /** OIDC_KEYS_FILE was given: its keys are the operator's, read and never written. */
  operatorKeys: boolean
  /** Token and session lifetimes (seconds); see the README for why each default suits a QR sign-in. */
  ttl: { accessToken: number; idToken: number; refreshToken: number; session: number }
}

export interface PasskeyConfig {
  /** REQUIRE_PASSKEY: a confirm without a passkey assertion is refused (403 PASSKEY_REQUIRED). */
  required: boolean
  /** The WebAuthn relying party id; unset: the host name of the page that asks (PUBLIC_URL's when no Origin). */
  rpId?: string
  /** What the phone's passkey prompt calls this service. */
  rpName: string
  maxPerUser: number
  /** How long a registration or confirm prompt may take. */
  challengeTtlMs: number
}

/** Rate limits, caps and timeouts; every one can be raised from the environment (load tests, benchmarks). */
export interface Limits {
  /** Logins one IP may create per minute. */
  createPerMinute: number
  /** Failed phone sign-ins per IP, and per account, within signInWindowSeconds; then 429 until the window ends. */
  signInFailuresPerIp: number
  signInFailuresPerAccount: number
  signInWindowSeconds: number
  /** Failed user-code look-ups per phone session, and per IP, within codeLookupWindowSeconds; then 429. */
  codeLookupFailuresPerSession: number
  codeLookupFailuresPerIp: number
  codeLookupWindowSeconds: number
  /** Reads of one login from one IP per pollIntervalMs, averaged over ten intervals (jitter, several tabs). */
  pollsPerInterval: number
  /** Open SSE streams, WebSockets and long polls: per login, and per client IP. */
  watchersPerLogin: number
  watchersPerIp: number
  /** Logins waiting (pending, scanned or confirmed, not yet ended), counted in the store: across every instance with STORE=redis. */
  liveLogins: number
  /** Time a client has to send a request's headers, and the whole request. */
  headersTimeoutMs: number
  requestTimeoutMs: number
  /** A socket with no traffic either way for this long is closed (held requests write or end well before). */
  idleTimeoutMs: number
  keepAliveTimeoutMs: number
}

export { ConfigError }

type Env = Record<string, string | undefined>

function wholeNumber(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(
      `${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, got "${raw}"`,
    )
  }
  return Number(raw)
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!allowed.includes(raw as T)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`)
  return raw as T
}

function httpUrl(name: string, raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${raw}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${raw}"`)
  }
  return url
}

function trustProxy(raw: string | undefined): Config['trustProxy'] {
  if (raw === undefined || raw === '' || raw === 'false') return false
  if (raw === 'true') return true
  if (/^\d+$/.test(raw)) return Number(raw)
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  try {
    checkTrustList(entries)
  } catch (error) {
    throw new ConfigError(
      `TRUST_PROXY must be true, a hop count, or comma-separated addresses/CIDRs: ${(error as Error).message}`,
    )
  }
  return entries
}

function demoAccounts(env: Env): DemoAccount[] {
  const password = env.DEMO_PASSWORD || 'demo'
  const list = (env.DEMO_USERS || 'alice,bob,carol')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  for (const name of list) {
    if (!/^[a-z0-9_-]{1,32}$/.test(name)) {
      throw new ConfigError(`DEMO_USERS must list user names of 1-32 characters a-z, 0-9, _ or -, got "${name}"`)
    }
  }
  return list.map((username) => ({ username, password }))
}

function usersFile(file: string): FileAccount[] {
  let content: string
  try {
    content = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`USERS_FILE: cannot read "${file}" (${(error as Error).message})`)
  }
  try {
    return parseUsers(content)
  } catch (error) {
    throw new ConfigError(`USERS_FILE "${file}": ${(error as Error).message}`)
  }
}

function flag(env: Env, name: string): boolean {
  const value = oneOf(env, name, ['0', '1', 'false', 'true', 'off', 'on'] as const, '0')
  return value === '1' || value === 'true' || value === 'on'
}

function limits(env: Env): Limits {
  const headersTimeoutMs = wholeNumber(env, 'HEADERS_TIMEOUT_SECONDS', 10, 1, 3600) * 1000
  const requestTimeoutMs = wholeNumber(env, 'REQUEST_TIMEOUT_SECONDS', 30, 1, 3600) * 1000
  if (requestTimeoutMs <= headersTimeoutMs)
    throw new ConfigError('REQUEST_TIMEOUT_SECONDS must be greater than HEADERS_TIMEOUT_SECONDS')
  return {
    createPerMinute: wholeNumber(env, 'RATE_LIMIT_CREATE_PER_MINUTE', 1200, 1),
    signInFailuresPerIp: wholeNumber(env, 'RATE_LIMIT_SIGNIN_FAILURES_PER_IP', 60, 1),
    signInFailuresPerAccount: wholeNumber(env, 'RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT', 20, 1),
    signInWindowSeconds: wholeNumber(env, 'RATE_LIMIT_SIGNIN_WINDOW_SECONDS', 900, 1),
    codeLookupFailuresPerSession: wholeNumber(env, 'RATE_LIMIT_CODE_FAILURES_PER_SESSION', 10, 1),
    codeLookupFailuresPerIp: wholeNumber(env, 'RATE_LIMIT_CODE_FAILURES_PER_IP', 30, 1),
    codeLookupWindowSeconds: wholeNumber(env, 'RATE_LIMIT_CODE_WINDOW_SECONDS', 900, 1),
    pollsPerInterval: wholeNumber(env, 'RATE_LIMIT_POLLS_PER_INTERVAL', 10, 1),
    watchersPerLogin: wholeNumber(env, 'MAX_WATCHERS_PER_LOGIN', 200, 1),
    watchersPerIp: wholeNumber(env, 'MAX_WATCHERS_PER_IP', 1000, 1),
    liveLogins: wholeNumber(env, 'MAX_LIVE_LOGINS', 100_000, 1),
    headersTimeoutMs,
    requestTimeoutMs,
    // Long polls are held up to 30 s without a byte; anything shorter would cut them. Above the keep-alive
    // timeout, so an idle keep-alive connection is closed by that timer, as balancers expect.
    idleTimeoutMs: wholeNumber(env, 'IDLE_TIMEOUT_SECONDS', 120, 35, 3600) * 1000,
    keepAliveTimeoutMs: wholeNumber(env, 'KEEP_ALIVE_TIMEOUT_SECONDS', 72, 1, 3600) * 1000,
  }
}

function passkeys(env: Env): PasskeyConfig {
  const rpId = env.PASSKEY_RP_ID || undefined
  // A WebAuthn RP id is a host name (browsers refuse IP addresses), lower case, without port or scheme.
  if (
    rpId !== undefined &&
    !/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rpId)
  )
    throw new ConfigError(`PASSKEY_RP_ID must be a host name such as login.example.com, got "${rpId}"`)
  return {
    required: flag(env, 'REQUIRE_PASSKEY'),
    rpId,
    rpName: env.PASSKEY_RP_NAME || 'QR Login',
    maxPerUser: wholeNumber(env, 'MAX_PASSKEYS_PER_USER', 10, 1, 100),
    challengeTtlMs: wholeNumber(env, 'PASSKEY_PROMPT_SECONDS', 120, 10, 600) * 1000,
  }
}

function network(env: Env): Config['network'] {
  const ranges = (env.SAME_NETWORK_RANGES ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  try {
    checkRanges(ranges)
  } catch (error) {
    throw new ConfigError(`SAME_NETWORK_RANGES must list CIDRs such as 10.20.0.0/16: ${(error as Error).message}`)
  }
  return {
    requireSame: flag(env, 'REQUIRE_SAME_NETWORK'),
    ipv4Prefix: wholeNumber(env, 'SAME_NETWORK_IPV4_PREFIX', 24, 8, 32),
    ipv6Prefix: wholeNumber(env, 'SAME_NETWORK_IPV6_PREFIX', 64, 16, 128),
    ranges,
  }
}

function oidc(env: Env): OidcConfig {
  if (env.OIDC_KEYS_FILE) checkOperatorKeys(env.OIDC_KEYS_FILE)
  return {
    clients: loadClients(env.OIDC_CLIENTS_FILE || undefined),
    deviceCodeTtlSeconds: wholeNumber(env, 'DEVICE_CODE_TTL_SECONDS', 600, 1),
    devicePollSeconds: wholeNumber(env, 'DEVICE_POLL_INTERVAL_SECONDS', 5, 1, 60),
    keysFile: env.OIDC_KEYS_FILE || '.oidc/keys.json',
    operatorKeys: Boolean(env.OIDC_KEYS_FILE),
    ttl: {
      // Short: a token a phished approval yields is worth minutes, and a refresh costs the app one request.
      accessToken: wholeNumber(env, 'OIDC_ACCESS_TOKEN_TTL_SECONDS', 600, 1, 24 * 3600),
      // An ID token says who signed in just now; the application checks it once, at sign-in.
      idToken: wholeNumber(env, 'OIDC_ID_TOKEN_TTL_SECONDS', 600, 1, 24 * 3600),
      // Only with offline_access; it rotates on every use for public clients, so a stolen one is noticed.
      refreshToken: wholeNumber(env, 'OIDC_REFRESH_TOKEN_TTL_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600),
      // How long the provider remembers who signed in (a second app's sign-in still shows the QR: prompt=login).
      session: wholeNumber(env, 'OIDC_SESSION_TTL_SECONDS', 12 * 3600, 60, 30 * 24 * 3600),
    },
  }
}

/** WORKERS: a count, or `auto` for one per core. Several need a shared store: each worker would hold its own logins. */
function workers(env: Env, store: Config['store']): number {
  const raw = env.WORKERS?.trim() || '1'
  const count = raw === 'auto' ? availableParallelism() : /^\d{1,3}$/.test(raw) ? Number(raw) : NaN
  if (!(count >= 1 && count <= 256))
    throw new ConfigError(`WORKERS must be a whole number from 1 to 256, or auto, got "${raw}"`)
  if (count > 1 && store === 'memory')
    throw new ConfigError(
      `WORKERS=${raw} needs STORE=redis: with the memory store each worker process keeps its own logins, ` +
        'so a PC and the phone that scans its QR could reach different workers and never meet',
    )
  if (count > 1 && store === 'sqlite')
    throw new ConfigError(
      `WORKERS=${raw} needs STORE=redis: the SQLite store serves one process (a status change in one worker ` +
        'would never reach the watchers another holds)',
    )
  return count
}

/** REDIS_CLUSTER: seed nodes, `host:port` or `redis[s]://[user:password@]host:port`, separated by commas. */
function clusterSeeds(env: Env, store: Config['store']): string[] | undefined {
  const raw = env.REDIS_CLUSTER?.trim()
  if (!raw) return undefined
  if (store !== 'redis') throw new ConfigError('REDIS_CLUSTER needs STORE=redis')
  if (env.REDIS_URL) throw new ConfigError('Set REDIS_URL (one Redis server) or REDIS_CLUSTER (a cluster), not both')
  const seeds = raw.split(',').map((seed) => seed.trim())
  for (const seed of seeds) {
    const address = /^rediss?:\/\//.test(seed) ? seed : `redis://${seed}`
    let url: URL | undefined
    try {
      url = new URL(address)
    } catch {
      url = undefined
    }
    if (!url || !url.hostname || !/^\d+$/.test(url.port) || (url.pathname !== '' && url.pathname !== '/'))
      throw new ConfigError(
        `REDIS_CLUSTER takes seed nodes as host:port or redis://[user:password@]host:port, separated by commas; got "${seed}"`,
      )
  }
  return seeds
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Reads and checks the environment; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  const port = wholeNumber(env, 'PORT', 3000, 0, 65535)
  const store = oneOf(env, 'STORE', ['memory', 'redis', 'sqlite'] as const, 'sqlite')
  const redisUrl = env.REDIS_URL || 'redis://127.0.0.1:6379'
  if (!/^rediss?:\/\//.test(redisUrl))
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${redisUrl}"`)
  const redisCluster = clusterSeeds(env, store)
  const redisPrefix = env.REDIS_PREFIX ?? 'qr:'
  if (!/^[\w:.-]{0,32}$/.test(redisPrefix))
    throw new ConfigError(`REDIS_PREFIX may hold up to 32 letters, digits, _ : . -, got "${redisPrefix}"`)
  const https = oneOf(env, 'HTTPS', ['0', '1', 'false', 'true', 'off', 'on'] as const, '0')
  const httpsOn = https === '1' || https === 'true' || https === 'on'
  if (Boolean(env.TLS_CERT_FILE) !== Boolean(env.TLS_KEY_FILE))
    throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE go together')
  const publicUrl = httpUrl(
    'PUBLIC_URL',
    env.PUBLIC_URL || `${httpsOn ? 'https' : 'http'}://${lanIPv4() ?? '127.0.0.1'}:${port}`,
  )
  const allowedOrigins = (env.ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => httpUrl('ALLOWED_ORIGINS', entry).origin)
  return {
    port,
    host: env.HOST || '0.0.0.0',
    publicUrl: publicUrl.href.replace(/\/+$/, ''),
    qrTtlSeconds: wholeNumber(env, 'QR_TTL_SECONDS', 120, 1),
    confirmWindowSeconds: wholeNumber(env, 'CONFIRM_WINDOW_SECONDS', 60, 1),
    exchangeWindowSeconds: wholeNumber(env, 'EXCHANGE_WINDOW_SECONDS', 30, 1),
    retentionSeconds: wholeNumber(env, 'RETENTION_SECONDS', 300, 1),
    pollIntervalMs: wholeNumber(env, 'POLL_INTERVAL_MS', 1000, 50),
    store,
    dataDir: env.DATA_DIR || './data',
    workers: workers(env, store),
    // Node's 511 overflows when thousands of watchers reconnect at once (an instance restarted): queued, not dropped.
    listenBacklog: wholeNumber(env, 'LISTEN_BACKLOG', 4096, 1, 65535),
    redisUrl,
    redisCluster,
    redisWait: {
      // On a cluster a master can die with a write it has not passed on; by default one replica must have it first.
      replicas: wholeNumber(env, 'REDIS_WAIT_REPLICAS', redisCluster ? 1 : 0, 0, 16),
      timeoutMs: wholeNumber(env, 'REDIS_WAIT_MS', 200, 1, 10_000),
    },
    redisLiveIndex: {
      // One key is one slot: on a cluster every login's index writes would land on one master.
      keys: wholeNumber(env, 'REDIS_LIVE_KEYS', redisCluster ? 16 : 1, 1, 1024),
      countCacheMs: wholeNumber(env, 'REDIS_LIVE_COUNT_CACHE_MS', redisCluster ? 100 : 0, 0, 60_000),
    },
    redisPrefix,
    redisRequireDurable: flag(env, 'REDIS_REQUIRE_DURABLE'),
    allowedOrigins,
    trustProxy: trustProxy(env.TRUST_PROXY),
    logLevel: oneOf(env, 'LOG_LEVEL', logLevels, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['auto', 'pretty', 'json'] as const, 'auto'),
    sessionTtlSeconds: wholeNumber(env, 'SESSION_TTL_SECONDS', 12 * 3600, 1),
    historyRetentionSeconds: wholeNumber(env, 'HISTORY_RETENTION_SECONDS', 30 * 24 * 3600, 1),
    sseHeartbeatMs: wholeNumber(env, 'SSE_HEARTBEAT_MS', 15_000, 10, 15_000),
    wsPingMs: wholeNumber(env, 'WS_PING_MS', 30_000, 10, 30_000),
    bodyLimitBytes: wholeNumber(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1024, 1024 * 1024),
    demoAccounts: demoAccounts(env),
    ...(env.USERS_FILE ? { users: usersFile(env.USERS_FILE) } : {}),
    https: httpsOn,
    tlsCertFile: env.TLS_CERT_FILE || undefined,
    tlsKeyFile: env.TLS_KEY_FILE || undefined,
    certDir: env.CERT_DIR || '.certs',
    limits: limits(env),
    matchCode: flag(env, 'MATCH_CODE'),
    passkeys: passkeys(env),
    oidc: oidc(env),
    network: network(env),
  }
}
