import type { Lang } from '@qr-login/messages'

/** ?lang= wins (and is remembered in a cookie), then the cookie, then Accept-Language; English by default. */
export function pickLanguage(
  query: string | undefined,
  cookie: string | undefined,
  acceptLanguage: string | undefined,
): Lang {
  const known = (value: string | undefined): Lang | undefined =>
    value === undefined ? undefined : /^zh\b/i.test(value) ? 'zh-CN' : /^en\b/i.test(value) ? 'en' : undefined
  const chosen = known(query) ?? known(cookie)
  if (chosen) return chosen
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find(Boolean)
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q) }
    })
    .filter((entry) => entry.tag && entry.q > 0)
    .sort((a, b) => b.q - a.q)
  for (const { tag } of ranked) {
    const lang = known(tag)
    if (lang) return lang
  }
  return 'en'
}

/** The language cookie: a year, for every page of the site. */
export const languageCookie = { name: 'lang', path: '/', sameSite: 'lax' as const, maxAgeSeconds: 365 * 24 * 3600 }
