import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { freePort } from '../../scripts/bench/free-port.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { Redis } from 'ioredis'

export const sharedRedisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'

/** A key prefix no other test run uses, so tests share the Redis server without seeing each other. */
export function uniquePrefix(label: string): string {
  return `qrtest:${label}:${process.pid}:${Date.now().toString(36)}:`
}

/** Deletes every key under a prefix when the test ends. */
export function cleanUpPrefix(t: Test, prefix: string, url = sharedRedisUrl): void {
  t.teardown(async () => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    try {
      await redis.connect()
      const found = await redis.keys(`${prefix}*`)
      if (found.length) await redis.del(...found)
    } catch {
      // the server may be gone (fault tests): nothing to clean
    } finally {
      redis.disconnect()
    }
  })
}

export { freePort }

/** A redis-server of the test's own on a spare port, so stopping it never disturbs the shared one. */
export async function privateRedis(t: Test, options: { persistent?: boolean } = {}) {
  const port = await freePort()
  // Persistent: every write is on disk before it is acknowledged, so a stopped server comes back with its data.
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', mkdtempSync(join(tmpdir(), 'qr-redis-'))]
    : ['--appendonly', 'no']
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
      stdio: 'ignore',
    })
    for (let attempt = 0; attempt < 100; attempt++) {
      const probe = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      })
      try {
        await probe.connect()
        await probe.ping()
        return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50))
      } finally {
        probe.disconnect()
      }
    }
    throw new Error('redis-server did not start')
  }
  const stop = async () => {
    if (!child || child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
  await start()
  t.teardown(stop)
  return { url: `redis://127.0.0.1:${port}`, port, start, stop }
}
