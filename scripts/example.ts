// npm run example: the QR login service and Acme Notes (apps/example-app), together, on the embedded
// defaults; prints where to go. Ctrl+C stops both.
import { spawn, type ChildProcess } from 'node:child_process'

const children: ChildProcess[] = []
const stopAll = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stopAll)

function start(label: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<string> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  child.once('exit', (code) => {
    process.stderr.write(`${label} stopped (${code ?? 'signal'})\n`)
    stopAll()
    process.exitCode = code ?? 0
  })
  let output = ''
  return new Promise((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      process.stdout.write(chunk.replace(/^(?=.)/gm, `[${label}] `))
      output += chunk
      const found = ready.exec(output)
      if (found) resolve(found[1])
    })
  })
}

const phoneBase = await start(
  'qr-login',
  ['apps/server/dist/server.js'],
  { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  /Phones \(in the QR\): (\S+?)\/?\s/,
)
const examplePort = process.env.EXAMPLE_PORT ?? '4000'
const exampleUrl = await start(
  'acme-notes',
  ['--import', 'tsx', 'apps/example-app/src/server.ts'],
  { ISSUER: `${phoneBase}/oidc`, EXAMPLE_PORT: examplePort, EXAMPLE_URL: `http://localhost:${examplePort}` },
  /is running: (\S+?)\/?\s/,
)
process.stdout.write(`
  Open ${exampleUrl}/ on this computer and click "Sign in with QR".
  Scan the QR with a phone on the same network; it opens ${phoneBase}/m, where you sign in
  as alice, bob or carol (password: demo) and confirm "Acme Notes wants you to sign in".
  The provider's discovery: ${phoneBase}/oidc/.well-known/openid-configuration
  Ctrl+C stops both.
`)
