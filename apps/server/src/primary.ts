import cluster from 'node:cluster'
import type { Config } from './config.js'
import { tlsMaterial } from './lib/tls.js'

/**
 * WORKERS=N: N processes on one port. node:cluster hands each new connection
 * to one of them; they share logins and status changes through Redis, as
 * separate instances behind a balancer do. A worker that dies is replaced and
 * its watchers reconnect to the others; SIGTERM or SIGINT drains every worker
 * within the grace period.
 */
export async function runPrimary(config: Config, graceMs: number, announce: (port: number) => void): Promise<void> {
  // Made once, here: workers making a self-signed certificate at the same time would race to write it.
  await tlsMaterial(config)
  const listened = new Set<number>()
  let stopping = false
  let exitCode = 0

  const live = () => Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined)
  const stop = (code: number) => {
    if (stopping) return
    stopping = true
    exitCode = code
    for (const worker of live()) worker.process.kill('SIGTERM')
    // Each worker has the same grace period for itself; this only catches one that hangs past it.
    setTimeout(() => {
      for (const worker of live()) worker.process.kill('SIGKILL')
      process.exit(1)
    }, graceMs + 2000).unref()
    if (live().length === 0) process.exit(exitCode)
  }

  cluster.on('listening', (worker, address) => {
    if (listened.has(worker.id)) return
    listened.add(worker.id)
    if (listened.size === config.workers) announce(address.port)
  })
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      // One still starting has no handler yet: the SIGTERM ends it at once, which is no failure.
      if (code !== 0 && listened.has(worker.id)) exitCode = 1
      if (live().length === 0) process.exit(exitCode)
      return
    }
    if (!listened.has(worker.id)) {
      // Replacing it would only fail again (a bad Redis URL, a port in use): stop, and say why above.
      console.error(`A worker could not start (${signal ?? `exit ${code}`}); stopping.`)
      return stop(1)
    }
    console.error(`Worker ${worker.process.pid} ended (${signal ?? `exit ${code}`}); starting another.`)
    cluster.fork()
  })
  process.once('SIGTERM', () => stop(0))
  process.once('SIGINT', () => stop(0))
  for (let i = 0; i < config.workers; i++) cluster.fork()
}
