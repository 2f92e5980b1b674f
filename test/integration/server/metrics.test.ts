import t from 'tap'
import {
  approve,
  bearer,
  createLogin,
  listeningApp,
  openSse,
  openWs,
  phoneAction,
  phoneToken,
} from '../../helpers/server.js'

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

t.test('/metrics: logins by final state, watchers by transport, delivery delay, process figures', async (t) => {
  const { app, base, wsBase } = await listeningApp(t)
  const watched = await createLogin(app)
  const stream = openSse(`${base}/api/qr/${watched.id}/events`, bearer(watched.watchToken))
  const socket = openWs(`${wsBase}/api/qr/${watched.id}/ws`, { headers: bearer(watched.watchToken) })
  const longPoll = app.inject({ url: `/api/qr/${watched.id}?since=1&wait=30`, headers: bearer(watched.watchToken) })
  t.teardown(stream.close)
  await stream.until(() => stream.statuses().length === 1)
  await socket.until(() => socket.frames.length === 1)
  while (app.live.count('long-poll') < 1) await new Promise((resolve) => setImmediate(resolve))

  const during = await app.inject({ url: '/metrics' })
  t.equal(during.statusCode, 200)
  t.match(during.headers['content-type'], /^text\/plain/)
  t.equal(sample(during.body, 'qr_watchers', '{transport="sse"}'), 1)
  t.equal(sample(during.body, 'qr_watchers', '{transport="ws"}'), 1)
  t.equal(sample(during.body, 'qr_watchers', '{transport="long-poll"}'), 1)
  t.ok(sample(during.body, 'process_resident_memory_bytes')! > 0)

  await approve(app, watched.id)
  await longPoll
  await stream.until(() => stream.ended)
  const cancelled = await createLogin(app)
  await phoneAction(app, 'cancel', cancelled.id, await phoneToken(app))
  await app.inject({ method: 'POST', url: `/api/qr/${watched.id}/exchange`, headers: bearer(watched.watchToken) })

  const after = (await app.inject({ url: '/metrics' })).body
  t.equal(sample(after, 'qr_logins_created_total'), 2)
  t.equal(sample(after, 'qr_logins_confirmed_total'), 1)
  t.equal(sample(after, 'qr_logins_finished_total', '{state="consumed"}'), 1)
  t.equal(sample(after, 'qr_logins_finished_total', '{state="cancelled"}'), 1)
  t.equal(sample(after, 'qr_logins_finished_total', '{state="expired"}'), 0)
  for (const transport of ['sse', 'ws']) {
    t.equal(
      sample(after, 'qr_notify_delay_seconds_count', `{transport="${transport}"}`),
      2,
      `${transport}: scanned and confirmed observed`,
    )
  }
  t.equal(sample(after, 'qr_notify_delay_seconds_count', '{transport="long-poll"}'), 1)
  t.equal(sample(after, 'qr_store_errors_total'), 0)
})

t.test('/metrics counts refusals by code, so an attack shows up', async (t) => {
  const { app } = await listeningApp(t, { RATE_LIMIT_CREATE_PER_MINUTE: '2' })
  const login = await createLogin(app)
  const other = await createLogin(app)
  for (let i = 0; i < 3; i++) await app.inject({ url: `/api/qr/${login.id}`, headers: bearer(other.watchToken) })
  await app.inject({ method: 'POST', url: '/api/qr' })
  const body = (await app.inject({ url: '/metrics' })).body
  t.equal(sample(body, 'qr_refusals_total', '{code="WATCH_TOKEN_INVALID"}'), 3)
  t.equal(sample(body, 'qr_refusals_total', '{code="RATE_LIMITED"}'), 1)
})
