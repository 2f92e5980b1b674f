import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

// Keeps the benchmark harness working: every transport, the floor (scan, confirm and
// notify over SSE, WebSocket and long poll, as the project does) and the Redis
// scenarios at a tiny size. Asserts what must hold at any size — nothing lost,
// no errors — and never a timing.
t.test('the bench harness at 20 watchers per scenario: nothing lost, no errors', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'qr-bench-')), 'benchmarks')
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/bench/index.ts', '--quick', '--watchers', '20', '--skip-throughput', '--out', out],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const [code] = await once(child, 'exit')
  t.equal(code, 0, output)
  const report = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as {
    scenarios: {
      name: string
      transport: string
      store: string
      watchers: number
      outcome: { opened: number; received: number; lost: number; errors: number }
    }[]
    soak: { loginsPerRound: number; rounds: { round: number; lost: number; errors: number; heapMB: number }[] }
  }
  t.same(
    report.scenarios.filter((s) => s.store === 'floor').map((s) => s.transport),
    ['sse', 'ws', 'long-poll'],
    'the floor does the same job over SSE, WebSocket and long poll',
  )
  t.same([...new Set(report.scenarios.map((s) => s.transport))].sort(), [
    'long-poll',
    'poll',
    'socket.io',
    'socket.io-ws',
    'sse',
    'ws',
  ])
  for (const scenario of report.scenarios) {
    t.equal(scenario.watchers, 20, scenario.name)
    t.equal(scenario.outcome.opened, 20, `${scenario.name}: every watcher held`)
    t.equal(scenario.outcome.received, 20, `${scenario.name}: every confirmation arrived`)
    t.equal(scenario.outcome.lost, 0)
    t.equal(scenario.outcome.errors, 0)
  }
  t.equal(report.soak.loginsPerRound, 20)
  t.same(
    report.soak.rounds.map(({ round, lost, errors }) => ({ round, lost, errors })),
    [1, 2, 3].map((round) => ({ round, lost: 0, errors: 0 })),
    'the soak: three rounds, nothing lost, no errors',
  )
  t.ok(
    report.soak.rounds.every((round) => round.heapMB > 0),
    'memory read after each round',
  )
  t.match(readFileSync(`${out}.md`, 'utf8'), /## Targets/)
  t.match(readFileSync(`${out}.md`, 'utf8'), /## Soak: 3 rounds of 20 logins/)
  t.match(readFileSync(`${out}.svg`, 'utf8'), /^<svg /)
})
