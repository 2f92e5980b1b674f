// Loaded before every test file (tap's node-arg). A file under test/unit/ promises to need no listening
// socket, no outgoing connection and no child process; this makes that promise checked rather than
// hoped for: each of those throws there, naming what the test tried. Other tiers are left alone.
import childProcess from 'node:child_process'
import { syncBuiltinESMExports } from 'node:module'
import net from 'node:net'
import { sep } from 'node:path'

const testFile = process.argv[1] ?? ''

if (testFile.includes(`${sep}test${sep}unit${sep}`)) {
  const refuse = (what: string) =>
    function refused(): never {
      throw new Error(
        `${what} in a unit test (${testFile}): unit tests open no socket and start no process; move the test to test/integration/`,
      )
    }
  net.Server.prototype.listen = refuse('net.Server#listen')
  net.Socket.prototype.connect = refuse('net.Socket#connect')
  for (const name of ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync'] as const)
    Object.defineProperty(childProcess, name, { value: refuse(`child_process.${name}`) })
  // So that `import { spawn } from 'node:child_process'` sees the refusal too.
  syncBuiltinESMExports()
}
