import t from 'tap'
import type { App } from '@qr-login/server'
import { approve, bearer, chromeOnWindows, createLogin, phoneToken, testApp } from '../../helpers/server.js'

const firefoxOnLinux = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'

/** A PC signs in through a QR login approved by `username`; returns its sid cookie. */
async function signInPc(app: App, username: string, userAgent: string, remoteAddress: string): Promise<string> {
  const login = await createLogin(app, { 'user-agent': userAgent })
  const approved = await approve(app, login.id, username)
  if (approved.statusCode !== 200) throw new Error(`approve failed: ${approved.body}`)
  const exchanged = await app.inject({
    method: 'POST',
    url: `/api/qr/${login.id}/exchange`,
    headers: { ...bearer(login.watchToken), 'user-agent': userAgent },
    remoteAddress,
  })
  const sid = exchanged.cookies.find((cookie) => cookie.name === 'sid')?.value
  if (exchanged.statusCode !== 200 || !sid) throw new Error(`exchange failed: ${exchanged.body}`)
  return sid
}

function me(app: App, sid: string) {
  return app.inject({ method: 'GET', url: '/api/me', cookies: { sid } })
}

function listSessions(app: App, token: string) {
  return app.inject({ method: 'GET', url: '/api/mobile/sessions', headers: bearer(token) })
}

function revoke(app: App, token: string, sessionId: string) {
  return app.inject({ method: 'DELETE', url: `/api/mobile/sessions/${sessionId}`, headers: bearer(token) })
}

t.test('the phone lists the computers its QR logins signed in, and revoking one signs that computer out', async (t) => {
  const app = await testApp(t)
  const officePc = await signInPc(app, 'alice', chromeOnWindows, '10.0.0.5')
  const homePc = await signInPc(app, 'alice', firefoxOnLinux, '192.168.1.20')
  await signInPc(app, 'bob', chromeOnWindows, '10.0.0.6')
  const alice = await phoneToken(app, 'alice')

  const listed = await listSessions(app, alice)
  t.equal(listed.statusCode, 200)
  t.equal(listed.headers['cache-control'], 'no-store')
  const { sessions } = listed.json()
  t.match(sessions, [
    { ip: '192.168.1.20', browser: /^Firefox 133/, os: 'Linux', userAgent: firefoxOnLinux },
    { ip: '10.0.0.5', browser: /^Chrome 131/, os: 'Windows 10', userAgent: chromeOnWindows },
  ])
  t.equal(sessions.length, 2, "only alice's PC sessions; her phone session is not one of them")
  for (const session of sessions) {
    t.match(session.id, /^[A-Za-z0-9_-]{21}$/)
    t.same(
      Object.keys(session).sort(),
      ['browser', 'createdAt', 'expiresAt', 'id', 'ip', 'os', 'userAgent'],
      'no secret, no hash',
    )
    t.not(session.id, officePc)
    t.not(session.id, homePc)
  }
  t.notMatch(listed.body, officePc)
  t.notMatch(listed.body, homePc)

  const bob = await phoneToken(app, 'bob')
  const office = sessions[1].id
  t.match(
    (await revoke(app, bob, office)).json(),
    { statusCode: 404, code: 'SESSION_NOT_FOUND' },
    "bob cannot revoke alice's session",
  )
  t.equal((await me(app, officePc)).statusCode, 200)

  const revoked = await revoke(app, alice, office)
  t.equal(revoked.statusCode, 204)
  t.match((await me(app, officePc)).json(), { statusCode: 401, code: 'AUTH_REQUIRED' }, 'the revoked PC is signed out')
  t.equal((await me(app, homePc)).statusCode, 200, 'the other PC stays signed in')
  t.same(
    (await listSessions(app, alice)).json().sessions.map((session: { ip: string }) => session.ip),
    ['192.168.1.20'],
  )
  t.equal((await revoke(app, alice, office)).statusCode, 404, 'revoking twice: nothing left to revoke')

  // A PC that signs itself out leaves the list too.
  t.equal((await app.inject({ method: 'POST', url: '/api/logout', cookies: { sid: homePc } })).statusCode, 204)
  t.same((await listSessions(app, alice)).json().sessions, [])
})

t.test('session management needs the phone session, a well-formed id, and an allowed origin for cookies', async (t) => {
  const app = await testApp(t)
  const officePc = await signInPc(app, 'alice', chromeOnWindows, '10.0.0.5')
  const alice = await phoneToken(app, 'alice')
  const [session] = (await listSessions(app, alice)).json().sessions

  t.match((await app.inject({ method: 'GET', url: '/api/mobile/sessions' })).json(), {
    statusCode: 401,
    code: 'AUTH_REQUIRED',
  })
  t.match((await app.inject({ method: 'DELETE', url: `/api/mobile/sessions/${session.id}` })).json(), {
    statusCode: 401,
    code: 'AUTH_REQUIRED',
  })
  t.match((await listSessions(app, officePc)).json(), { code: 'AUTH_REQUIRED' }, 'a PC session is not a phone session')
  for (const bad of ['short', 'x'.repeat(300), 'a%20b%20c%20d%20e%20f%20g%20h']) {
    t.match(
      (await revoke(app, alice, bad)).json(),
      { statusCode: 400, code: 'VALIDATION_ERROR' },
      `id ${bad.slice(0, 20)}`,
    )
  }
  const foreign = await app.inject({
    method: 'DELETE',
    url: `/api/mobile/sessions/${session.id}`,
    cookies: { m_session: alice },
    headers: { origin: 'https://evil.example' },
  })
  t.match(
    foreign.json(),
    { statusCode: 403, code: 'ORIGIN_REJECTED' },
    'a cross-site page cannot revoke with the cookie',
  )
  t.equal((await me(app, officePc)).statusCode, 200, 'nothing was revoked')
  const sameSite = await app.inject({
    method: 'DELETE',
    url: `/api/mobile/sessions/${session.id}`,
    cookies: { m_session: alice },
  })
  t.equal(sameSite.statusCode, 204)
  t.equal((await me(app, officePc)).statusCode, 401)
})

t.test('the session endpoints are in the OpenAPI description', async (t) => {
  const app = await testApp(t)
  const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  t.ok(spec.paths['/api/mobile/sessions'].get)
  t.ok(spec.paths['/api/mobile/sessions/{sessionId}'].delete)
  t.ok(spec.paths['/api/mobile/sessions/{sessionId}'].delete.responses['204'])
})
