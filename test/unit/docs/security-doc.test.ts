import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'

// docs/security.md promises that each mitigation is proven by a named test. This keeps the promise
// honest: every `file › title` it cites exists, so a renamed or deleted test breaks the build, not the doc.
t.test('every test docs/security.md cites exists', async (t) => {
  const doc = readFileSync('docs/security.md', 'utf8')
  const citations: { file: string; title: string }[] = []
  let file = ''
  for (const [, path, title] of doc.matchAll(/`(test\/[\w/.-]+\.ts)?(?: › ([^`]+))?`/g)) {
    if (path) file = path
    if (path && !existsSync(path)) t.fail(`${path} does not exist`)
    if (title) citations.push({ file, title })
  }
  t.ok(citations.length >= 40, `${citations.length} tests cited`)
  for (const { file, title } of citations) {
    const source = readFileSync(file, 'utf8')
    if (!source.includes(title)) t.fail(`${file} has no test titled "${title}"`)
  }
  const rows = doc.split('\n').filter((line) => /^\| \d+ \|/.test(line))
  t.equal(rows.length, 18, 'eighteen attacks in the threat model')
  for (const row of rows) t.match(row, /`test\/[\w/.-]+\.ts/, `row ${row.slice(2, 5).trim()} names a test`)
  // RFC 10027 §6.1: all seventeen mitigations, in order, each with a test that shows it.
  const bcp = doc.split('\n').filter((line) => /^\| 6\.1\.\d+ \|/.test(line))
  t.same(
    bcp.map((line) => line.split('|')[1].trim()),
    Array.from({ length: 17 }, (_, i) => `6.1.${i + 1}`),
    'the seventeen mitigations of RFC 10027 §6.1',
  )
  for (const row of bcp) t.match(row, /`test\/[\w/.-]+\.ts › /, `${row.split('|')[1].trim()} names a test`)
})
