import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { freeClusterPort } from './free-port.js'

const run = promisify(execFile)

export interface ClusterNode {
  port: number
  process: ChildProcess
}

export interface RedisCluster {
  /** Seed nodes as REDIS_CLUSTER takes them. */
  seeds: string
  nodes: ClusterNode[]
  /** The node that serves a key's slot now. */
  masterOf(key: string): Promise<ClusterNode>
  /** Kills a node (SIGKILL) and resolves once a replica has taken over its slots and every node agrees. */
  killMaster(node: ClusterNode): Promise<ClusterNode>
  /** Kills every node and removes their files. */
  stop(): Promise<void>
  /** Runs a command on one node directly. */
  on(node: ClusterNode, ...args: (string | number)[]): Promise<unknown>
  /** Reads on a replica (READONLY first). */
  onReplica(node: ClusterNode, ...args: (string | number)[]): Promise<unknown>
  /** The nodes that are masters now. */
  masters(): Promise<ClusterNode[]>
  /** The replica of a master. */
  replicaOf(master: ClusterNode): Promise<ClusterNode>
}

async function command(port: number, ...args: (string | number)[]): Promise<unknown> {
  return onConnection(port, false, args)
}

/** Runs a command on one node; on a replica, `readonly` lets it read keys of its master's slots. */
async function onConnection(port: number, readonly: boolean, args: (string | number)[]): Promise<unknown> {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  // A node not up yet (or killed) is an answer to wait on, not an error to print.
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    if (readonly) await redis.call('READONLY')
    return await redis.call(String(args[0]), ...args.slice(1))
  } finally {
    redis.disconnect()
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * A Redis Cluster of a test's or a bench run's own: three masters with a replica each, on
 * spare ports, made with redis-cli as an operator would. A node missing its
 * master for a second (cluster-node-timeout) is failed over, so a killed
 * master's replica takes over within about two seconds.
 */
export async function startRedisCluster(size = { masters: 3, replicasEach: 1 }): Promise<RedisCluster> {
  const count = size.masters * (1 + size.replicasEach)
  const dir = mkdtempSync(join(tmpdir(), 'qr-cluster-'))
  const nodes: ClusterNode[] = []
  const stop = async () => {
    await Promise.all(
      nodes.map(async (node) => {
        if (node.process.exitCode !== null || node.process.signalCode !== null) return
        const exited = once(node.process, 'exit')
        node.process.kill('SIGKILL')
        await exited
      }),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    return await started()
  } catch (error) {
    await stop()
    throw error
  }

  /**
   * One node on a spare port, answering as itself. Tests that run at the same time pick ports too: a node
   * that lost its port to one of them exits at once, and is started again on another.
   */
  async function startNode(): Promise<ClusterNode> {
    for (let attempt = 1; ; attempt++) {
      const port = await freeClusterPort()
      const process = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '1000',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      )
      const node = { port, process }
      const exited = () => process.exitCode !== null || process.signalCode !== null
      const deadline = Date.now() + 20_000
      while (!exited() && Date.now() < deadline) {
        // Its own process_id, not only a PONG: the port may have gone to another test's node meanwhile.
        const info = await command(port, 'INFO', 'server').catch(() => '')
        if (String(info).includes(`process_id:${process.pid}\r`)) return node
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      if (!exited()) process.kill('SIGKILL')
      if (attempt === 5) throw new Error(`redis-server did not start on a spare port (last tried ${port})`)
    }
  }

  async function started(): Promise<RedisCluster> {
    for (let index = 0; index < count; index++) nodes.push(await startNode())
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    await run('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      String(size.replicasEach),
      '--cluster-yes',
    ])
    const live = () => nodes.filter((node) => node.process.exitCode === null && node.process.signalCode === null)
    const agreed = async () => {
      for (const node of live()) {
        const info = String(await command(node.port, 'CLUSTER', 'INFO'))
        if (!info.includes('cluster_state:ok')) return false
      }
      return true
    }
    await until('the cluster to agree', agreed)
    // A replica that has not finished its first sync acknowledges no WAIT: tests start once every one has.
    await until('every replica to be in sync', async () => {
      for (const node of nodes) {
        const info = String(await command(node.port, 'INFO', 'replication'))
        if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false
        if (info.includes('role:slave') && /master_sync_in_progress:1/.test(info)) return false
      }
      return true
    })

    const masterOf = async (key: string): Promise<ClusterNode> => {
      const probe = live()[0]
      const slot = Number(await command(probe.port, 'CLUSTER', 'KEYSLOT', key))
      for (;;) {
        const ranges = (await command(probe.port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][]
        const range = ranges.find(([from, to]) => slot >= from && slot <= to)
        const node = range && nodes.find((each) => each.port === range[2][1])
        if (node && live().includes(node)) return node
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }

    const killMaster = async (node: ClusterNode): Promise<ClusterNode> => {
      const myId = String(await command(node.port, 'CLUSTER', 'MYID'))
      const exited = once(node.process, 'exit')
      node.process.kill('SIGKILL')
      await exited
      let promoted: ClusterNode | undefined
      await until('a replica to take over', async () => {
        for (const each of live()) {
          const role = (await command(each.port, 'ROLE')) as [string]
          const shards = String(await command(each.port, 'CLUSTER', 'NODES'))
          const mine = shards.split('\n').find((line) => line.includes('myself'))
          // A replica of the dead node that now says it is a master has taken its slots.
          if (role[0] === 'master' && mine && shards.includes(myId) && wasReplicaOf(each, myId)) promoted = each
        }
        return promoted !== undefined && (await agreed())
      })
      return promoted!
    }
    const replicasOf = new Map<number, string>()
    for (const node of nodes) {
      const role = (await command(node.port, 'ROLE')) as [string, ...unknown[]]
      if (role[0] === 'slave') {
        const master = nodes.find((each) => each.port === Number(role[2]))
        if (master) replicasOf.set(node.port, String(await command(master.port, 'CLUSTER', 'MYID')))
      }
    }
    const wasReplicaOf = (node: ClusterNode, masterId: string) => replicasOf.get(node.port) === masterId

    return {
      seeds: addresses.slice(0, size.masters).join(','),
      stop,
      nodes,
      masterOf,
      killMaster,
      on: (node, ...args) => command(node.port, ...args),
      onReplica: (node, ...args) => onConnection(node.port, true, args),
      masters: async () => {
        const found: ClusterNode[] = []
        for (const node of live())
          if (((await command(node.port, 'ROLE')) as [string])[0] === 'master') found.push(node)
        return found
      },
      replicaOf: async (master) => {
        const id = String(await command(master.port, 'CLUSTER', 'MYID'))
        let found: ClusterNode | undefined
        await until('a replica', async () => {
          for (const node of live()) {
            const role = (await command(node.port, 'ROLE')) as [string, string, number]
            if (role[0] === 'slave' && Number(role[2]) === master.port) found = node
          }
          return found !== undefined && id.length > 0
        })
        return found!
      },
    }
  }
}
