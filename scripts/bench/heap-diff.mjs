// Compares two heap snapshots (node --heapsnapshot-signal=SIGUSR1 ..., before and after holding N connections):
// bytes and objects added per connection, by kind. Run: node scripts/bench/heap-diff.mjs before.heapsnapshot after.heapsnapshot N
import { readFileSync } from 'node:fs'
const load = (f) => {
  const s = JSON.parse(readFileSync(f))
  const F = s.snapshot.meta.node_fields
  const T = s.snapshot.meta.node_types[0]
  const w = F.length
  const m = new Map()
  for (let i = 0; i < s.nodes.length; i += w) {
    const type = T[s.nodes[i]]
    const name = s.strings[s.nodes[i + 1]]
    const key = `${type}:${name}`.slice(0, 70)
    const e = m.get(key) ?? [0, 0]
    e[0]++
    e[1] += s.nodes[i + 3]
    m.set(key, e)
  }
  return m
}
const [a, b, n] = [load(process.argv[2]), load(process.argv[3]), Number(process.argv[4])]
const rows = [...b]
  .map(([k, [c, sz]]) => [k, c - (a.get(k)?.[0] ?? 0), sz - (a.get(k)?.[1] ?? 0)])
  .filter((r) => r[2] > 0)
  .sort((x, y) => y[2] - x[2])
let total = 0
for (const r of rows) total += r[2]
console.log('total bytes per held request', Math.round(total / n))
for (const [k, c, sz] of rows.slice(0, 28))
  console.log(String(Math.round(sz / n)).padStart(6), 'B/req', (c / n).toFixed(2).padStart(6), 'objs/req ', k)
