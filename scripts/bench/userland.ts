// node --import tsx scripts/bench/userland.ts [--logins N] [--rounds R]
// The JavaScript a login costs, without sockets: the whole app in this process, each login
// watched through the core, then scanned and confirmed through Fastify's inject. Process CPU
// per login for each round (the first warms up). No kernel, no load generator sharing the two
// cores: steadier than the bench's CPU column when comparing two commits (check out the other
// one beside this tree and run this script there too), but inject's own cost is in the figure.
import { parseArgs } from 'node:util'
import { buildApp } from '../../apps/server/src/app.js'
import { loadConfig } from '../../apps/server/src/config.js'
import { loggerOptions } from '../../apps/server/src/logging.js'

const { values } = parseArgs({ options: { logins: { type: 'string' }, rounds: { type: 'string' } } })
const perRound = Number(values.logins ?? 3000)
const rounds = Number(values.rounds ?? 6)
const config = loadConfig({
  ...process.env,
  QR_TTL_SECONDS: '900',
  CONFIRM_WINDOW_SECONDS: '900',
  EXCHANGE_WINDOW_SECONDS: '900',
  PUBLIC_URL: 'http://192.0.2.1:3000',
  RATE_LIMIT_CREATE_PER_MINUTE: '10000000',
  MAX_LIVE_LOGINS: '10000000',
})
const app = await buildApp(config, {}, loggerOptions('warn'))
await app.ready()
const signIn = await app.inject({
  method: 'POST',
  url: '/api/mobile/session',
  payload: { username: 'alice', password: 'demo' },
})
const phone = { authorization: `Bearer ${signIn.json<{ token: string }>().token}` }

async function created(count: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const login = (await app.inject({ method: 'POST', url: '/api/qr' })).json<{ id: string; watchToken: string }>()
    await app.logins.watch(login.id, login.watchToken, { onStatus: () => undefined })
    ids.push(login.id)
    await new Promise(setImmediate)
  }
  return ids
}

// Every round's logins first, so the rounds measure scans and confirms only.
const batches: string[][] = []
for (let round = 0; round < rounds; round++) batches.push(await created(perRound))
const figures: number[] = []
for (const ids of batches) {
  const start = process.cpuUsage()
  for (const id of ids) {
    for (const action of ['scan', 'confirm']) {
      const answer = await app.inject({ method: 'POST', url: `/api/qr/${id}/${action}`, headers: phone })
      if (answer.statusCode !== 200) throw new Error(`${action}: ${answer.statusCode} ${answer.body}`)
    }
    // inject can answer without the event loop turning: the immediates its requests queue would pile up
    // (holding every response) until the round ends, and the figure would be mostly garbage collection.
    await new Promise(setImmediate)
  }
  const used = process.cpuUsage(start)
  figures.push(Math.round((used.user + used.system) / ids.length))
}
const steady = figures.slice(1).sort((a, b) => a - b)
console.log(
  `userland: µs of CPU per login (scan + confirm + notify), ${perRound} per round: ${figures.join(', ')}; ` +
    `median after the first: ${steady[Math.floor(steady.length / 2)]}`,
)
await app.close()
