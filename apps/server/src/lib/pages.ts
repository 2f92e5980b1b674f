import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import escapeHtml from 'escape-html'
import { webPublicDir } from '../paths.js'
import { languageCookie, pickLanguage } from './language.js'

export const pageFiles = { pc: 'index.html', phone: 'phone.html' } as const
export type PageName = keyof typeof pageFiles
const pageCache = new Map<PageName, string>()
export const pageSource = (page: PageName) => {
  let html = pageCache.get(page)
  if (html === undefined) pageCache.set(page, (html = readFileSync(join(webPublicDir, pageFiles[page]), 'utf8')))
  return html
}

/**
 * Sends a page in the request's language, with who is signed in (the session cookies are HttpOnly,
 * so the page learns it from here instead of probing an API with a 401) and any `extra` meta data
 * (the OpenID provider's sign-in names the application asking).
 */
export async function sendPage(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  page: PageName,
  extra: Record<string, unknown> = {},
  { inspector = true }: { inspector?: boolean } = {},
) {
  const asked = (request.query as { lang?: string }).lang
  const lang = pickLanguage(asked, request.cookies.lang, (offered) => request.languages(offered))
  if (asked)
    reply.setCookie(languageCookie.name, lang, {
      path: languageCookie.path,
      sameSite: languageCookie.sameSite,
      maxAge: languageCookie.maxAgeSeconds,
    })
  // The PC page also says how its session was approved (tap or passkey). A store that cannot answer is a 503:
  // a page that said "signed out" would send the user to sign in again, into the same outage.
  const user = await (page === 'pc'
    ? app.logins.sessions
        .pc(request.cookies.sid)
        .then((session) => session && { ...session.user, approvedWith: session.approvedWith })
    : app.logins.sessions.user('phone', request.cookies.m_session))
  // Under WORKERS socket.io takes WebSocket only (transports/socket-io.ts): the page need not try polling first.
  const socketIo = page === 'pc' && app.config.workers > 1 ? { 'qr-login-socket-io-transports': ['websocket'] } : {}
  const meta = Object.entries({ 'qr-login-user': user, ...socketIo, ...extra })
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `<meta name="${name}" content="${escapeHtml(JSON.stringify(value))}">\n`)
    .join('')
  let html = pageSource(page).replace('<html lang="en">', `<html lang="${lang}">`).replace('</head>', `${meta}</head>`)
  // Developer tooling stays off pages an application's users see: the section is not sent at all.
  if (!inspector)
    html = html
      .replace(/\s*<section class="card inspector"[\s\S]*?<\/section>/, '')
      .replace('<body class="pc">', '<body class="pc app-sign-in">')
  // Pages change with the session and the language: let caches keep no copy.
  return reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('vary', 'accept-language, cookie')
    .send(html)
}

export const LangQuery = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 16 })) })
/** An application's QR page: `?inspect=1` brings the transport inspector back, for its developers. */
export const AppPageQuery = Type.Object({
  ...LangQuery.properties,
  inspect: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0')])),
})
