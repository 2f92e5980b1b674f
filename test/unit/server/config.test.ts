import { availableParallelism } from 'node:os'
import t from 'tap'
import { ConfigError, loadConfig } from '../../../apps/server/src/config.js'
import { describeUserAgent } from '../../../apps/server/src/lib/user-agent.js'

t.test('defaults follow the contract', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.host, '0.0.0.0')
  t.match(
    config.publicUrl,
    /^http:\/\/\d+\.\d+\.\d+\.\d+:3000$/,
    'PUBLIC_URL defaults to the LAN IPv4, never localhost',
  )
  t.notMatch(config.publicUrl, /localhost/)
  t.equal(config.qrTtlSeconds, 120)
  t.equal(config.confirmWindowSeconds, 60)
  t.equal(config.exchangeWindowSeconds, 30)
  t.equal(config.retentionSeconds, 300)
  t.equal(config.pollIntervalMs, 1000)
  t.equal(config.store, 'sqlite', 'durable by default')
  t.equal(config.dataDir, './data')
  t.equal(config.redisUrl, 'redis://127.0.0.1:6379')
  t.same(config.allowedOrigins, [])
  t.equal(config.trustProxy, false)
  t.equal(config.logLevel, 'info')
  t.equal(config.sseHeartbeatMs, 15_000)
  t.equal(config.wsPingMs, 30_000)
  t.same(
    config.demoAccounts.map((a) => [a.username, a.password]),
    [
      ['alice', 'demo'],
      ['bob', 'demo'],
      ['carol', 'demo'],
    ],
  )
})

t.test('values from the environment', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    PUBLIC_URL: 'https://login.example.com/',
    QR_TTL_SECONDS: '1',
    POLL_INTERVAL_MS: '50',
    TRUST_PROXY: '10.0.0.1, 10.0.0.2',
    ALLOWED_ORIGINS: 'https://a.example/path',
  })
  t.equal(config.port, 8080)
  t.equal(config.publicUrl, 'https://login.example.com', 'no trailing slash')
  t.equal(config.qrTtlSeconds, 1)
  t.equal(config.pollIntervalMs, 50)
  t.same(config.trustProxy, ['10.0.0.1', '10.0.0.2'])
  t.same(config.allowedOrigins, ['https://a.example'])
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true)
  t.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2)
})

t.test('a bad value is refused with a message naming the variable', async (t) => {
  const bad: [string, string][] = [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['QR_TTL_SECONDS', '0'],
    ['QR_TTL_SECONDS', '1.5'],
    ['CONFIRM_WINDOW_SECONDS', '-3'],
    ['EXCHANGE_WINDOW_SECONDS', 'soon'],
    ['RETENTION_SECONDS', '0'],
    ['POLL_INTERVAL_MS', '49'],
    ['STORE', 'postgres'],
    ['LOG_LEVEL', 'loud'],
    ['PUBLIC_URL', 'not a url'],
    ['PUBLIC_URL', 'ftp://example.com'],
    ['ALLOWED_ORIGINS', 'example.com'],
    ['SSE_HEARTBEAT_MS', '20000'],
    ['DEMO_USERS', 'Alice Smith'],
    ['RATE_LIMIT_CREATE_PER_MINUTE', '0'],
    ['RATE_LIMIT_SIGNIN_FAILURES_PER_ACCOUNT', 'many'],
    ['RATE_LIMIT_POLLS_PER_INTERVAL', '-1'],
    ['MAX_WATCHERS_PER_LOGIN', '0'],
    ['MAX_LIVE_LOGINS', '1e6'],
    ['IDLE_TIMEOUT_SECONDS', '30'],
    ['HEADERS_TIMEOUT_SECONDS', '0'],
    ['MATCH_CODE', 'yes'],
    ['WORKERS', '0'],
    ['WORKERS', 'many'],
    ['WORKERS', '1.5'],
  ]
  for (const [name, value] of bad) {
    t.throws(
      () => loadConfig({ [name]: value }),
      { name: 'ConfigError', message: new RegExp(name) },
      `${name}=${value}`,
    )
  }
  t.throws(() => loadConfig({ REDIS_URL: 'http://127.0.0.1:6379' }), ConfigError)
  t.throws(() => loadConfig({ REDIS_PREFIX: 'has spaces' }), ConfigError)
  t.equal(loadConfig({ STORE: 'redis', REDIS_PREFIX: 'test:1:' }).redisPrefix, 'test:1:')
})

t.test('user agents are described in human terms', async (t) => {
  const cases: [string, string, string][] = [
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome 131',
      'Windows 10',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
      'Safari 17',
      'macOS Catalina',
    ],
    ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 'Firefox 120', 'Linux'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
      'Microsoft Edge 120',
      'Windows 10',
    ],
    ['curl/8.4.0', 'curl 8', 'Unknown OS'],
    ['', 'Unknown browser', 'Unknown OS'],
  ]
  for (const [userAgent, browser, os] of cases) {
    t.same(describeUserAgent(userAgent), { browser, os }, userAgent || '(empty)')
  }
})

t.test('limits: defaults, values from the environment, and timeouts that fit together', async (t) => {
  const defaults = loadConfig({})
  t.match(defaults.limits, {
    createPerMinute: 1200,
    signInFailuresPerIp: 60,
    signInFailuresPerAccount: 20,
    signInWindowSeconds: 900,
    pollsPerInterval: 10,
    watchersPerLogin: 200,
    watchersPerIp: 1000,
    liveLogins: 100_000,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    idleTimeoutMs: 120_000,
  })
  t.equal(defaults.matchCode, false)
  const raised = loadConfig({ RATE_LIMIT_CREATE_PER_MINUTE: '100000', MAX_WATCHERS_PER_IP: '50000', MATCH_CODE: '1' })
  t.equal(raised.limits.createPerMinute, 100_000)
  t.equal(raised.limits.watchersPerIp, 50_000)
  t.equal(raised.matchCode, true)
  t.throws(() => loadConfig({ HEADERS_TIMEOUT_SECONDS: '30', REQUEST_TIMEOUT_SECONDS: '30' }), {
    message: /REQUEST_TIMEOUT_SECONDS must be greater than HEADERS_TIMEOUT_SECONDS/,
  })
})

t.test('WORKERS: a count or auto; more than one only on a shared store', async (t) => {
  t.equal(loadConfig({}).workers, 1)
  t.equal(loadConfig({ STORE: 'redis', WORKERS: '3' }).workers, 3)
  t.equal(loadConfig({ STORE: 'redis', WORKERS: 'auto' }).workers, availableParallelism())
  t.throws(() => loadConfig({ WORKERS: '2' }), {
    name: 'ConfigError',
    message: /WORKERS=2 needs STORE=redis: the SQLite store serves one process/,
  })
  t.throws(() => loadConfig({ STORE: 'memory', WORKERS: '2' }), {
    name: 'ConfigError',
    message: /WORKERS=2 needs STORE=redis: with the memory store each worker process keeps its own logins/,
  })
  t.equal(loadConfig({ WORKERS: '1' }).workers, 1, 'one worker is the plain process, on any store')
})

t.test(
  'REDIS_CLUSTER: seed nodes on STORE=redis, instead of REDIS_URL; writes wait for one replica there, the live index is split',
  async (t) => {
    const single = loadConfig({ STORE: 'redis' })
    t.equal(single.redisCluster, undefined)
    t.same(single.redisWait, { replicas: 0, timeoutMs: 200 }, 'one server: nothing to wait for')
    const cluster = loadConfig({
      STORE: 'redis',
      REDIS_CLUSTER: '10.0.0.1:7000, redis://user:secret@10.0.0.2:7001,rediss://cache.example:7002',
    })
    t.same(cluster.redisCluster, ['10.0.0.1:7000', 'redis://user:secret@10.0.0.2:7001', 'rediss://cache.example:7002'])
    t.same(cluster.redisWait, { replicas: 1, timeoutMs: 200 })
    t.same(single.redisLiveIndex, { keys: 1, countCacheMs: 0 }, 'one server: one index key, counted every time')
    t.same(
      cluster.redisLiveIndex,
      { keys: 16, countCacheMs: 100 },
      'a cluster: split over 16 slots, counted now and then',
    )
    t.same(loadConfig({ STORE: 'redis', REDIS_LIVE_KEYS: '64', REDIS_LIVE_COUNT_CACHE_MS: '0' }).redisLiveIndex, {
      keys: 64,
      countCacheMs: 0,
    })
    t.same(
      loadConfig({ STORE: 'redis', REDIS_CLUSTER: '10.0.0.1:7000', REDIS_WAIT_REPLICAS: '0', REDIS_WAIT_MS: '50' })
        .redisWait,
      { replicas: 0, timeoutMs: 50 },
    )
    const refused: [Record<string, string>, RegExp][] = [
      [{ REDIS_CLUSTER: '10.0.0.1:7000' }, /REDIS_CLUSTER needs STORE=redis/],
      [{ STORE: 'redis', REDIS_CLUSTER: '10.0.0.1:7000', REDIS_URL: 'redis://x:6379' }, /not both/],
      [{ STORE: 'redis', REDIS_CLUSTER: '10.0.0.1' }, /REDIS_CLUSTER takes seed nodes as host:port/],
      [{ STORE: 'redis', REDIS_CLUSTER: '10.0.0.1:7000,,' }, /got ""/],
      [{ STORE: 'redis', REDIS_CLUSTER: 'redis://10.0.0.1:7000/3' }, /REDIS_CLUSTER takes seed nodes/],
      [{ STORE: 'redis', REDIS_CLUSTER: 'http://10.0.0.1:7000' }, /REDIS_CLUSTER takes seed nodes/],
      [{ STORE: 'redis', REDIS_WAIT_REPLICAS: '17' }, /REDIS_WAIT_REPLICAS/],
      [{ STORE: 'redis', REDIS_WAIT_MS: '0' }, /REDIS_WAIT_MS/],
      [{ STORE: 'redis', REDIS_LIVE_KEYS: '0' }, /REDIS_LIVE_KEYS/],
      [{ STORE: 'redis', REDIS_LIVE_KEYS: '1025' }, /REDIS_LIVE_KEYS/],
      [{ STORE: 'redis', REDIS_LIVE_COUNT_CACHE_MS: '-1' }, /REDIS_LIVE_COUNT_CACHE_MS/],
    ]
    for (const [env, message] of refused)
      t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env))
  },
)

t.test('LISTEN_BACKLOG: 4096 unless set', async (t) => {
  t.equal(loadConfig({}).listenBacklog, 4096)
  t.equal(loadConfig({ LISTEN_BACKLOG: '128' }).listenBacklog, 128)
  t.throws(() => loadConfig({ LISTEN_BACKLOG: '0' }), { name: 'ConfigError', message: /LISTEN_BACKLOG/ })
})
