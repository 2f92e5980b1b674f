import { Cluster, type Redis } from 'ioredis'
import type { RedisClient } from './client.js'

/** A Redis setting under which what a client was told succeeded could be lost. */
export interface PersistenceRisk {
  /** host:port of the server (on a cluster, each master is read). */
  node: string
  /** The setting, as CONFIG GET names it. */
  setting: 'appendonly' | 'appendfsync' | 'maxmemory-policy'
  value: string
  /** What would be lost, in a sentence. */
  loses: string
}

export type PersistenceReading = { risks: PersistenceRisk[] } | { unreadable: string }

/**
 * Reads, with CONFIG GET, what each server would lose: persistence off (or left to the OS), and an
 * eviction policy that drops keys under memory pressure. Passkeys and signing keys live without a
 * TTL; sessions and logins with one. `unreadable` when CONFIG is not allowed (managed Redis often
 * renames it) or the server cannot be reached.
 */
export async function readPersistence(client: RedisClient): Promise<PersistenceReading> {
  const servers: Redis[] = client instanceof Cluster ? client.nodes('master') : [client]
  const risks: PersistenceRisk[] = []
  try {
    for (const server of servers) {
      const node = `${server.options.host}:${server.options.port}`
      const get = async (name: string) => ((await server.config('GET', name)) as string[])[1] ?? ''
      const [appendonly, appendfsync, save, maxmemory, policy] = [
        await get('appendonly'),
        await get('appendfsync'),
        await get('save'),
        await get('maxmemory'),
        await get('maxmemory-policy'),
      ]
      if (appendonly !== 'yes')
        risks.push({
          node,
          setting: 'appendonly',
          value: appendonly,
          loses: save.trim()
            ? `a restart of Redis loses every write since its last RDB snapshot (save "${save}")`
            : 'Redis keeps nothing on disk (save is empty too): a restart loses every login, session, passkey and signing key',
        })
      else if (appendfsync === 'no')
        risks.push({
          node,
          setting: 'appendfsync',
          value: appendfsync,
          loses: 'the operating system decides when writes reach the disk: a crash of the machine loses the latest',
        })
      if (maxmemory !== '0' && policy !== 'noeviction')
        risks.push({
          node,
          setting: 'maxmemory-policy',
          value: policy,
          loses: policy.startsWith('allkeys-')
            ? `at maxmemory (${maxmemory} bytes) Redis drops keys without a TTL too: passkeys and signing keys`
            : `at maxmemory (${maxmemory} bytes) Redis drops sessions and logins before their time`,
        })
    }
  } catch (error) {
    return { unreadable: (error as Error)?.message ?? String(error) }
  }
  return { risks }
}
