import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import type { Test } from 'tap'
import { freePort } from './redis.js'

export interface Instance {
  name: string
  /** The process's id (under WORKERS, the primary's). */
  pid: number
  port: number
  base: string
  exited: Promise<number | null>
  output(): string
  signal(signal: NodeJS.Signals): void
}

/** The real service in its own process (as `npm start` runs it), on a port of its own. */
export async function startInstance(t: Test, name: string, env: Record<string, string>): Promise<Instance> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/server.ts'], {
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    const check = () => /is running/.test(output) && resolve()
    child.stdout.on('data', check)
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${output}`)))
  })
  return {
    name,
    pid: child.pid!,
    port,
    base: `http://127.0.0.1:${port}`,
    exited,
    output: () => output,
    signal: (signal) => child.kill(signal),
  }
}

/**
 * A TCP load balancer in front of instances: each new connection goes to the
 * first backend that accepts it, so when one stops, clients land on the next
 * (no sticky sessions, as behind a real balancer after a failover).
 */
export async function balancer(t: Test, backends: () => number[]) {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.pause()
    const tryBackend = (index: number) => {
      const ports = backends()
      if (index >= ports.length) return client.destroy()
      const upstream = connect(ports[index], '127.0.0.1')
      upstream.once('error', () => tryBackend(index + 1))
      upstream.once('connect', () => {
        upstream.removeAllListeners('error')
        sockets.add(upstream)
        upstream.on('close', () => sockets.delete(upstream))
        upstream.on('error', () => client.destroy())
        client.on('error', () => upstream.destroy())
        client.pipe(upstream).pipe(client)
        client.resume()
      })
    }
    tryBackend(0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return { base: `http://127.0.0.1:${port}`, port }
}
