import t from 'tap'
import Fastify from 'fastify'
import accepts from '@fastify/accepts'
import { pickLanguage } from '../../../apps/server/src/lib/language.js'

/** The pages' choice of language, with the negotiator the service uses (@fastify/accepts). */
async function languageApp() {
  const app = Fastify()
  await app.register(accepts)
  app.get('/', async (request) => {
    const { lang, cookie } = request.query as { lang?: string; cookie?: string }
    return pickLanguage(lang, cookie, (offered) => request.languages(offered))
  })
  return app
}

t.test('Accept-Language is weighed by q-value and tag prefix; ?lang= and the cookie come first', async (t) => {
  const app = await languageApp()
  t.teardown(() => app.close())
  const pick = async (acceptLanguage: string | undefined, query = '') =>
    (
      await app.inject({
        url: `/${query}`,
        headers: acceptLanguage === undefined ? {} : { 'accept-language': acceptLanguage },
      })
    ).body
  t.equal(await pick(undefined), 'en', 'no header: English')
  t.equal(await pick('zh-CN,zh;q=0.9,en;q=0.8'), 'zh-CN')
  t.equal(await pick('zh-TW'), 'zh-CN', 'any Chinese tag reads the Chinese pages')
  t.equal(await pick('en-GB,en;q=0.9'), 'en')
  t.equal(await pick('fr-FR, en;q=0.5, zh;q=0.7'), 'zh-CN', 'the higher q wins, whatever its place')
  t.equal(await pick('zh;q=0, en'), 'en', 'q=0 means not acceptable')
  t.equal(await pick('fr, de;q=0.5'), 'en', 'nothing offered is acceptable: English')
  t.equal(await pick('en', '?lang=zh-CN'), 'zh-CN', '?lang= wins over the header')
  t.equal(await pick('zh-CN', '?cookie=en'), 'en', 'the remembered choice wins over the header')
  t.equal(await pick('zh-CN', '?lang=klingon'), 'zh-CN', 'an unknown ?lang= is ignored')
})
