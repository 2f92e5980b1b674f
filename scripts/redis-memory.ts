// Redis memory per login and per session, as Redis itself counts it (MEMORY USAGE).
// Run: node --import tsx scripts/redis-memory.ts   (needs Redis on REDIS_URL or 127.0.0.1:6379)
import { Redis } from 'ioredis'
import { buildApp } from '../apps/server/src/app.js'
import { loadConfig } from '../apps/server/src/config.js'

const prefix = `memory-usage:${process.pid}:`
const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379'
const app = await buildApp(
  loadConfig({
    STORE: 'redis',
    REDIS_URL: url,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    PUBLIC_URL: 'http://192.168.1.20:3000',
  }),
)
const redis = new Redis(url)
const chrome =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
try {
  const login = (await app.inject({ method: 'POST', url: '/api/qr', headers: { 'user-agent': chrome } })).json()
  const usage = async () => Number(await redis.memory('USAGE', `${prefix}login:{${login.id}}`, 'SAMPLES', '0'))
  const rows: [string, number][] = [['pending login', await usage()]]
  const phone = (
    await app.inject({ method: 'POST', url: '/api/mobile/session', payload: { username: 'alice', password: 'demo' } })
  ).json().token
  const auth = { authorization: `Bearer ${phone}` }
  await app.inject({ method: 'POST', url: `/api/qr/${login.id}/scan`, headers: auth })
  rows.push(['scanned login', await usage()])
  await app.inject({ method: 'POST', url: `/api/qr/${login.id}/confirm`, headers: auth })
  rows.push(['confirmed login', await usage()])
  await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    headers: { authorization: `Bearer ${login.watchToken}` },
  })
  rows.push(['consumed login', await usage()])
  const [sessionKey] = await redis.keys(`${prefix}session:*`)
  rows.push(['session', Number(await redis.memory('USAGE', sessionKey, 'SAMPLES', '0'))])
  for (const [what, bytes] of rows) console.log(`${what.padEnd(16)} ${bytes} bytes`)
} finally {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length) await redis.del(...keys)
  redis.disconnect()
  await app.close()
}
