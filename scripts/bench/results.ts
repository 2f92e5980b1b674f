/**
 * What a bench run measures, row by row: the shapes index.ts fills and report.ts writes out (a module of
 * their own, so neither imports the other).
 */
import type { BenchTransport, Outcome } from './generator.js'

export interface Scenario {
  name: string
  transport: BenchTransport
  /**
   * floor: the bare node:http + ws server (scripts/bench/floor.ts) doing the same job. redis: the machine's one
   * Redis server; redis-cluster: a 3-master, 3-replica cluster started for the scenario (REDIS_CLUSTER).
   */
  store: 'memory' | 'sqlite' | 'redis' | 'redis-cluster' | 'floor'
  crossInstance?: boolean
  /** WORKERS for the server (node:cluster processes on one port); 1 when absent. */
  workers?: number
  /** Load generator processes, each with its share of the watchers and of the rate (one holds 19,000 at most here). */
  generators?: number
  watchers: number
  confirmRate: number
  /**
   * measured: each login is scanned then confirmed in the measured phase (issue 13: CPU per login is
   * scan + confirm + notify). set-up: scanned before, only the confirm measured (the earlier issues'
   * targets, so their rows stay comparable from run to run).
   */
  scan: 'measured' | 'set-up'
}

/** One scenario's figures; for a compared scenario, the median of its runs, each run kept. */
export interface ScenarioResult extends Scenario {
  outcome: Outcome
  rssPerWatcherKB: number
  heapPerWatcherKB: number
  rssBaselineMB: number
  cpuMsPerLogin: number
  /** Of cpuMsPerLogin, the part spent in the kernel (sockets, the loopback's TCP, scheduling). */
  systemCpuMsPerLogin: number
  runs?: RunFigures[]
  /** Redis rows: its memory per live login (summed over masters on a cluster) and status messages per change. */
  redis?: RedisFigures
  /** How busy the machine's cores were in the measured phase (server, generators and Redis together), in %. */
  machineBusyPercent?: number
}

export interface RedisFigures {
  /** (used_memory with the logins held − before they were made) / logins; masters only on a cluster. */
  bytesPerLiveLogin: number
  /** Status messages the instances heard from Redis in the measured phase, per status change made in it. */
  messagesPerChange?: number
  /**
   * A cluster: the busiest master's share of the commands the masters ran for the row (logins made, held,
   * scanned and confirmed), in %. An even spread over three masters is 33 %; one hot key shows above it.
   */
  busiestMasterPercent?: number
}

export interface RunFigures {
  p50: number
  p99: number
  cpuMsPerLogin: number
  rssPerWatcherKB: number
}

export interface SoakRound {
  round: number
  logins: number
  p50: number
  p99: number
  lost: number
  errors: number
  /** After a forced GC, at the end of the round. */
  rssMB: number
  heapMB: number
  /** The database file and its write-ahead log, in MB (the soak runs on SQLite, the default store). */
  databaseMB: number
}

export interface SoakResult {
  transport: BenchTransport
  rounds: SoakRound[]
  loginsPerRound: number
  confirmRate: number
  retentionSeconds: number
  exchangeWindowSeconds: number
  /** Heap and RSS after GC with nothing retained (after the last round's logins were forgotten). */
  drainedHeapMB: number
  drainedRssMB: number
  /** What one finished login costs while it is retained: (heap after the last round − drained heap) / logins retained. */
  heapPerRetainedLoginKB: number
  retainedLogins: number
  /** Round N against round 5 (or the first when there are fewer): the flatness the issue asks for. */
  p50Change: number
  rssChange: number
  /** The same for the database's size on disk. */
  databaseChange: number
}

export interface ThroughputResult {
  name: string
  connections: number
  seconds: number
  requestsPerSecond: number
  p99Ms: number
  non2xx: number
  errors: number
}
