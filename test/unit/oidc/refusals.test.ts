import t from 'tap'
import { LoginError, type OidcArtefactStore } from '@qr-login/core'
import { testApp } from '../../helpers/server.js'

const form = { 'content-type': 'application/x-www-form-urlencoded' }

t.test('requests the provider cannot take are 4xx, never 5xx', async (t) => {
  const app = await testApp(t)
  const cases = [
    { method: 'GET', url: '/oidc/device/auth' },
    { method: 'POST', url: '/oidc/device', headers: form, payload: 'user_code=BCDF-GHJK' },
    { method: 'POST', url: '/oidc/device' },
    { method: 'POST', url: '/oidc/token', headers: form, payload: 'grant_type=nope' },
    { method: 'GET', url: '/oidc/auth?client_id=unknown&response_type=code&scope=openid' },
    { method: 'GET', url: '/oidc/me' },
  ] as const
  for (const request of cases) {
    const response = await app.inject(request)
    t.ok(
      response.statusCode >= 400 && response.statusCode < 500,
      `${request.method} ${request.url}: ${response.statusCode}`,
    )
  }
})

t.test(
  'the QR sign-in of an interaction that is gone is 404 INTERACTION_NOT_FOUND: a page for a person, the error body for the page’s calls',
  async (t) => {
    const app = await testApp(t)
    // The page script's calls: the error body.
    for (const [method, url] of [
      ['POST', '/interaction/nope/qr'],
      ['POST', '/interaction/nope/abort'],
    ] as const) {
      const response = await app.inject({ method, url })
      t.equal(response.statusCode, 404, `${method} ${url}`)
      t.equal(response.json().code, 'INTERACTION_NOT_FOUND')
    }
    // A person opening an ended sign-in again: a page, in their language.
    for (const [acceptLanguage, lang, words] of [
      ['en-GB', 'en', 'This sign-in request has ended or expired.'],
      ['zh-CN', 'zh-CN', '这次登录请求已结束或已过期。'],
    ] as const) {
      const page = await app.inject({ url: '/interaction/nope', headers: { 'accept-language': acceptLanguage } })
      t.equal(page.statusCode, 404)
      t.match(page.headers['content-type'], /^text\/html/)
      t.match(page.body, `<html lang="${lang}">`)
      t.match(page.body, words)
      t.match(page.headers['content-security-policy'], /script-src 'self'/)
    }
    const malformed = await app.inject({ method: 'POST', url: '/interaction/has%20space/finish', payload: { id: 'x' } })
    t.equal(malformed.json().code, 'VALIDATION_ERROR')
  },
)

t.test('a store that cannot be reached is 503 temporarily_unavailable at the provider too', async (t) => {
  const down = async () => {
    throw new LoginError('STORE_UNAVAILABLE', 'Redis: connection refused')
  }
  const unreachable: OidcArtefactStore = {
    upsert: down,
    find: down,
    findByUserCode: down,
    findByUid: down,
    consume: down,
    destroy: down,
    revokeByGrantId: down,
  }
  const app = await testApp(t, {}, { stores: { oidc: unreachable } })
  const response = await app.inject({
    method: 'POST',
    url: '/oidc/device/auth',
    headers: form,
    payload: 'client_id=qr-login-cli&scope=openid',
  })
  t.equal(response.statusCode, 503)
  t.equal(response.json().error, 'temporarily_unavailable')
})
