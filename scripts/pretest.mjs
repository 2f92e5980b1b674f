// Makes sure what the tests need is on this machine, so `npm test` works on a
// fresh one: Debian's chromium (for browser tests), firefox-esr (the layout test's second engine) and a Redis server on
// 127.0.0.1:6379. Installs with apt-get only what is missing.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'

const redisPort = 6379

function log(message) {
  console.log(`[pretest] ${message}`)
}

function run(command, args) {
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with ${result.status ?? result.signal}`)
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

let aptUpdated = false
function aptInstall(packages) {
  if (process.getuid?.() !== 0) throw new Error(`missing ${packages.join(', ')}: install with apt-get as root`)
  if (!aptUpdated) {
    log('apt-get update')
    run('apt-get', ['update', '-qq'])
    aptUpdated = true
  }
  log(`apt-get install ${packages.join(' ')}`)
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages])
}

function redisAnswers() {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: redisPort })
    let reply = ''
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

async function ensureRedis() {
  if (await redisAnswers()) return log(`redis answers on 127.0.0.1:${redisPort}`)
  if (!hasCommand('redis-server')) aptInstall(['redis-server'])
  log(`starting redis-server on 127.0.0.1:${redisPort}`)
  const child = spawn(
    'redis-server',
    ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no'],
    { stdio: 'inherit' },
  )
  await new Promise((resolve) => child.on('exit', resolve))
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await redisAnswers()) return log('redis is up')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('redis-server did not come up')
}

function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) return log('chromium is installed')
  aptInstall(['chromium'])
}

/** Firefox ESR, driven over WebDriver BiDi by puppeteer-core, for the layout test in a second engine. */
function ensureFirefox() {
  if (existsSync('/usr/bin/firefox-esr')) return log('firefox-esr is installed')
  aptInstall(['firefox-esr'])
}

try {
  ensureChromium()
  ensureFirefox()
  await ensureRedis()
} catch (error) {
  console.error(`[pretest] ${error.message}`)
  process.exit(1)
}
