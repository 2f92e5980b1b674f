import t from 'tap'
import { catalogs, languages, translate } from '@qr-login/messages'

t.test('every message exists in English and Chinese, with the same placeholders', async (t) => {
  t.same(languages, ['en', 'zh-CN'])
  const keys = Object.keys(catalogs.en).sort()
  t.ok(keys.length > 100, `${keys.length} messages`)
  t.same(Object.keys(catalogs['zh-CN']).sort(), keys, 'the same keys in both')
  const placeholders = (message: string) => [...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
  for (const key of keys) {
    const [en, zh] = [catalogs.en, catalogs['zh-CN']].map((catalog) => catalog[key as keyof typeof catalog])
    t.ok(en.trim() && zh.trim(), `${key}: neither is empty`)
    t.same(placeholders(zh), placeholders(en), `${key}: the same placeholders`)
  }
  t.equal(translate('zh-CN', 'oidc.device.asks', { name: 'Test TV' }), 'Test TV 请求你登录')
})
