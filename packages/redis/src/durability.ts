import { Cluster, type ChainableCommander } from 'ioredis'
import type { RedisClient } from './client.js'

export interface Durability {
  /** Replicas that must hold a write before it is reported done (WAIT); 0 does not wait. */
  replicas: number
  /** How long to wait for them; past it the write stands, with fewer copies, and `onShortfall` is told. */
  timeoutMs: number
  onShortfall?: (acknowledged: number, wanted: number) => void
}

export const noWait: Durability = { replicas: 0, timeoutMs: 0 }

/**
 * Waits until `durability.replicas` replicas hold every write this connection made to the servers of
 * `keys` (WAIT, which counts the writes of the connection it is sent on). Each WAIT rides in a pipeline
 * with a read of its key, so on a cluster it reaches that key's master, over the connection the write
 * took. Too few copies is reported, never thrown: the write itself stands.
 */
export async function replicated(redis: RedisClient, keys: string[], durability: Durability): Promise<void> {
  const { replicas, timeoutMs, onShortfall } = durability
  if (replicas === 0 || keys.length === 0) return
  // One server: one WAIT covers every key. A cluster: one per key (a write of these stores touches few).
  const waitOn = redis instanceof Cluster ? [...new Set(keys)] : keys.slice(0, 1)
  const acknowledged = await Promise.all(
    waitOn.map(async (key) => {
      const results = (await redis.pipeline().exists(key).wait(replicas, timeoutMs).exec()) ?? []
      const [, [waitError, count]] = results as [unknown, [Error | null, number]]
      return waitError ? 0 : count
    }),
  )
  const fewest = Math.min(...acknowledged)
  if (fewest < replicas) onShortfall?.(fewest, replicas)
}

/**
 * Runs a write; with replicas to wait for, sends it with WAIT in one pipeline, so both reach the
 * same master (on a cluster, the one that owns the key) and WAIT covers this write.
 */
export async function durably<T>(
  redis: RedisClient,
  durability: Durability,
  write: () => Promise<T>,
  queue: (pipeline: ChainableCommander) => ChainableCommander,
): Promise<T> {
  const { replicas, timeoutMs, onShortfall } = durability
  if (replicas === 0) return write()
  const results = (await queue(redis.pipeline()).wait(replicas, timeoutMs).exec()) ?? []
  const [[writeError, written], [waitError, acknowledged]] = results as [[Error | null, T], [Error | null, number]]
  if (writeError) throw writeError
  // The write stands either way; too few copies is worth knowing, not worth failing a login for.
  if (waitError || acknowledged < replicas) onShortfall?.(waitError ? 0 : acknowledged, replicas)
  return written
}
