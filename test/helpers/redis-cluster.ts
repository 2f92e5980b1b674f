import type { Test } from 'tap'
import { startRedisCluster, type RedisCluster } from '../../scripts/bench/redis-cluster.js'

export type { ClusterNode, RedisCluster } from '../../scripts/bench/redis-cluster.js'

/** A 3-master, 3-replica Redis Cluster of the test's own, gone when the test ends. */
export async function redisCluster(t: Test, size?: { masters: number; replicasEach: number }): Promise<RedisCluster> {
  const cluster = await startRedisCluster(size)
  t.teardown(cluster.stop)
  return cluster
}
