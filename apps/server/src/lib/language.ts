import type { Lang } from '@qr-login/messages'

/** The language tags offered to Accept-Language: `zh` takes every Chinese tag (zh-TW, zh-Hans...) to zh-CN. */
const offered = ['en', 'zh-CN', 'zh']

const known = (value: string | undefined): Lang | undefined =>
  value === undefined ? undefined : /^zh\b/i.test(value) ? 'zh-CN' : /^en\b/i.test(value) ? 'en' : undefined

/**
 * ?lang= wins (and is remembered in a cookie), then the cookie, then Accept-Language; English by default.
 * `acceptsLanguages` is the framework's negotiator over the header (jshttp's accepts: @fastify/accepts'
 * `request.languages`, Koa's `ctx.acceptsLanguages`), which weighs q-values and tag prefixes as RFC 9110 says.
 */
export function pickLanguage(
  query: string | undefined,
  cookie: string | undefined,
  acceptsLanguages: (offered: string[]) => string | false,
): Lang {
  return known(query) ?? known(cookie) ?? known(acceptsLanguages(offered) || undefined) ?? 'en'
}

/** The language cookie: a year, for every page of the site. */
export const languageCookie = { name: 'lang', path: '/', sameSite: 'lax' as const, maxAgeSeconds: 365 * 24 * 3600 }
