// Summarises a .cpuprofile: self time by function and by package, top N, idle left out.
// Run: node scripts/bench/profile-summary.mjs .bench/prof/CPU....cpuprofile [N] [--last SECONDS]
// --last keeps only the profile's final seconds: a bench server is stopped right after its confirm
// phase, so `--last 20` reads the scans and confirms without the set-up before them.
// The V8 profiler samples on wall-clock ticks: a thread preempted inside a system call (writev on
// this two-core machine) is counted there, so read native frames next to `perf record`'s on-CPU view.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { positionals, values } = parseArgs({ allowPositionals: true, options: { last: { type: 'string' } } })
const [file, top = '25'] = positionals
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const from = values.last ? profile.endTime - Number(values.last) * 1e6 : -Infinity
const self = new Map()
let at = profile.startTime
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i] ?? 0
  if (at < from) continue
  const id = profile.samples[i]
  if (byId.get(id).callFrame.functionName === '(idle)') continue
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const byFunction = new Map()
const byPackage = new Map()
for (const [id, micros] of self) {
  const { callFrame } = byId.get(id)
  const url = callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '')
  const key = `${callFrame.functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + micros)
  const pkg =
    /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
    (url.startsWith('node:')
      ? 'node (built-in)'
      : url === ''
        ? '(native/gc)'
        : url.includes('dist/')
          ? 'our code (bundle)'
          : url)
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros)
}
console.log(`busy (not idle): ${(total / 1e6).toFixed(2)} s`)
const show = (title, map) => {
  console.log(`\n${title}`)
  for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top)))
    console.log(`${((micros / total) * 100).toFixed(1).padStart(5)}%  ${key}`)
}
show('self time by package', byPackage)
show('self time by function', byFunction)
