// Summarises a .cpuprofile: self time by function and by package, top N.
// Run: node scripts/bench/profile-summary.mjs .bench/prof/CPU....cpuprofile [N]
import { readFileSync } from 'node:fs'

const [file, top = '25'] = process.argv.slice(2)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const self = new Map()
const dt = profile.timeDeltas
for (let i = 0; i < profile.samples.length; i++)
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0))
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
        ? '(native/gc/idle)'
        : url.includes('dist/')
          ? 'our code (bundle)'
          : url)
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros)
}
const show = (title, map) => {
  console.log(`\n${title}`)
  for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top)))
    console.log(`${((micros / total) * 100).toFixed(1).padStart(5)}%  ${key}`)
}
show('self time by package', byPackage)
show('self time by function', byFunction)
