import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { ScenarioResult, SoakResult, ThroughputResult } from './results.js'

interface Report {
  date: string
  command: string
  machine: { cpus: number; cpuModel: string; memoryGB: number; node: string; kernel: string }
  seconds: number
  scenarios: ScenarioResult[]
  throughput: ThroughputResult[]
  soak?: SoakResult
}

const notesHeading = '## Notes'

function find(report: Report, test: (s: ScenarioResult) => boolean) {
  return report.scenarios.find(test)
}

/** The issue's targets, each checked against this run's figures. */
function targets(report: Report): string[][] {
  const rows: string[][] = []
  const check = (figure: string, target: string, value: string | undefined, met: boolean | undefined) =>
    rows.push([figure, target, value ?? 'not run', value === undefined ? '–' : met ? 'met' : '**missed**'])
  // The earlier issues' rows (10,000 watchers in the full run), their load unchanged.
  const earlier = report.scenarios.filter((s) => s.store === 'memory' && s.scan !== 'measured')
  const big = Math.max(0, ...earlier.map((s) => s.watchers))
  const memory = (t: string, n: number) => earlier.find((s) => s.transport === t && s.watchers === n)
  for (const t of ['sse', 'ws', 'long-poll']) {
    const s = memory(t, big)
    check(
      `${t}: watchers held`,
      '10,000, zero errors',
      s && `${s.outcome.opened} held, ${s.outcome.errors} errors, ${s.outcome.lost} lost`,
      s && s.outcome.opened >= 10_000 && s.outcome.errors === 0 && s.outcome.lost === 0,
    )
  }
  // Since issue 13 the 5,000-watcher rows scan each login before confirming it: a heavier load than when set.
  for (const t of ['sse', 'ws', 'long-poll']) {
    const s = find(
      report,
      (r) => r.transport === t && r.store === 'memory' && r.watchers === 5000 && r.confirmRate === 200,
    )
    check(
      `${t}: p99 at 5,000 watchers, 200 logins/s${s?.scan === 'measured' ? ' (each scanned, then confirmed)' : ''}`,
      '≤ 5 ms',
      s && `${s.outcome.delayMs.p99} ms`,
      s && s.outcome.delayMs.p99 <= 5,
    )
  }
  for (const t of ['sse', 'ws', 'long-poll']) {
    const s = find(
      report,
      (r) => r.transport === t && r.store === 'memory' && r.watchers === 10_000 && r.confirmRate === 1000,
    )
    check(
      `${t}: p99 / max at 10,000 watchers, 1,000 confirms/s`,
      '≤ 15 ms / ≤ 50 ms',
      s && `${s.outcome.delayMs.p99} / ${s.outcome.delayMs.max} ms`,
      s && s.outcome.delayMs.p99 <= 15 && s.outcome.delayMs.max <= 50,
    )
  }
  for (const [t, limit] of [
    ['ws', 10],
    ['long-poll', 10],
    ['sse', 20],
  ] as const) {
    const s = memory(t, big)
    check(
      `${t}: RSS per watcher after GC`,
      `≤ ${limit} KB`,
      s && `${s.rssPerWatcherKB} KB`,
      s && s.rssPerWatcherKB <= limit,
    )
  }
  // The earlier targets are the memory store's; rows of runs before issue 22 name no store.
  const rate = (prefix: string, store = 'memory') =>
    report.throughput.find((r) => r.name.startsWith(prefix) && (r.name.endsWith(store) || !/, \w+$/.test(r.name)))
  const poll = rate('GET /api/qr/:id ')
  check(
    'short-poll reads, 100 connections',
    '≥ 20,000 req/s',
    poll && `${poll.requestsPerSecond} req/s`,
    poll && poll.requestsPerSecond >= 20_000,
  )
  const create = rate('POST /api/qr')
  check(
    'POST /api/qr (no image)',
    '≥ 8,000/s',
    create && `${create.requestsPerSecond}/s`,
    create && create.requestsPerSecond >= 8000,
  )
  const svg = rate('GET /api/qr/:id/qr.svg')
  check('qr.svg', '≥ 2,000/s', svg && `${svg.requestsPerSecond}/s`, svg && svg.requestsPerSecond >= 2000)
  const sqliteCreate = rate('POST /api/qr', 'sqlite')
  rows.push([
    'POST /api/qr (no image) on SQLite, each a committed transaction',
    'measured',
    sqliteCreate ? `${sqliteCreate.requestsPerSecond}/s (memory: ${create?.requestsPerSecond ?? '?'}/s)` : 'not run',
    'stated',
  ])
  // Issue 13 (p50), then issue 25 (CPU and p99): the project as a multiple of the floor under the same load,
  // each figure a median of three runs.
  const ratio = (ours: number, floor: number) => Math.round((ours / Math.max(0.01, floor)) * 100) / 100
  const pair = (t: string, n: number, rate: number) => {
    const at = (store: string) =>
      find(report, (r) => r.transport === t && r.store === store && r.watchers === n && r.confirmRate === rate)
    const ours = at('memory')
    const bare = at('floor')
    return ours && bare ? { ours, bare } : undefined
  }
  const compare = (figure: string, limit: number, ours: number | undefined, bare: number | undefined) =>
    check(
      figure,
      `≤ ${limit}×`,
      ours === undefined || bare === undefined ? undefined : `${ratio(ours, bare)}× (${ours} vs ${bare})`,
      ours !== undefined && bare !== undefined && ratio(ours, bare) <= limit,
    )
  const compared = report.scenarios.filter((s) => s.store === 'memory' && pair(s.transport, s.watchers, s.confirmRate))
  const small = Math.min(...compared.map((s) => s.watchers))
  const runs = (s: ScenarioResult) => (s.runs ? `median of ${s.runs.length}` : 'one run')
  for (const t of ['sse', 'ws', 'long-poll']) {
    const p = pair(t, small, 200)
    const at = p && `${t} at ${p.ours.watchers.toLocaleString('en')} watchers, 200/s (${runs(p.ours)})`
    compare(
      `${at ?? t}: CPU per login (scan + confirm + notify) / floor`,
      1.6,
      p?.ours.cpuMsPerLogin,
      p?.bare.cpuMsPerLogin,
    )
    compare(`${at ?? t}: p50 / floor`, 1.3, p?.ours.outcome.delayMs.p50, p?.bare.outcome.delayMs.p50)
    compare(`${at ?? t}: p99 / floor`, 1.8, p?.ours.outcome.delayMs.p99, p?.bare.outcome.delayMs.p99)
  }
  const wide = compared.find((s) => s.transport === 'ws' && s.confirmRate === 1000)
  const widePair = wide && pair('ws', wide.watchers, 1000)
  const wideAt =
    widePair && `ws at ${widePair.ours.watchers.toLocaleString('en')} watchers, 1,000/s (${runs(widePair.ours)})`
  compare(
    `${wideAt ?? 'ws at 19,000, 1,000/s'}: p50 / floor`,
    2,
    widePair?.ours.outcome.delayMs.p50,
    widePair?.bare.outcome.delayMs.p50,
  )
  compare(
    `${wideAt ?? 'ws at 19,000, 1,000/s'}: p99 / floor`,
    2.5,
    widePair?.ours.outcome.delayMs.p99,
    widePair?.bare.outcome.delayMs.p99,
  )
  compare(
    `${wideAt ?? 'ws at 19,000, 1,000/s'}: RSS per watcher / floor`,
    1.3,
    widePair?.ours.rssPerWatcherKB,
    widePair?.bare.rssPerWatcherKB,
  )
  // Issue 22: the default store (SQLite) against the memory store, the same load in the same run.
  for (const t of ['sse', 'ws', 'long-poll']) {
    const at = (store: string) =>
      find(report, (r) => r.transport === t && r.store === store && r.watchers === small && r.confirmRate === 200)
    const [sqlite, memory] = [at('sqlite'), at('memory')]
    const where = sqlite && `${t} at ${sqlite.watchers.toLocaleString('en')} watchers, 200/s (${runs(sqlite)})`
    check(
      `${where ?? t}: SQLite's CPU per login / the memory store's`,
      '≤ 1.25×',
      sqlite &&
        memory &&
        `${ratio(sqlite.cpuMsPerLogin, memory.cpuMsPerLogin)}× (${sqlite.cpuMsPerLogin} vs ${memory.cpuMsPerLogin})`,
      sqlite && memory && ratio(sqlite.cpuMsPerLogin, memory.cpuMsPerLogin) <= 1.25,
    )
    if (sqlite)
      rows.push([
        `${where}: SQLite p50 / p99 (memory's)`,
        'measured',
        `${sqlite.outcome.delayMs.p50} / ${sqlite.outcome.delayMs.p99} ms (${memory?.outcome.delayMs.p50} / ${memory?.outcome.delayMs.p99} ms)`,
        'stated',
      ])
  }
  const sqliteHeld = report.scenarios.find((s) => s.store === 'sqlite' && s.watchers >= 10_000)
  check(
    'SQLite: 10,000 watchers held, nothing lost',
    '10,000 open, 0 lost',
    sqliteHeld && `${sqliteHeld.outcome.opened.toLocaleString('en')} open, ${sqliteHeld.outcome.lost} lost`,
    sqliteHeld && sqliteHeld.outcome.opened >= 10_000 && sqliteHeld.outcome.lost === 0,
  )
  const ssePair = pair('sse', small, 200)
  compare('sse: RSS per watcher / floor', 2, ssePair?.ours.rssPerWatcherKB, ssePair?.bare.rssPerWatcherKB)
  if (report.soak) {
    const { soak } = report
    check(
      `soak: round ${soak.rounds.at(-1)!.round} against round ${Math.min(5, soak.rounds.length)}, p50 / RSS after GC / database file`,
      'no growth past 10 %',
      `${soak.p50Change} % / ${soak.rssChange} % / ${soak.databaseChange ?? '–'} %`,
      // Flat means nothing grows; a round that got faster is not a leak.
      soak.p50Change <= 10 && soak.rssChange <= 10 && (soak.databaseChange ?? 0) <= 10,
    )
    rows.push([
      'soak: heap per retained finished login',
      'measured',
      `${soak.heapPerRetainedLoginKB} KB (${soak.retainedLogins} retained)`,
      'stated',
    ])
  }
  const single = find(report, (s) => s.store === 'redis' && !s.crossInstance)
  const cross = find(report, (s) => s.store === 'redis' && s.crossInstance === true)
  if (single && cross) {
    const gap = Math.round((cross.outcome.delayMs.p99 - single.outcome.delayMs.p99) * 100) / 100
    check(
      'Redis: cross-instance p99 − single-instance p99',
      '≤ 2 ms',
      `${gap} ms (${cross.outcome.delayMs.p99} − ${single.outcome.delayMs.p99})`,
      gap <= 2,
    )
  }
  // Issue 14: WORKERS=2 at 1.7 times each rate of the ladder, its p99 against one process's at the rate.
  const ladder = (workers: number) =>
    report.scenarios
      .filter((s) => s.store === 'redis' && s.workers === workers)
      .sort((a, b) => a.confirmRate - b.confirmRate)
  const two = ladder(2)
  for (const [index, one] of ladder(1).entries()) {
    const paired = two[index]
    if (!paired) continue
    check(
      `WORKERS=2, ${paired.outcome.opened.toLocaleString('en')} watchers at ${paired.confirmRate}/s, against one process, ${one.outcome.opened.toLocaleString('en')} at ${one.confirmRate}/s: p99`,
      'the same or lower, nothing lost',
      `${paired.outcome.delayMs.p99} ms against ${one.outcome.delayMs.p99} ms (machine ${paired.machineBusyPercent ?? '?'} % / ${one.machineBusyPercent ?? '?'} % busy)`,
      paired.outcome.delayMs.p99 <= one.outcome.delayMs.p99 && paired.outcome.lost === 0,
    )
  }
  const clustered = find(report, (s) => s.store === 'redis-cluster' && s.crossInstance === true)
  if (clustered && cross)
    rows.push([
      'Redis Cluster: cross-instance p99 (one Redis server)',
      'measured',
      `${clustered.outcome.delayMs.p99} ms (${cross.outcome.delayMs.p99} ms)`,
      'stated',
    ])
  return rows
}

function processesSection(report: Report): string {
  const rows = report.scenarios.filter((s) => s.store === 'redis' || s.store === 'redis-cluster')
  if (!rows.length) return ''
  return `## Several processes, and Redis Cluster

The Redis rows: \`redis\` is the machine's one Redis server, \`redis-cluster\` a 3-master, 3-replica cluster started for
the row (\`REDIS_CLUSTER\`; each login write waits for its replica, \`REDIS_WAIT_REPLICAS=1\`); \`cross\` confirms on a
second instance. \`workers=N\` is one server with \`WORKERS=N\`, loaded by as many generators as workers (each holds at
most 19,000 sockets here), every one sharing the rate; its CPU and RSS are the whole process tree's, from /proc,
without a forced GC. Redis memory is \`used_memory\` (summed over the masters; replicas hold as much again) less the
replication backlog, with the logins held and watched, minus the same before they were made, per login. Messages per
change are the status messages the instances heard from Redis in the measured phase (\`qr_status_messages_heard\`),
per status change. The busiest master's share is of the commands the three masters ran from the logins' creation to
the last confirm (33 % is an even spread).

${table(
  [
    'scenario',
    'Redis',
    'workers',
    'generators',
    'held',
    'rate/s',
    'lost',
    'p50 ms',
    'p99 ms',
    'max ms',
    'CPU ms/login',
    'machine busy %',
    'Redis B/live login',
    'messages/change',
    'busiest master %',
  ],
  rows.map((s) => [
    s.name,
    s.store === 'redis-cluster' ? '3 + 3 cluster' : 'one server',
    s.workers ?? 1,
    s.generators ?? 1,
    `${s.outcome.opened}/${s.watchers}`,
    s.confirmRate,
    s.outcome.lost,
    s.outcome.delayMs.p50,
    s.outcome.delayMs.p99,
    s.outcome.delayMs.max,
    s.cpuMsPerLogin,
    s.machineBusyPercent ?? '',
    s.redis?.bytesPerLiveLogin ?? '',
    s.redis?.messagesPerChange ?? '',
    s.redis?.busiestMasterPercent ?? '',
  ]),
)}
`
}

function table(head: string[], rows: (string | number)[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')
}

function chart(report: Report): string {
  const rows = report.scenarios
  const width = 760
  const rowHeight = 22
  const top = 40
  const height = top + rows.length * rowHeight + 30
  // Log scale: short polling's p99 is hundreds of times the push transports'.
  const maxDelay = Math.log10(1 + Math.max(1, ...rows.map((r) => r.outcome.delayMs.p99)))
  const delayWidth = (ms: number) => (Math.log10(1 + ms) / maxDelay) * 220
  const maxMemory = Math.max(1, ...rows.map((r) => r.rssPerWatcherKB))
  const bar = (x: number, y: number, w: number, colour: string) =>
    `<rect x="${x}" y="${y}" width="${Math.max(1, w).toFixed(1)}" height="14" fill="${colour}"/>`
  const text = (x: number, y: number, value: string, anchor = 'start') =>
    `<text x="${x}" y="${y}" text-anchor="${anchor}">${value.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" fill="#1b2230">`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    text(10, 18, 'confirm → notify p99 (ms, log scale)'),
    text(480, 18, 'server RSS per watcher after GC (KB)'),
  ]
  rows.forEach((row, index) => {
    const y = top + index * rowHeight
    parts.push(text(10, y + 11, row.name))
    parts.push(bar(190, y, delayWidth(row.outcome.delayMs.p99), row.store === 'floor' ? '#9aa4b5' : '#1f5fd1'))
    parts.push(text(190 + delayWidth(row.outcome.delayMs.p99) + 4, y + 11, String(row.outcome.delayMs.p99)))
    parts.push(bar(480, y, (row.rssPerWatcherKB / maxMemory) * 220, row.store === 'floor' ? '#9aa4b5' : '#177245'))
    parts.push(text(480 + (row.rssPerWatcherKB / maxMemory) * 220 + 4, y + 11, String(row.rssPerWatcherKB)))
  })
  parts.push(
    text(
      10,
      height - 12,
      `${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}, ${report.date.slice(0, 10)}; grey: the bare node:http floor`,
    ),
  )
  parts.push('</svg>')
  return parts.join('\n')
}

function runsSection(report: Report): string {
  const repeated = report.scenarios.filter((s) => s.runs)
  if (!repeated.length) return ''
  return `### Each run of the rows compared with the floor

${table(
  ['scenario', 'run', 'p50 ms', 'p99 ms', 'CPU ms/login', 'RSS KB/watcher'],
  repeated.flatMap((s) => s.runs!.map((r, i) => [s.name, i + 1, r.p50, r.p99, r.cpuMsPerLogin, r.rssPerWatcherKB])),
)}
`
}

function soakSection(soak: SoakResult | undefined): string {
  if (!soak) return ''
  return `## Soak: ${soak.rounds.length} rounds of ${soak.loginsPerRound} logins against one server process on SQLite (the default store)

Each round: ${soak.loginsPerRound} logins created, watched over WebSocket, each scanned then confirmed at ${soak.confirmRate}/s; then
left to expire (exchange window ${soak.exchangeWindowSeconds} s) and be forgotten (\`RETENTION_SECONDS=${soak.retentionSeconds}\`).
Memory is read after a forced GC at the end of every round. Round ${soak.rounds.at(-1)!.round} against round ${Math.min(5, soak.rounds.length)}:
p50 ${soak.p50Change} %, RSS ${soak.rssChange} %, the database on disk ${soak.databaseChange ?? '–'} %. After the last round's logins were forgotten: RSS ${soak.drainedRssMB} MB,
heap ${soak.drainedHeapMB} MB, so a retained finished login costs about **${soak.heapPerRetainedLoginKB} KB of heap**
(${soak.retainedLogins} retained at the last reading).

${table(
  ['round', 'logins', 'p50 ms', 'p99 ms', 'lost', 'errors', 'RSS MB after GC', 'heap MB after GC', 'database MB'],
  soak.rounds.map((r) => [r.round, r.logins, r.p50, r.p99, r.lost, r.errors, r.rssMB, r.heapMB, r.databaseMB ?? '–']),
)}
`
}

export function writeReport(prefix: string, report: Report): void {
  const scenarioRows = report.scenarios.map((s) => [
    s.name,
    s.store === 'floor' ? 'bare node:http' : s.crossInstance ? `${s.store}, across instances` : s.store,
    s.scan === 'measured' ? 'scan + confirm' : 'confirm',
    `${s.outcome.opened}/${s.watchers}`,
    s.outcome.lost,
    s.outcome.errors,
    s.outcome.delayMs.p50,
    s.outcome.delayMs.p90,
    s.outcome.delayMs.p99,
    s.outcome.delayMs.max,
    s.rssPerWatcherKB,
    // A WORKERS row has no heap figure: it is read from /proc, not from the workers' V8.
    Number.isFinite(s.heapPerWatcherKB) ? s.heapPerWatcherKB : '–',
    s.outcome.bytesPerLogin,
    s.outcome.requestsPerLogin,
    s.cpuMsPerLogin,
    s.systemCpuMsPerLogin ?? '',
  ])
  const markdown = `# Benchmarks

Produced by \`${report.command}\` on ${report.date.slice(0, 16).replace('T', ' ')} UTC, in ${report.seconds} s:
${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGB} GB, Node ${report.machine.node}, Linux ${report.machine.kernel}.
The server runs in its own process (\`node --expose-gc apps/server/dist/server.js\`), the load generator in another
(sockets spread over 127.0.0.2–41), all on this one machine. Raw figures: [benchmarks.json](benchmarks.json).

![confirm → notify p99 and memory per watcher, per transport](benchmarks.svg)

## Targets

${table(['figure', 'target', 'this run', ''], targets(report))}

## Watchers: hold N, then confirm every login at a set rate

Delay is from the generator sending \`POST /api/qr/:id/confirm\` to its watcher receiving \`confirmed\` (one process,
one clock; an HDR histogram). Memory is the server's RSS and V8 heap after a full GC with the watchers held, minus the
same before they connected, per watcher. Bytes and requests are what each watcher received and made, per completed
login; CPU is the server's CPU time (user + kernel, all threads) over the measured phase, per login. In the rows
compared with the floor (issue 13) the generator scans and then confirms each login in turn, as a phone does, so their
CPU is scan + confirm + notify; the other rows keep the earlier issues' load (scanned during set-up, the confirm
measured), so they stay comparable with earlier runs. The floor (\`scripts/bench/floor.ts\`) is a bare \`node:http\` +
\`ws\` server doing the same job on the same wire format — create, phone session, scan, confirm; SSE, WebSocket and
long poll with the project's URLs, bodies, frames and heartbeats — and nothing else. Rows compared with the floor are
the median of their runs, project and floor alternating (every run is in the next table).

${table(['scenario', 'server', 'measured', 'held', 'lost', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'RSS KB/watcher', 'heap KB/watcher', 'bytes/login', 'requests/login', 'CPU ms/login', 'of which kernel'], scenarioRows)}

${runsSection(report)}
${processesSection(report)}
${soakSection(report.soak)}
## Throughput (autocannon, 100 connections)

${table(
  ['endpoint', 'seconds', 'requests/s', 'p99 ms', 'non-2xx', 'errors'],
  report.throughput.map((r) => [r.name, r.seconds, r.requestsPerSecond, r.p99Ms, r.non2xx, r.errors]),
)}
`
  const file = `${prefix}.md`
  const kept = existsSync(file) ? readFileSync(file, 'utf8').split(`\n${notesHeading}\n`)[1] : undefined
  writeFileSync(file, kept ? `${markdown}\n${notesHeading}\n${kept}` : markdown)
  writeFileSync(`${prefix}.svg`, chart(report))
}
