import { execFileSync } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import t from 'tap'
import { QrLoginClient, type LoginStatusView, type TransportName } from '@qr-login/client'
import { nodeWebSocket } from '@qr-login/client/node'
import { startInstance, type Instance } from '../../helpers/instances.js'
import { cleanUpPrefix, sharedRedisUrl, uniquePrefix } from '../../helpers/redis.js'

/** The worker processes under a WORKERS primary (tsx's esbuild helper is a child too: left out). */
function workersOf(primary: Instance): number[] {
  let lines: string
  try {
    lines = execFileSync('ps', ['--ppid', String(primary.pid), '-o', 'pid=,args='], { encoding: 'utf8' })
  } catch {
    return [] // ps exits 1 when it lists nothing
  }
  return lines
    .split('\n')
    .filter((line) => line.includes('dist/server.js'))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
}

/** Which process answered each request, from the workers' request logs (LOG_LEVEL=info). */
function answeredBy(primary: Instance, urlPart: string): Set<number> {
  const pids = new Set<number>()
  for (const line of primary.output().split('\n')) {
    if (!line.startsWith('{')) continue
    const entry = JSON.parse(line) as { pid?: number; msg?: string; req?: { url?: string } }
    if (entry.msg === 'incoming request' && entry.req?.url?.includes(urlPart) && entry.pid) pids.add(entry.pid)
  }
  return pids
}

async function startWorkers(t: Parameters<typeof startInstance>[0]) {
  const prefix = uniquePrefix('workers')
  cleanUpPrefix(t, prefix)
  return startInstance(t, 'workers', {
    STORE: 'redis',
    REDIS_URL: sharedRedisUrl,
    REDIS_PREFIX: prefix,
    WORKERS: '2',
    LOG_LEVEL: 'info',
    PUBLIC_URL: 'http://qr.test',
    POLL_INTERVAL_MS: '100',
  })
}

// socket.io with the client's defaults: the service refuses its polling (a polling session needs every request on
// one worker, which node:cluster's round-robin does not give) and the client goes on over WebSocket.
const transports: TransportName[] = ['ws', 'sse', 'long-poll', 'poll', 'socket.io']

t.test('WORKERS=2 on Redis: one port, two workers; logins created, watched and confirmed across them', async (t) => {
  const service = await startWorkers(t)
  const workers = workersOf(service)
  t.equal(workers.length, 2, 'two worker processes')
  t.equal(service.output().match(/is running/g)?.length, 1, 'the primary announces once, when both listen')
  t.match(service.output(), /Workers: +2 processes on this port/)

  const api = new QrLoginClient({ baseUrl: service.base, webSocket: nodeWebSocket })
  const phone = await api.signInPhone('alice', 'demo')
  // Several at once, so the requests go out on several connections, which the primary hands to the workers in turn.
  const logins = await Promise.all(Array.from({ length: 10 }, () => api.createLogin()))
  const watches = logins.map((login, i) => {
    const seen: LoginStatusView[] = []
    let firstSeen!: () => void
    const first = new Promise<void>((resolve) => (firstSeen = resolve))
    const done = (async () => {
      const transport = transports[i % transports.length]
      for await (const status of api.watch(login, { transport })) {
        seen.push(status)
        firstSeen()
      }
      return seen.map((status) => status.status)
    })()
    return { first, done }
  })
  await Promise.all(watches.map((watch) => watch.first))
  await Promise.all(logins.map((login) => phone.scan(login.id)))
  await Promise.all(logins.map((login) => phone.confirm(login.id)))
  for (const [i, watch] of watches.entries())
    t.same((await watch.done).at(-1), 'confirmed', `${transports[i % transports.length]} watcher ${i} saw the confirm`)
  const exchanged = await Promise.all(logins.map((login) => api.exchange(login)))
  t.same(new Set(exchanged.map((each) => each.user.username)), new Set(['alice']))

  const page = await (await fetch(`${service.base}/`)).text()
  t.match(
    page,
    '<meta name="qr-login-socket-io-transports" content="[&quot;websocket&quot;]">',
    'the PC page is told to use socket.io over WebSocket, so it skips the refused polling',
  )
  const polling = await fetch(`${service.base}/socket.io/?EIO=4&transport=polling`)
  t.equal(polling.status, 400, 'socket.io polling is refused at once, not left to fail on the next request')
  t.match(await polling.json(), { code: 0, message: 'Transport unknown' })

  t.same(answeredBy(service, '/confirm'), new Set(workers), 'both workers took confirms')
  t.same(answeredBy(service, '/api/qr/'), new Set(workers), 'both workers served watchers and reads')
})

t.test('a worker killed with SIGKILL is replaced, its watchers finish on the other; SIGTERM drains both', async (t) => {
  const service = await startWorkers(t)
  const [first, second] = workersOf(service)
  const api = new QrLoginClient({ baseUrl: service.base, webSocket: nodeWebSocket })
  const phone = await api.signInPhone('alice', 'demo')
  const logins = await Promise.all(Array.from({ length: 6 }, () => api.createLogin()))
  const watches = logins.map((login) => {
    let firstSeen!: () => void
    const first = new Promise<void>((resolve) => (firstSeen = resolve))
    const done = (async () => {
      let last: string | undefined
      for await (const status of api.watch(login, { transport: 'ws' })) {
        last = status.status
        firstSeen()
      }
      return last
    })()
    return { first, done }
  })
  await Promise.all(watches.map((watch) => watch.first))

  process.kill(first, 'SIGKILL')
  await service.untilOutput(
    (output) => output.includes(`Worker ${first} ended (SIGKILL); starting another`),
    'the primary to say it replaces the killed worker',
  )
  const listeningPids = (output: string) =>
    output
      .split('\n')
      .filter((line) => line.includes('Server listening'))
      .map((line) => Number(/"pid":(\d+),/.exec(line)?.[1]))
  await service.untilOutput(
    (output) => listeningPids(output).some((pid) => pid !== first && pid !== second),
    'a new worker to listen',
  )
  const now = workersOf(service)
  t.equal(now.length, 2, 'two workers again')
  t.notOk(now.includes(first), 'the killed one is gone')
  t.ok(now.includes(second), 'the other one stayed')
  const replacement = now.find((pid) => pid !== second)!
  t.ok(listeningPids(service.output()).includes(replacement), 'the new worker is the one that listens')

  await Promise.all(logins.map((login) => phone.scan(login.id)))
  await Promise.all(logins.map((login) => phone.confirm(login.id)))
  t.same(
    await Promise.all(watches.map((watch) => watch.done)),
    logins.map(() => 'confirmed'),
    'every watcher saw it',
  )

  const workers = workersOf(service)
  service.signal('SIGTERM')
  t.equal(await service.exited, 0, 'the primary exits 0 once every worker has drained')
  t.same(workersOf(service), [])
  for (const pid of workers) t.throws(() => process.kill(pid, 0), 'worker gone')
})

t.test('a worker that cannot start stops the service, saying why, instead of being replaced in a loop', async (t) => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => taken.close(resolve)))
  const { port } = taken.address() as AddressInfo
  const prefix = uniquePrefix('workers')
  cleanUpPrefix(t, prefix)
  await t.rejects(
    startInstance(t, 'busy port', {
      STORE: 'redis',
      REDIS_URL: sharedRedisUrl,
      REDIS_PREFIX: prefix,
      WORKERS: '2',
      PORT: String(port),
    }),
    /exited \(1\) before it was ready:[\s\S]*A worker could not start \(exit 1\); stopping\./,
  )
})
