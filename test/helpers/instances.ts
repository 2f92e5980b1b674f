import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort } from './redis.js'
import { withOwnDataDir } from './data-dir.js'

/**
 * The service as `npm start` runs it: the bundle `npm run build` makes (npm test's pretest builds it).
 * Spawned from there rather than through tsx, each process starts in a fraction of the time.
 */
export const serverBundle = 'apps/server/dist/server.js'
if (!existsSync(serverBundle)) throw new Error(`${serverBundle} is missing: run npm run build (npm test does)`)

/** The service started and left to run until it exits by itself (a refusal at start): its exit code and output. */
export async function runUntilExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [serverBundle], {
    // On the default store, a DATA_DIR of its own (a start that is not refused makes the database there).
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'error', DATA_DIR: mkdtempSync(join(tmpdir(), 'qr-data-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, output }
}

export interface Instance {
  name: string
  /** The process's id (under WORKERS, the primary's). */
  pid: number
  port: number
  base: string
  exited: Promise<number | null>
  output(): string
  /** Resolves once what the process has printed satisfies `predicate`, checked as each chunk arrives. */
  untilOutput(predicate: (output: string) => boolean, what: string): Promise<void>
  signal(signal: NodeJS.Signals): void
}

/**
 * The real service in its own process (as `npm start` runs it), on a port of its own, or on `port` (a
 * service restarted where its pages' origin was, so passkeys and cookies still apply).
 */
export async function startInstance(
  t: Test,
  name: string,
  env: Record<string, string>,
  port?: number,
): Promise<Instance> {
  port ??= await freePort()
  const child = spawn(process.execPath, [serverBundle], {
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...withOwnDataDir(t, env) },
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
    untilOutput: (predicate, what) => untilOutput(child, () => output, predicate, what),
    signal: (signal) => child.kill(signal),
  }
}

function untilOutput(
  child: ChildProcessWithoutNullStreams | ReturnType<typeof spawn>,
  output: () => string,
  predicate: (output: string) => boolean,
  what: string,
  limitMs = 30_000,
): Promise<void> {
  if (predicate(output())) return Promise.resolve()
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!predicate(output())) return
      stop()
      resolve()
    }
    const timer = setTimeout(() => {
      stop()
      reject(new Error(`timed out waiting for ${what}:\n${output()}`))
    }, limitMs)
    const stop = () => {
      clearTimeout(timer)
      child.stdout?.off('data', check)
      child.stderr?.off('data', check)
    }
    // Listeners added after the ones that collect the output, so each check sees the chunk that woke it.
    child.stdout?.on('data', check)
    child.stderr?.on('data', check)
  })
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
