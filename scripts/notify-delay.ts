// Confirm → notify delay, single instance versus across instances sharing Redis.
// Run: node --import tsx scripts/notify-delay.ts [logins=300]
// Each login gets a WebSocket watcher on instance A; the phone confirms on A
// (single) or on B (cross-instance). The delay is the server's own write time
// of the confirmed version (from the login's timeline) to the watcher's receipt;
// everything runs on this machine, so both clocks are the same clock.
import { spawn, type ChildProcess } from 'node:child_process'
import { QrLoginClient, type CreatedLogin } from '@qr-login/client'
import { nodeWebSocket } from '@qr-login/client/node'
import { freePort } from './bench/free-port.js'

const logins = Number(process.argv[2] ?? 300)
const children: ChildProcess[] = []

async function instance(env: Record<string, string>): Promise<string> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/server.ts'], {
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: 'http://qr.test',
      RATE_LIMIT_CREATE_PER_MINUTE: '1000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (chunk: Buffer) => /is running/.test(String(chunk)) && resolve()),
  )
  return `http://127.0.0.1:${port}`
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

async function measure(label: string, watchBase: string, confirmBase: string) {
  const watcher = new QrLoginClient({ baseUrl: watchBase, webSocket: nodeWebSocket })
  const phone = await new QrLoginClient({ baseUrl: confirmBase }).signInPhone('alice', 'demo')
  const delays: number[] = []
  for (let i = 0; i < logins; i++) {
    const login: CreatedLogin = await watcher.createLogin()
    let receivedAt = 0
    let listening!: () => void
    const ready = new Promise<void>((resolve) => (listening = resolve))
    const done = (async () => {
      for await (const status of watcher.watch(login, { transport: 'ws' })) {
        if (status.status === 'pending') listening()
        if (status.status === 'confirmed') receivedAt = Date.now()
      }
    })()
    await ready
    await phone.scan(login.id)
    await phone.confirm(login.id)
    await done
    const timeline = (await (
      await fetch(`${watchBase}/api/qr/${login.id}/timeline`, {
        headers: { authorization: `Bearer ${login.watchToken}` },
      })
    ).json()) as {
      changes: { version: number; at: number }[]
    }
    delays.push(receivedAt - timeline.changes.find((c) => c.version === 3)!.at)
  }
  delays.sort((a, b) => a - b)
  const row = {
    label,
    logins,
    p50: percentile(delays, 50),
    p90: percentile(delays, 90),
    p99: percentile(delays, 99),
    max: delays.at(-1)!,
  }
  console.log(
    `${label.padEnd(34)} p50 ${row.p50} ms  p90 ${row.p90} ms  p99 ${row.p99} ms  max ${row.max} ms  (n=${logins})`,
  )
  return row
}

try {
  const memory = await instance({ STORE: 'memory' })
  const prefix = `notify-delay:${process.pid}:`
  const redisA = await instance({ STORE: 'redis', REDIS_PREFIX: prefix })
  const redisB = await instance({ STORE: 'redis', REDIS_PREFIX: prefix })
  console.log('confirm → notify delay (ms resolution; WebSocket watcher; sequential logins)')
  await measure('single instance, memory store', memory, memory)
  await measure('single instance, Redis store', redisA, redisA)
  await measure('cross-instance (confirm on B), Redis', redisA, redisB)
} finally {
  for (const child of children) child.kill('SIGTERM')
}
