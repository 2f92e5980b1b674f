// npm run bench [-- --quick] [--out DIR]
// What each transport costs, against a bare node:http floor, on this machine.
// The server (and the floor) run in processes of their own, the load
// generator in another; this process only orchestrates and measures.
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { cpus, totalmem, release, tmpdir } from 'node:os'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Agent, request } from 'node:http'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { readFileSync, readdirSync } from 'node:fs'
import { Redis } from 'ioredis'
import type { BenchTransport, Job, Outcome } from './generator.js'
import { mergeOutcomes } from './outcomes.js'
import { writeReport } from './report.js'
import type { Scenario, ScenarioResult, SoakResult, SoakRound, ThroughputResult } from './results.js'
import { freePort } from './free-port.js'
import { startRedisCluster, type RedisCluster } from './redis-cluster.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    watchers: { type: 'string' },
    'skip-throughput': { type: 'boolean', default: false },
    /** Soak rounds (20 in the full run, 3 in the quick one). */
    rounds: { type: 'string' },
    /** How many times each scenario compared with the floor runs (3 in the full run, 1 in the quick one). */
    repeats: { type: 'string' },
    /** Extra node flags for the server, for profiling: --server-args="--cpu-prof --cpu-prof-dir=.bench/prof" */
    'server-args': { type: 'string' },
    /** Another build of the server to run (a checkout of an earlier commit, built): before → after in one session. */
    server: { type: 'string' },
    /** The single worker's confirm rates for the WORKERS rows, comma-separated (WORKERS=2 runs 1.7 times each). */
    ladder: { type: 'string' },
  },
})
const quick = values.quick
const outPrefix = values.out ?? (quick ? '.bench/benchmarks' : 'docs/benchmarks')
const serverBundle = values.server ?? 'apps/server/dist/server.js'
const sources = Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 2}`)

/** --watchers N shrinks every scenario (the test suite runs the harness at 20 per transport). */
const sized = (watchers: number) => (values.watchers ? Number(values.watchers) : watchers)
const count = (n: number) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n))
function scenario(
  transport: BenchTransport,
  store: Scenario['store'],
  watchers: number,
  confirmRate: number,
  crossInstance = false,
  scan: Scenario['scan'] = 'set-up',
  processes: { workers?: number; generators?: number } = {},
): Scenario {
  const size = sized(watchers)
  const label = [
    store === 'floor' ? 'floor' : '',
    transport,
    store === 'redis' || store === 'redis-cluster' || store === 'sqlite' ? store : '',
    crossInstance ? 'cross' : '',
    processes.workers ? `workers=${processes.workers}` : '',
  ]
  return {
    name: `${label.filter(Boolean).join(' ')} ${count(size)} @${confirmRate}/s`,
    transport,
    store,
    ...(crossInstance ? { crossInstance } : {}),
    ...processes,
    watchers: size,
    confirmRate,
    scan,
  }
}

/**
 * Issue 14: one process on Redis, then WORKERS=2 with twice the watchers (each worker and each generator at
 * 19,000, the fd ceiling here) and 1.7 times the rate, step by step up the same ladder of rates.
 */
const workersLadder = (rates: number[], watchersPerProcess: number) =>
  rates.flatMap((rate) => [
    scenario('ws', 'redis', watchersPerProcess, rate, false, 'set-up', { workers: 1 }),
    scenario('ws', 'redis', watchersPerProcess * 2, Math.round(rate * 1.7), false, 'set-up', {
      workers: 2,
      generators: 2,
    }),
  ])
/** The project next to the floor, the same load on both; with `sqlite`, on the default store too (issue 22). */
const againstFloor = (transport: BenchTransport, watchers: number, confirmRate: number, sqlite = false) => [
  scenario(transport, 'memory', watchers, confirmRate, false, 'measured'),
  ...(sqlite ? [scenario(transport, 'sqlite', watchers, confirmRate, false, 'measured')] : []),
  scenario(transport, 'floor', watchers, confirmRate, false, 'measured'),
]

/**
 * Compared scenarios run `repeats` times, project and floor alternating, and report the median of
 * each figure (issue 13's targets are medians of three); the others run once.
 */
const ladderRates = (values.ladder ?? '300,600,900,1200').split(',').map(Number)
const comparedScenarios: Scenario[] = quick
  ? (['sse', 'ws', 'long-poll'] as const).flatMap((transport) => againstFloor(transport, 300, 200, true))
  : [
      ...(['sse', 'ws', 'long-poll'] as const).flatMap((transport) => againstFloor(transport, 5000, 200, true)),
      // 19,000: the most one process may hold here (ulimit -n is 20,000).
      ...againstFloor('ws', 19_000, 1000),
    ]
const singleScenarios: Scenario[] = quick
  ? [
      scenario('poll', 'memory', 300, 200),
      scenario('socket.io', 'memory', 300, 200),
      scenario('socket.io-ws', 'memory', 300, 200),
      scenario('ws', 'redis', 300, 200),
      scenario('ws', 'redis', 300, 200, true),
      scenario('ws', 'redis-cluster', 300, 200),
      scenario('ws', 'redis-cluster', 300, 200, true),
      ...workersLadder([200], 150),
    ]
  : [
      ...(['sse', 'ws', 'long-poll'] as const).map((transport) => scenario(transport, 'memory', 10_000, 1000)),
      // Issue 22: the default store holding 10,000 watchers.
      scenario('ws', 'sqlite', 10_000, 1000),
      scenario('poll', 'memory', 2000, 200),
      ...(['socket.io', 'socket.io-ws'] as const).flatMap((transport) => [
        scenario(transport, 'memory', 5000, 200),
        scenario(transport, 'memory', 10_000, 1000),
      ]),
      scenario('ws', 'redis', 5000, 200),
      scenario('ws', 'redis', 5000, 200, true),
      scenario('ws', 'redis-cluster', 5000, 200),
      scenario('ws', 'redis-cluster', 5000, 200, true),
      ...workersLadder(ladderRates, 19_000),
    ]
const repeats = values.repeats ? Number(values.repeats) : quick ? 1 : 3

/** SIGTERM first (a profiled server writes its profile on the way out), SIGKILL if it lingers. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

interface Server {
  base: string
  child: ChildProcess
  lines: string[]
  waitLine(pattern: RegExp): Promise<void>
}

async function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<Server> {
  const port = await freePort()
  const extra = values['server-args']?.split(' ').filter(Boolean) ?? []
  const child = spawn(process.execPath, ['--expose-gc', ...extra, ...args], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines: string[] = []
  const waiters: { pattern: RegExp; resolve: () => void }[] = []
  let buffer = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    for (const line of parts) {
      lines.push(line)
      if (process.env.BENCH_ECHO_SERVER) console.log(`  server: ${line}`)
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve()
        }
      }
    }
  })
  const server: Server = {
    base: `http://127.0.0.1:${port}`,
    child,
    lines,
    waitLine: (pattern) => new Promise((resolve) => waiters.push({ pattern, resolve })),
  }
  const up = server.waitLine(ready)
  await up
  return server
}

const serverEnv = (extra: Record<string, string> = {}) => ({
  QR_TTL_SECONDS: '900',
  CONFIRM_WINDOW_SECONDS: '900',
  EXCHANGE_WINDOW_SECONDS: '900',
  POLL_INTERVAL_MS: '1000',
  PUBLIC_URL: 'http://192.0.2.1:3000',
  // The limits stay on (their counting is part of every request's cost) but are raised far past what the load needs:
  // the bench measures the transports, not the limiter's refusals.
  RATE_LIMIT_CREATE_PER_MINUTE: '10000000',
  RATE_LIMIT_POLLS_PER_INTERVAL: '10000000',
  RATE_LIMIT_SIGNIN_FAILURES_PER_IP: '10000000',
  MAX_WATCHERS_PER_LOGIN: '100000',
  MAX_WATCHERS_PER_IP: '100000',
  MAX_LIVE_LOGINS: '10000000',
  ...extra,
})

/** STORE=memory, or the default store (SQLite) in a DATA_DIR of its own. */
const storeEnv = (store: 'memory' | 'sqlite'): Record<string, string> =>
  store === 'memory' ? { STORE: 'memory' } : { STORE: 'sqlite', DATA_DIR: mkdtempSync(join(tmpdir(), 'qr-bench-')) }

const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 })
function call(method: string, url: string, token?: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {}
    if (token) headers.authorization = `Bearer ${token}`
    if (body) headers['content-type'] = 'application/json'
    const req = request(url, { method, agent: keepAlive, headers }, (response) => {
      let text = ''
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function inBatches<T>(count: number, size: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = []
  for (let start = 0; start < count; start += size) {
    results.push(
      ...(await Promise.all(Array.from({ length: Math.min(size, count - start) }, (_, i) => make(start + i)))),
    )
  }
  return results
}

/** Memory after a full GC and CPU time so far, as the server itself reports them. */
async function serverFigures(
  server: Server,
  floor: boolean,
): Promise<{ rss: number; heap: number; cpuSeconds: number; systemCpuSeconds: number }> {
  if (floor) {
    const { body } = await call('GET', `${server.base}/memory`)
    const usage = JSON.parse(body) as { rss: number; heapUsed: number; cpuSeconds: number; systemCpuSeconds: number }
    return {
      rss: usage.rss,
      heap: usage.heapUsed,
      cpuSeconds: usage.cpuSeconds,
      systemCpuSeconds: usage.systemCpuSeconds,
    }
  }
  const collected = server.waitLine(/^gc:done$/)
  server.child.kill('SIGUSR2')
  await collected
  const { body } = await call('GET', `${server.base}/metrics`)
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(body)?.[1] ?? NaN)
  return {
    rss: metric('process_resident_memory_bytes'),
    heap: metric('nodejs_heap_size_used_bytes'),
    cpuSeconds: metric('process_cpu_seconds_total'),
    systemCpuSeconds: metric('process_cpu_system_seconds_total'),
  }
}

function generator(): { child: ChildProcess; ask<T>(message: object, reply: string): Promise<T> } {
  const child = fork(new URL('./generator.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return {
    child,
    ask: (message, reply) =>
      new Promise((resolve, reject) => {
        const onMessage = (answer: { type: string; error?: string }) => {
          if (answer.type === 'failed') reject(new Error(answer.error))
          if (answer.type !== reply) return
          child.off('message', onMessage)
          resolve(answer as never)
        }
        child.on('message', onMessage)
        child.send(message)
      }),
  }
}

/** The logins of a round, created (not measured; the generator scans and confirms them). */
function createdLogins(server: Server, count: number): Promise<{ id: string; token: string }[]> {
  return inBatches(count, 64, async () => {
    const created = JSON.parse((await call('POST', `${server.base}/api/qr`)).body) as { id: string; watchToken: string }
    return { id: created.id, token: created.watchToken }
  })
}

async function phoneSession(server: Server): Promise<string> {
  const { body } = await call(
    'POST',
    `${server.base}/api/mobile/session`,
    undefined,
    '{"username":"alice","password":"demo"}',
  )
  return (JSON.parse(body) as { token: string }).token
}

/**
 * Rounds of logins against one server process (WebSocket watchers, as a PC page holds them): each
 * round's logins are watched, confirmed at a steady rate, then left to expire (the exchange window)
 * and be forgotten (retention). Memory is read after a forced GC at the end of every round, so a
 * leak shows as a slope; a last reading after the retention has passed gives what retention costs.
 */
async function soak(): Promise<SoakResult> {
  const rounds = values.rounds ? Number(values.rounds) : quick ? 3 : 20
  const loginsPerRound = values.watchers ? Number(values.watchers) : quick ? 300 : 5000
  const confirmRate = 200
  const exchangeWindowSeconds = quick ? 1 : 5
  const retentionSeconds = quick ? 3 : 60
  // The default store: what a deployment that changes nothing runs on, its file measured each round.
  const dataDir = mkdtempSync(join(tmpdir(), 'qr-soak-'))
  const databaseMB = () =>
    Math.round(
      (['qr-login.db', 'qr-login.db-wal']
        .map((file) => (existsSync(join(dataDir, file)) ? statSync(join(dataDir, file)).size : 0))
        .reduce((sum, size) => sum + size, 0) /
        1024 /
        1024) *
        10,
    ) / 10
  const server = await startProcess(
    [serverBundle],
    serverEnv({
      STORE: 'sqlite',
      DATA_DIR: dataDir,
      EXCHANGE_WINDOW_SECONDS: String(exchangeWindowSeconds),
      RETENTION_SECONDS: String(retentionSeconds),
    }),
    /is running/,
  )
  const load = generator()
  try {
    const phoneToken = await phoneSession(server)
    const results: SoakRound[] = []
    const endedAt: number[] = []
    for (let round = 1; round <= rounds; round++) {
      const logins = await createdLogins(server, loginsPerRound)
      const job: Job = {
        transport: 'ws',
        base: server.base,
        confirmBase: server.base,
        logins,
        phoneToken,
        confirmRate,
        sources,
        pollIntervalMs: 1000,
        settleMs: 15_000,
        scanFirst: true,
      }
      await load.ask({ type: 'open', job }, 'opened')
      const { outcome } = await load.ask<{ outcome: Outcome }>({ type: 'confirm' }, 'done')
      endedAt.push(Date.now())
      const figures = await serverFigures(server, false)
      const row: SoakRound = {
        round,
        logins: loginsPerRound,
        p50: outcome.delayMs.p50,
        p99: outcome.delayMs.p99,
        lost: outcome.lost,
        errors: outcome.errors,
        rssMB: Math.round((figures.rss / 1024 / 1024) * 10) / 10,
        heapMB: Math.round((figures.heap / 1024 / 1024) * 10) / 10,
        databaseMB: databaseMB(),
      }
      results.push(row)
      console.log(
        `soak round ${String(round).padStart(2)}  ${loginsPerRound} logins  p50 ${row.p50}  p99 ${row.p99} ms  ` +
          `lost ${row.lost}  errors ${row.errors}  after GC: RSS ${row.rssMB} MB  heap ${row.heapMB} MB  ` +
          `database ${row.databaseMB} MB`,
      )
    }
    // Logins still held at the last reading: those whose exchange window and retention had not yet run out.
    const lastReading = endedAt.at(-1)!
    const keptMs = (exchangeWindowSeconds + retentionSeconds) * 1000
    const retainedLogins = endedAt.filter((at) => lastReading - at < keptMs).length * loginsPerRound
    await new Promise((resolve) => setTimeout(resolve, keptMs + 2000))
    const drained = await serverFigures(server, false)
    const last = results.at(-1)!
    const reference = results[Math.min(4, results.length - 1)]
    const change = (now: number, then: number) => Math.round(((now - then) / then) * 1000) / 10
    const result: SoakResult = {
      transport: 'ws',
      rounds: results,
      loginsPerRound,
      confirmRate,
      retentionSeconds,
      exchangeWindowSeconds,
      drainedHeapMB: Math.round((drained.heap / 1024 / 1024) * 10) / 10,
      drainedRssMB: Math.round((drained.rss / 1024 / 1024) * 10) / 10,
      heapPerRetainedLoginKB:
        Math.round(((last.heapMB * 1024 * 1024 - drained.heap) / Math.max(1, retainedLogins) / 1024) * 100) / 100,
      retainedLogins,
      p50Change: change(last.p50, reference.p50),
      rssChange: change(last.rssMB, reference.rssMB),
      databaseChange: change(last.databaseMB, reference.databaseMB),
    }
    console.log(
      `soak: round ${last.round} against round ${reference.round}: p50 ${result.p50Change}%, RSS ${result.rssChange}%, ` +
        `database ${result.databaseChange}%; ` +
        `drained: RSS ${result.drainedRssMB} MB, heap ${result.drainedHeapMB} MB; ` +
        `${result.heapPerRetainedLoginKB} KB of heap per retained login (${retainedLogins} retained)`,
    )
    return result
  } finally {
    await Promise.all([stop(load.child), stop(server.child)])
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : Math.round(((sorted[middle - 1] + sorted[middle]) / 2) * 100) / 100
}

/** Each figure the median of the runs (so one figure may come from another run than the next); losses and errors add up. */
function medianOf(runs: ScenarioResult[]): ScenarioResult {
  if (runs.length === 1) return runs[0]
  const of = (pick: (r: ScenarioResult) => number) => median(runs.map(pick))
  const outcomes = runs.map((r) => r.outcome)
  return {
    ...runs[0],
    outcome: {
      ...outcomes[0],
      opened: Math.min(...outcomes.map((o) => o.opened)),
      received: Math.min(...outcomes.map((o) => o.received)),
      lost: outcomes.reduce((sum, o) => sum + o.lost, 0),
      errors: outcomes.reduce((sum, o) => sum + o.errors, 0),
      errorSamples: outcomes.flatMap((o) => o.errorSamples).slice(0, 10),
      delayMs: {
        p50: of((r) => r.outcome.delayMs.p50),
        p90: of((r) => r.outcome.delayMs.p90),
        p99: of((r) => r.outcome.delayMs.p99),
        max: of((r) => r.outcome.delayMs.max),
        mean: of((r) => r.outcome.delayMs.mean),
      },
      bytesPerLogin: of((r) => r.outcome.bytesPerLogin),
      requestsPerLogin: of((r) => r.outcome.requestsPerLogin),
      confirmSeconds: of((r) => r.outcome.confirmSeconds),
    },
    rssPerWatcherKB: of((r) => r.rssPerWatcherKB),
    heapPerWatcherKB: of((r) => r.heapPerWatcherKB),
    rssBaselineMB: of((r) => r.rssBaselineMB),
    cpuMsPerLogin: of((r) => r.cpuMsPerLogin),
    systemCpuMsPerLogin: of((r) => r.systemCpuMsPerLogin),
    runs: runs.map((r) => ({
      p50: r.outcome.delayMs.p50,
      p99: r.outcome.delayMs.p99,
      cpuMsPerLogin: r.cpuMsPerLogin,
      rssPerWatcherKB: r.rssPerWatcherKB,
    })),
  }
}

async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const processes: ChildProcess[] = []
  let cluster: RedisCluster | undefined
  let redisNodes: { port: number }[] = []
  try {
    let watchServer: Server
    let confirmServer: Server
    const prefix = `bench:${process.pid}:${Date.now()}:`
    if (scenario.store === 'redis-cluster') {
      cluster = await startRedisCluster()
      redisNodes = await cluster.masters()
    }
    if (scenario.store === 'floor') {
      watchServer = confirmServer = await startProcess(
        ['--import', 'tsx', 'scripts/bench/floor.ts'],
        {},
        /^floor:listening/,
      )
    } else {
      const env = serverEnv({
        ...(scenario.store === 'memory' || scenario.store === 'sqlite' ? storeEnv(scenario.store) : {}),
        ...(scenario.store === 'redis' ? { STORE: 'redis', REDIS_PREFIX: prefix } : {}),
        ...(cluster ? { STORE: 'redis', REDIS_CLUSTER: cluster.seeds, REDIS_PREFIX: prefix } : {}),
        ...(scenario.workers ? { WORKERS: String(scenario.workers) } : {}),
      })
      watchServer = await startProcess([serverBundle], env, /is running/)
      confirmServer = scenario.crossInstance ? await startProcess([serverBundle], env, /is running/) : watchServer
    }
    processes.push(watchServer.child, confirmServer.child)
    const floor = scenario.store === 'floor'
    const onRedis = scenario.store === 'redis' || scenario.store === 'redis-cluster'
    if (scenario.store === 'redis') redisNodes = [{ port: 6379 }]
    // Under WORKERS the figures are the whole process tree's, read from /proc (each worker answers its own /metrics).
    const figures = (server: Server) =>
      scenario.workers ? treeFigures(server.child.pid!) : serverFigures(server, floor)
    const redisBefore = onRedis ? await redisMemory(redisNodes) : 0
    const commandsBefore = cluster ? await redisCommands(redisNodes) : []

    // Set-up (not measured): the logins, a phone session, and the scans when they are not measured.
    const logins = await createdLogins(watchServer, scenario.watchers)
    const phoneToken = await phoneSession(confirmServer)
    if (scenario.scan === 'set-up')
      await inBatches(logins.length, 64, (i) =>
        call('POST', `${confirmServer.base}/api/qr/${logins[i].id}/scan`, phoneToken),
      )

    const before = await figures(watchServer)
    // Each generator takes its share of the logins, of the rate and of the source addresses.
    const generators = scenario.generators ?? 1
    const loads = Array.from({ length: generators }, () => generator())
    processes.push(...loads.map((load) => load.child))
    const share = <T>(items: T[], index: number) =>
      items.slice(
        Math.floor((items.length * index) / generators),
        Math.floor((items.length * (index + 1)) / generators),
      )
    const jobs: Job[] = loads.map((_, index) => ({
      transport: scenario.transport,
      base: watchServer.base,
      confirmBase: confirmServer.base,
      logins: share(logins, index),
      phoneToken,
      confirmRate: scenario.confirmRate / generators,
      sources: share(sources, index),
      pollIntervalMs: 1000,
      settleMs: scenario.transport === 'poll' ? 5000 : 15_000,
      scanFirst: scenario.scan === 'measured',
    }))
    await Promise.all(loads.map((load, index) => load.ask({ type: 'open', job: jobs[index] }, 'opened')))
    const held = await figures(watchServer)
    const cpuBefore = machineCpu()
    const redisHeld = onRedis ? await redisMemory(redisNodes) : 0
    const heardBefore = onRedis && !scenario.workers ? await heard([watchServer, confirmServer]) : 0
    const outcome = mergeOutcomes(
      await Promise.all(loads.map((load) => load.ask<{ outcome: Outcome }>({ type: 'confirm' }, 'done'))).then(
        (answers) => answers.map((answer) => answer.outcome),
      ),
    )
    const after = await figures(watchServer)
    const cpuAfter = machineCpu()
    const heardAfter = onRedis && !scenario.workers ? await heard([watchServer, confirmServer]) : 0
    const commandsRun = cluster
      ? (await redisCommands(redisNodes)).map((commands, index) => commands - commandsBefore[index])
      : []
    const cpuSeconds = after.cpuSeconds - held.cpuSeconds
    const systemCpuSeconds = after.systemCpuSeconds - held.systemCpuSeconds
    const result: ScenarioResult = {
      ...scenario,
      outcome,
      rssPerWatcherKB: Math.round(((held.rss - before.rss) / scenario.watchers / 1024) * 10) / 10,
      heapPerWatcherKB: Math.round(((held.heap - before.heap) / scenario.watchers / 1024) * 10) / 10,
      rssBaselineMB: Math.round(before.rss / 1024 / 1024),
      cpuMsPerLogin: Math.round((cpuSeconds / scenario.watchers) * 1000 * 100) / 100,
      systemCpuMsPerLogin: Math.round((systemCpuSeconds / scenario.watchers) * 1000 * 100) / 100,
      machineBusyPercent: Math.round(((cpuAfter.busy - cpuBefore.busy) / (cpuAfter.total - cpuBefore.total)) * 100),
      ...(onRedis
        ? {
            redis: {
              bytesPerLiveLogin: Math.round((redisHeld - redisBefore) / scenario.watchers),
              ...(scenario.workers
                ? {}
                : {
                    messagesPerChange:
                      Math.round(
                        ((heardAfter - heardBefore) / (scenario.watchers * (scenario.scan === 'measured' ? 2 : 1))) *
                          100,
                      ) / 100,
                  }),
              ...(cluster
                ? {
                    busiestMasterPercent: Math.round(
                      (Math.max(...commandsRun) / commandsRun.reduce((sum, commands) => sum + commands, 0)) * 100,
                    ),
                  }
                : {}),
            },
          }
        : {}),
    }
    const d = outcome.delayMs
    console.log(
      `${scenario.name.padEnd(28)} held ${outcome.opened}/${scenario.watchers}  lost ${outcome.lost}  errors ${outcome.errors}  ` +
        `p50 ${d.p50}  p90 ${d.p90}  p99 ${d.p99}  max ${d.max} ms  RSS/watcher ${result.rssPerWatcherKB} KB  heap/watcher ${result.heapPerWatcherKB} KB  ` +
        `${outcome.bytesPerLogin} B & ${outcome.requestsPerLogin} req/login  CPU ${result.cpuMsPerLogin} ms/login ` +
        `(kernel ${result.systemCpuMsPerLogin})  machine ${result.machineBusyPercent} % busy` +
        (result.redis
          ? `  Redis ${result.redis.bytesPerLiveLogin} B/login` +
            (result.redis.messagesPerChange !== undefined ? `, ${result.redis.messagesPerChange} msg/change` : '') +
            (result.redis.busiestMasterPercent !== undefined
              ? `, busiest master ${result.redis.busiestMasterPercent} % of commands`
              : '')
          : ''),
    )
    if (outcome.errorSamples.length) console.log(`  errors: ${outcome.errorSamples.join(' | ')}`)
    return result
  } finally {
    await Promise.all([...new Set(processes)].map(stop))
    await cluster?.stop()
  }
}

/**
 * Memory summed over Redis nodes (a cluster's masters: its replicas hold the same again): used_memory less the
 * replication backlog and the replicas' output buffers, which grow with writes up to a fixed size, not per login.
 */
async function redisMemory(nodes: { port: number }[]): Promise<number> {
  const fields = await Promise.all(nodes.map((node) => infoFields(node.port, 'memory')))
  return fields.reduce(
    (total, field) => total + field('used_memory') - field('mem_replication_backlog') - field('mem_clients_slaves'),
    0,
  )
}

/** Commands each node has run so far (INFO stats total_commands_processed), in the order given. */
async function redisCommands(nodes: { port: number }[]): Promise<number[]> {
  const fields = await Promise.all(nodes.map((node) => infoFields(node.port, 'stats')))
  return fields.map((field) => field('total_commands_processed'))
}

/** One section of a Redis node's INFO, as a reader of its numeric fields. */
async function infoFields(port: number, section: string): Promise<(name: string) => number> {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    const info = await redis.info(section)
    return (name) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN)
  } finally {
    redis.disconnect()
  }
}

/** Status messages heard from Redis so far, summed over the scenario's instances. */
async function heard(servers: Server[]): Promise<number> {
  let total = 0
  for (const server of new Set(servers)) {
    const { body } = await call('GET', `${server.base}/metrics`)
    total += Number(/^qr_status_messages_heard (\S+)/m.exec(body)?.[1] ?? NaN)
  }
  return total
}

/** The machine's CPU time so far, all cores, from /proc/stat: busy (not idle or waiting) and in all. */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((sum, value) => sum + value, 0)
  return { busy: total - fields[3] - fields[4], total }
}

/**
 * RSS and CPU time of a process and all its descendants, from /proc (Linux): a WORKERS server's primary and
 * workers together. Without a forced GC, so RSS here is not comparable with the single-process rows'.
 */
function treeFigures(root: number): { rss: number; heap: number; cpuSeconds: number; systemCpuSeconds: number } {
  const stats = new Map<number, string[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // The command name may hold spaces: the fields start after its closing parenthesis.
      stats.set(Number(entry), text.slice(text.lastIndexOf(')') + 2).split(' '))
    } catch {
      // gone since it was listed
    }
  }
  const tree = new Set([root])
  for (let grew = true; grew;) {
    grew = false
    for (const [pid, fields] of stats)
      if (!tree.has(pid) && tree.has(Number(fields[1]))) {
        tree.add(pid)
        grew = true
      }
  }
  const ticks = 100
  let user = 0
  let system = 0
  let rssPages = 0
  for (const pid of tree) {
    const fields = stats.get(pid)
    if (!fields) continue
    user += Number(fields[11])
    system += Number(fields[12])
    rssPages += Number(fields[21])
  }
  return { rss: rssPages * 4096, heap: NaN, cpuSeconds: (user + system) / ticks, systemCpuSeconds: system / ticks }
}

async function throughput(): Promise<ThroughputResult[]> {
  const results: ThroughputResult[] = []
  for (const store of ['memory', 'sqlite'] as const) results.push(...(await throughputOn(store)))
  return results
}

async function throughputOn(store: 'memory' | 'sqlite'): Promise<ThroughputResult[]> {
  const server = await startProcess([serverBundle], serverEnv(storeEnv(store)), /is running/)
  try {
    const created = JSON.parse((await call('POST', `${server.base}/api/qr`)).body) as { id: string; watchToken: string }
    const seconds = quick ? 3 : 10
    const runs: { name: string; url: string; method: 'GET' | 'POST'; headers?: Record<string, string> }[] = [
      { name: `POST /api/qr (create, no image), ${store}`, url: `${server.base}/api/qr`, method: 'POST' },
      { name: `GET /api/qr/:id/qr.svg, ${store}`, url: `${server.base}/api/qr/${created.id}/qr.svg`, method: 'GET' },
      {
        name: `GET /api/qr/:id (short-poll read), ${store}`,
        url: `${server.base}/api/qr/${created.id}`,
        method: 'GET',
        headers: { authorization: `Bearer ${created.watchToken}` },
      },
    ]
    const results: ThroughputResult[] = []
    for (const run of runs) {
      const result = await autocannon({
        url: run.url,
        method: run.method,
        headers: run.headers,
        connections: 100,
        duration: seconds,
        pipelining: 1,
      })
      const row = {
        name: run.name,
        connections: 100,
        seconds,
        requestsPerSecond: Math.round(result.requests.average),
        p99Ms: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
      }
      console.log(
        `${row.name.padEnd(44)} ${row.requestsPerSecond} req/s  p99 ${row.p99Ms} ms  non-2xx ${row.non2xx}  errors ${row.errors}`,
      )
      results.push(row)
    }
    return results
  } finally {
    await stop(server.child)
  }
}

const started = Date.now()
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGB: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  kernel: release(),
}
console.log(`bench (${quick ? 'quick' : 'full'}) on ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`)
const only = values.only ? new RegExp(values.only) : undefined
const chosen = (list: Scenario[]) => list.filter((s) => !only || only.test(s.name))
const runsOf = new Map<string, ScenarioResult[]>()
for (let run = 1; run <= repeats; run++) {
  for (const scenario of chosen(comparedScenarios)) {
    if (repeats > 1) console.log(`run ${run} of ${repeats}:`)
    runsOf.set(scenario.name, [...(runsOf.get(scenario.name) ?? []), await runScenario(scenario)])
  }
}
const results: ScenarioResult[] = chosen(comparedScenarios).map((s) => medianOf(runsOf.get(s.name)!))
for (const scenario of chosen(singleScenarios)) results.push(await runScenario(scenario))
const soaked = only && !only.test('soak') ? undefined : await soak()
const rates = values['skip-throughput'] || (only && !only.test('throughput')) ? [] : await throughput()
keepAlive.destroy()
const report = {
  date: new Date().toISOString(),
  command: `npm run bench${quick ? ' -- --quick' : ''}`,
  machine,
  seconds: Math.round((Date.now() - started) / 1000),
  scenarios: results,
  throughput: rates,
  ...(soaked ? { soak: soaked } : {}),
}
mkdirSync(dirname(outPrefix), { recursive: true })
writeFileSync(`${outPrefix}.json`, JSON.stringify(report, null, 2) + '\n')
writeReport(outPrefix, report)
console.log(`wrote ${outPrefix}.md, .json and .svg in ${report.seconds} s`)
const failed = [
  ...results.filter((r) => r.outcome.lost > 0 || r.outcome.errors > 0).map((r) => r.name),
  ...(soaked?.rounds.filter((r) => r.lost > 0 || r.errors > 0).map((r) => `soak round ${r.round}`) ?? []),
]
if (failed.length) {
  console.error(`lost notifications or errors in: ${failed.join(', ')}`)
  process.exitCode = 1
}
