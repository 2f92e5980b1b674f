import t from 'tap'
import type { App } from '@qr-login/server'
import { bearer, phoneAction, phoneToken, testApp } from '../../helpers/server.js'

function create(app: App, payload?: unknown) {
  return app.inject({
    method: 'POST',
    url: '/api/qr',
    ...(payload === undefined ? {} : { payload: payload as object }),
  })
}

function poll(app: App, login: { id: string; watchToken: string }) {
  return app.inject({ url: `/api/qr/${login.id}`, headers: bearer(login.watchToken) }).then((r) => r.json())
}

t.test(
  'loginHint: only that account’s phone scans; any other gets 403 WRONG_ACCOUNT and nothing changes',
  async (t) => {
    const app = await testApp(t)
    const [alice, bob] = await Promise.all([phoneToken(app, 'alice'), phoneToken(app, 'bob')])
    const created = await create(app, { loginHint: 'alice' })
    t.equal(created.statusCode, 201)
    const login = created.json()
    t.equal(login.loginHint, 'alice', 'the PC is told whose phone to use')

    for (const action of ['scan', 'cancel'] as const) {
      const refused = await phoneAction(app, action, login.id, bob)
      t.equal(refused.statusCode, 403, `bob's ${action}`)
      t.equal(refused.json().code, 'WRONG_ACCOUNT')
    }
    t.match(await poll(app, login), { status: 'pending', version: 1 }, 'the login is as it was')
    const history = await app.inject({ url: '/api/mobile/history', headers: bearer(bob) })
    t.same(history.json().entries, [], 'and nothing is in bob’s history')

    t.equal((await phoneAction(app, 'scan', login.id, alice)).statusCode, 200, 'alice scans')
    t.equal((await phoneAction(app, 'confirm', login.id, alice)).statusCode, 200, 'and confirms')
  },
)

t.test('a typed code leads another account to the same refusal', async (t) => {
  const app = await testApp(t)
  const bob = await phoneToken(app, 'bob')
  const login = (await create(app, { loginHint: 'alice' })).json()
  const found = await app.inject({
    method: 'POST',
    url: '/api/mobile/code',
    headers: bearer(bob),
    payload: { code: login.userCode },
  })
  t.equal(found.json().id, login.id)
  t.equal((await phoneAction(app, 'scan', login.id, bob)).json().code, 'WRONG_ACCOUNT')
})

t.test('user names compare without case; an unknown name is taken like any other', async (t) => {
  const app = await testApp(t)
  const alice = await phoneToken(app, 'alice')
  const mixed = (await create(app, { loginHint: ' Alice ' })).json()
  t.equal(mixed.loginHint, 'Alice', 'trimmed, as typed')
  t.equal((await phoneAction(app, 'scan', mixed.id, alice)).statusCode, 200)

  const known = await create(app, { loginHint: 'bob' })
  const unknown = await create(app, { loginHint: 'nobody-here' })
  t.equal(unknown.statusCode, 201, 'an unknown user name: 201 all the same')
  t.same(Object.keys(unknown.json()).sort(), Object.keys(known.json()).sort(), 'the same answer, field for field')
  t.equal(
    (await phoneAction(app, 'scan', unknown.json().id, alice)).json().code,
    'WRONG_ACCOUNT',
    'and no phone can take it',
  )
})

t.test('loginHint must be a string of 1 to 64 characters; the body stays optional', async (t) => {
  const app = await testApp(t)
  for (const bad of [{ loginHint: 'x'.repeat(65) }, { loginHint: '' }, { loginHint: 42 }, { loginHint: ['alice'] }]) {
    const response = await create(app, bad)
    t.equal(response.statusCode, 400, JSON.stringify(bad).slice(0, 40))
    t.equal(response.json().code, 'VALIDATION_ERROR')
  }
  t.equal((await create(app, { loginHint: 'x'.repeat(64) })).statusCode, 201, '64 characters')
  t.equal((await create(app)).statusCode, 201, 'no body')
  t.equal((await create(app, {})).statusCode, 201, 'an empty object')
  const plain = (await create(app)).json()
  t.notOk('loginHint' in plain, 'no hint, no field')
})
