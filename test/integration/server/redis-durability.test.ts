import { PassThrough } from 'node:stream'
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { buildApp } from '@qr-login/server'
import { loadConfig } from '../../../apps/server/src/config.js'
import { loggerOptions } from '../../../apps/server/src/logging.js'
import { runUntilExit } from '../../helpers/instances.js'
import { privateRedis } from '../../helpers/redis.js'

/** The service on STORE=redis with its warnings collected; closed when the test ends. */
async function serviceOn(t: Test, url: string, env: Record<string, string> = {}) {
  const warnings: { setting?: string; value?: string; msg: string }[] = []
  const stream = new PassThrough()
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as { level: number; setting?: string; value?: string; msg: string }
      if (entry.level === 40) warnings.push(entry)
    }
  })
  const config = loadConfig({ PUBLIC_URL: 'http://qr.test:3000', STORE: 'redis', REDIS_URL: url, ...env })
  const app = await buildApp(config, {}, loggerOptions('warn', stream))
  t.teardown(() => app.close())
  return { app, warnings }
}

async function configure(url: string, ...settings: [string, string][]) {
  const redis = new Redis(url)
  for (const [name, value] of settings) await redis.config('SET', name, value)
  redis.disconnect()
}

t.test('a Redis that keeps nothing on disk: a warning naming appendonly, and the service starts', async (t) => {
  const redis = await privateRedis(t)
  const { app, warnings } = await serviceOn(t, redis.url)
  t.match(warnings, [
    { setting: 'appendonly', value: 'no', msg: /Redis appendonly is no: Redis keeps nothing on disk/ },
  ])
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'it serves')
})

t.test('REDIS_REQUIRE_DURABLE=1 refuses to start on it, naming the setting and the server', async (t) => {
  const redis = await privateRedis(t)
  await t.rejects(serviceOn(t, redis.url, { REDIS_REQUIRE_DURABLE: '1' }), {
    name: 'ConfigError',
    message: new RegExp(
      `REDIS_REQUIRE_DURABLE=1, and ${redis.url} would lose data: appendonly is no on 127.0.0.1:${redis.port}`,
    ),
  })
})

t.test('an append-only file synced on every write: no warning, and REDIS_REQUIRE_DURABLE=1 starts', async (t) => {
  const redis = await privateRedis(t, { persistent: true })
  const { app, warnings } = await serviceOn(t, redis.url, { REDIS_REQUIRE_DURABLE: '1' })
  t.same(warnings, [])
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
})

t.test(
  'eviction: allkeys-* would drop passkeys and keys, volatile-* sessions; noeviction or no limit is safe',
  async (t) => {
    const redis = await privateRedis(t, { persistent: true })
    await configure(redis.url, ['maxmemory', '104857600'], ['maxmemory-policy', 'allkeys-lru'])
    t.match((await serviceOn(t, redis.url)).warnings, [
      {
        setting: 'maxmemory-policy',
        value: 'allkeys-lru',
        msg: /drops keys without a TTL too: passkeys and signing keys/,
      },
    ])
    await configure(redis.url, ['maxmemory-policy', 'volatile-ttl'])
    await t.rejects(serviceOn(t, redis.url, { REDIS_REQUIRE_DURABLE: '1' }), {
      message: /maxmemory-policy is volatile-ttl .*drops sessions and logins before their time/,
    })
    await configure(redis.url, ['maxmemory-policy', 'noeviction'])
    t.same((await serviceOn(t, redis.url)).warnings, [])
    await configure(redis.url, ['maxmemory', '0'], ['maxmemory-policy', 'allkeys-lru'])
    t.same((await serviceOn(t, redis.url)).warnings, [], 'without maxmemory nothing is ever evicted')
    await configure(redis.url, ['appendfsync', 'no'])
    t.match((await serviceOn(t, redis.url)).warnings, [{ setting: 'appendfsync', value: 'no' }])
  },
)

t.test('a Redis that cannot be reached at start: a warning, or with REDIS_REQUIRE_DURABLE=1 a refusal', async (t) => {
  const away = 'redis://127.0.0.1:9'
  const { app, warnings } = await serviceOn(t, away)
  t.ok(
    warnings.some(({ msg }) => /^Redis persistence not checked: Redis could not be reached/.test(msg)),
    'a warning says it was not checked',
  )
  t.equal((await app.inject({ url: '/readyz' })).json().code, 'STORE_UNAVAILABLE')
  await t.rejects(serviceOn(t, away, { REDIS_REQUIRE_DURABLE: '1' }), {
    message:
      /REDIS_REQUIRE_DURABLE=1, but what redis:\/\/127\.0\.0\.1:9 keeps cannot be checked: Redis could not be reached/,
  })
})

t.test('the service process refused by REDIS_REQUIRE_DURABLE=1 exits 1 at once, saying why', async (t) => {
  const redis = await privateRedis(t)
  const { code, output } = await runUntilExit({ STORE: 'redis', REDIS_URL: redis.url, REDIS_REQUIRE_DURABLE: '1' })
  t.equal(code, 1, output)
  t.match(
    output,
    /Cannot start: REDIS_REQUIRE_DURABLE=1, and redis:\/\/127\.0\.0\.1:\d+ would lose data: appendonly is no/,
  )
  t.notMatch(output, /is running/)
})

t.test('REDIS_REQUIRE_DURABLE takes 0/1 like the other switches', async (t) => {
  t.equal(loadConfig({ STORE: 'redis', REDIS_REQUIRE_DURABLE: '1' }).redisRequireDurable, true)
  t.equal(loadConfig({ STORE: 'redis' }).redisRequireDurable, false)
  t.throws(() => loadConfig({ REDIS_REQUIRE_DURABLE: 'maybe' }), /REDIS_REQUIRE_DURABLE/)
})
