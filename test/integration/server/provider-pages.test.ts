import t from 'tap'
import type { App } from '@qr-login/server'
import { relyingParty } from '../../helpers/oidc.js'
import { phoneToken, testApp } from '../../helpers/server.js'

const form = { 'content-type': 'application/x-www-form-urlencoded' }

/** A browser's worth of state against the in-process app: its language and the cookies it was given. */
function browser(app: App, acceptLanguage: string, cookies: Record<string, string> = {}) {
  const jar = new Map(Object.entries(cookies))
  const request = async (method: 'GET' | 'POST', url: string, payload?: Record<string, string>) => {
    const response = await app.inject({
      method,
      url,
      headers: {
        'accept-language': acceptLanguage,
        cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(payload ? form : {}),
      },
      ...(payload ? { payload: new URLSearchParams(payload).toString() } : {}),
    })
    for (const cookie of ([] as string[]).concat(response.headers['set-cookie'] ?? [])) {
      const [pair] = cookie.split(';')
      const [name, value = ''] = pair.split('=')
      jar.set(name, value)
    }
    return response
  }
  /** Follows redirects within the service, as a browser does. */
  const follow = async (method: 'GET' | 'POST', url: string, payload?: Record<string, string>) => {
    let response = await request(method, url, payload)
    for (let hops = 0; response.statusCode >= 300 && response.statusCode < 400 && hops < 10; hops++) {
      const next = new URL(String(response.headers.location), 'http://qr.test:3000')
      response = await request('GET', next.pathname + next.search)
    }
    return response
  }
  return { request, follow, jar }
}

/** The hidden fields of the provider's self-posting form (its xsrf). */
function hiddenFields(html: string): Record<string, string> {
  return Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  )
}

const htmlLang = (html: string) => /<html lang="([^"]+)">/.exec(html)?.[1]

t.test('every page of the provider answers in Chinese when the browser asks, <html lang> to match', async (t) => {
  const rp = await relyingParty(t)
  const app = await testApp(t, { OIDC_CLIENTS_FILE: rp.clientsFile })
  const alice = await phoneToken(app)
  const phone = browser(app, 'zh-CN,zh;q=0.9,en;q=0.5', { m_session: alice })

  const entry = await phone.request('GET', '/oidc/device')
  t.equal(htmlLang(entry.body), 'zh-CN', 'code entry')
  t.match(entry.body, '输入设备上显示的代码。')
  t.match(entry.body, '<a id="lang-switch" class="lang" lang="en" href="/oidc/device?lang=en">English</a>')
  const wrong = await phone.request('POST', '/oidc/device', { ...hiddenFields(entry.body), user_code: 'BCDF-GHJK' })
  t.equal(wrong.statusCode, 400)
  t.match(wrong.body, '这个代码无效。', 'a wrong code, in Chinese')

  const device = await app.inject({
    method: 'POST',
    url: '/oidc/device/auth',
    headers: form,
    payload: 'client_id=test-tv&scope=openid',
  })
  const { user_code: userCode } = device.json<{ user_code: string }>()
  const opened = await phone.request('GET', `/oidc/device?user_code=${userCode}`)
  const confirm = await phone.request('POST', '/oidc/device', hiddenFields(opened.body))
  t.equal(htmlLang(confirm.body), 'zh-CN', 'device confirm')
  t.match(confirm.body, '<h1 id="ask-title" data-app="Test TV">Test TV 请求你登录</h1>')
  t.match(confirm.body, '当前账号：<strong>Alice</strong>')
  t.match(confirm.body, '>确认登录</button>')
  const done = await phone.follow('POST', '/oidc/device', { ...hiddenFields(confirm.body), confirm: 'yes' })
  t.equal(htmlLang(done.body), 'zh-CN', 'device signed in')
  t.match(done.body, '你已在 Test TV 上登录。')

  const other = await app.inject({
    method: 'POST',
    url: '/oidc/device/auth',
    headers: form,
    payload: 'client_id=test-tv&scope=openid',
  })
  const again = await phone.request('GET', `/oidc/device?user_code=${other.json<{ user_code: string }>().user_code}`)
  const asked = await phone.request('POST', '/oidc/device', hiddenFields(again.body))
  const cancelled = await phone.follow('POST', '/oidc/device', { ...hiddenFields(asked.body), abort: 'yes' })
  t.equal(htmlLang(cancelled.body), 'zh-CN', 'device cancelled')
  t.match(cancelled.body, '已取消登录，没有分享任何信息。')

  const error = await phone.request('GET', '/oidc/auth?client_id=nobody&response_type=code&scope=openid')
  t.equal(htmlLang(error.body), 'zh-CN', 'an error page')
  t.match(error.body, '这次登录无法继续')

  const signOut = await phone.request('GET', '/oidc/session/end')
  t.equal(htmlLang(signOut.body), 'zh-CN', 'sign-out')
  t.match(signOut.body, '要退出登录吗？')
  const signedOut = await phone.follow('POST', '/oidc/session/end/confirm', {
    ...hiddenFields(signOut.body),
    logout: 'yes',
  })
  t.equal(htmlLang(signedOut.body), 'zh-CN', 'signed out')
  t.match(signedOut.body, '你已退出登录')
})

t.test('the language switch wins over Accept-Language and is remembered, as on the other pages', async (t) => {
  const app = await testApp(t)
  const reader = browser(app, 'zh-CN')
  const switched = await reader.request('GET', '/oidc/device?lang=en')
  t.equal(htmlLang(switched.body), 'en')
  t.match(switched.body, 'Enter the code your device shows.')
  t.equal(reader.jar.get('lang'), 'en', 'the choice is kept in the lang cookie')
  const later = await reader.request('GET', '/oidc/device')
  t.equal(htmlLang(later.body), 'en', 'and the next page keeps it')
  t.equal(htmlLang((await browser(app, 'en-GB,en').request('GET', '/oidc/device')).body), 'en')
  t.equal(htmlLang((await browser(app, 'fr, zh-TW;q=0.5').request('GET', '/oidc/device')).body), 'zh-CN')
})
