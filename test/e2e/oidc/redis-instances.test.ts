import t, { type Test } from 'tap'
import { createServer as createTcpServer, connect, type Socket } from 'node:net'
import * as client from 'openid-client'
import { approveOnPhone } from '@qr-login/testing'
import { desktop, launchBrowser, newPage } from '../../helpers/browser.js'
import { testApp } from '../../helpers/server.js'
import { authorizationRequest, discover, relyingParty } from '../../helpers/oidc.js'
import { cleanUpPrefix, freePort, uniquePrefix } from '../../helpers/redis.js'

/** One public address in front of several instances; `to(port)` sends every new connection there, dropping the old ones. */
async function switchboard(t: Test) {
  const port = await freePort()
  let target = 0
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    const upstream = connect(target, '127.0.0.1')
    for (const each of [socket, upstream]) {
      sockets.add(each)
      each.on('close', () => sockets.delete(each))
      each.on('error', () => each.destroy())
    }
    socket.pipe(upstream).pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return {
    base: `http://127.0.0.1:${port}`,
    async to(instancePort: number) {
      target = instancePort
      const closing = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)))
      for (const socket of sockets) socket.destroy()
      await Promise.all(closing)
      // Let the clients hear that their kept-alive connections are gone before they send again.
      await new Promise((resolve) => setTimeout(resolve, 20))
    },
  }
}

async function instances(t: Test, count: number, env: Record<string, string>) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const app = await testApp(t, env)
      await app.listen({ port: 0, host: '127.0.0.1' })
      return { app, port: (app.server.address() as { port: number }).port }
    }),
  )
}

t.test('STORE=redis: one code flow split across two instances, step by step', async (t) => {
  const prefix = uniquePrefix('oidc-sp')
  cleanUpPrefix(t, prefix)
  const rp = await relyingParty(t)
  const front = await switchboard(t)
  const env = { STORE: 'redis', REDIS_PREFIX: prefix, PUBLIC_URL: front.base, OIDC_CLIENTS_FILE: rp.clientsFile }
  const [a, b] = await instances(t, 2, env)
  const browser = await launchBrowser(t)
  const problems: string[] = []
  const pc = await newPage(browser, desktop, 'pc', problems)

  await front.to(a.port) // discovery and the authorization request: A
  const config = await discover(`${front.base}/oidc`)
  const { url, checks } = await authorizationRequest(config, rp.redirectUri)
  const asked = await pc.page.goto(url.href, { waitUntil: 'commit' })
  t.ok(asked, 'A answered the authorization request')
  await front.to(b.port) // the QR page, the QR login, the phone and the interaction's end: B
  await pc.page.reload()
  await pc.page.waitForSelector('main[data-state="pending"]')
  const approval = await approveOnPhone(pc.page, { user: 'alice' })
  await front.to(a.port) // the code for tokens, and userinfo: A again
  const tokens = await client.authorizationCodeGrant(config, new URL(approval.url), checks)
  t.match(tokens.claims(), { sub: 'alice', iss: `${front.base}/oidc`, aud: 'test-app' })
  await front.to(b.port)
  t.equal(
    (await client.fetchUserInfo(config, tokens.access_token, 'alice')).name,
    'Alice',
    'B knows the token A issued',
  )
  // Switching instances cuts the connections the page had open (its watch): those, and only those, fail.
  t.same(
    problems.filter((problem) => !/net::ERR_(EMPTY_RESPONSE|CONNECTION_RESET)/.test(problem)),
    [],
  )
})

t.test('STORE=redis: sub and signing key stay the same across a restart', async (t) => {
  const prefix = uniquePrefix('oidc-rs')
  cleanUpPrefix(t, prefix)
  const rp = await relyingParty(t)
  const front = await switchboard(t)
  const env = { STORE: 'redis', REDIS_PREFIX: prefix, PUBLIC_URL: front.base, OIDC_CLIENTS_FILE: rp.clientsFile }
  const browser = await launchBrowser(t)
  const signIn = async () => {
    const [instance] = await instances(t, 1, env)
    await front.to(instance.port)
    const config = await discover(`${front.base}/oidc`)
    const pc = await newPage(browser, desktop, 'pc', [])
    const { url, checks } = await authorizationRequest(config, rp.redirectUri)
    await pc.page.goto(url.href)
    const approval = await approveOnPhone(pc.page, { user: 'bob' })
    const tokens = await client.authorizationCodeGrant(config, new URL(approval.url), checks)
    const { kid } = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0], 'base64url').toString()) as { kid: string }
    await pc.context.close()
    await instance.app.close()
    return { sub: tokens.claims()!.sub, kid }
  }
  const before = await signIn()
  const after = await signIn()
  t.equal(after.sub, before.sub)
  t.equal(after.sub, 'bob')
  t.equal(after.kid, before.kid, 'the restarted instance signs with the same key')
})
