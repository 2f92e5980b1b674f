import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'

// The tiers are folders: a test lives in the one that names what it needs (README, "Tests"). This file is
// itself a unit test, so the guard that makes the unit tier's promise checked is in force here.

t.test('a unit test cannot listen, connect or start a process: each names the tier to move to', async (t) => {
  t.throws(() => createServer().listen(0), /net\.Server#listen in a unit test .*move the test to test\/integration/)
  t.throws(() => connect(6379, '127.0.0.1'), /net\.Socket#connect in a unit test/)
  t.throws(() => spawn('true'), /child_process\.spawn in a unit test/)
})

t.test('every test file sits in one of the four tiers', async (t) => {
  const tiers = ['unit', 'integration', 'e2e', 'scale']
  const misplaced: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.test.ts') && !tiers.includes(path.split('/')[1])) misplaced.push(path)
    }
  }
  walk('test')
  t.same(misplaced, [], 'no test outside test/unit, test/integration, test/e2e and test/scale')
  for (const tier of tiers) t.ok(readdirSync(join('test', tier)).length > 0, `test/${tier} holds tests`)
})
