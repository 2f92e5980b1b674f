import type { KoaContextWithOIDC } from 'oidc-provider'
import escape from 'escape-html'
import { catalogs, type Lang, type MessageKey } from '@qr-login/messages'
import { languageCookie, pickLanguage } from '../lib/language.js'

/**
 * The provider's own pages (device code entry and confirm, sign-out, errors) in the phone page's look and
 * in the reader's language: the same catalogue as the PC and phone pages (@qr-login/messages), the same
 * choice of language (?lang=, its cookie, Accept-Language), a language switch, and <html lang> to match.
 */

/** Text for HTML, text and attributes alike (& < > " '): the kept escape-html, as the pages route uses. */
const escapeHtml = (value: unknown) => escape(String(value ?? ''))

/**
 * The site's policy, without form-action: a sign-out form ends in a redirect to the application's
 * post_logout_redirect_uri, which form-action would block. No inline script: the pages have none.
 */
const pagePolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"

/** A page's language, remembered when the reader chose it with the switch. */
function languageOf(ctx: KoaContextWithOIDC): Lang {
  const asked = typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined
  const lang = pickLanguage(asked, ctx.cookies.get(languageCookie.name), (offered) => ctx.acceptsLanguages(offered))
  if (asked)
    ctx.cookies.set(languageCookie.name, lang, {
      path: languageCookie.path,
      sameSite: languageCookie.sameSite,
      maxAge: languageCookie.maxAgeSeconds * 1000,
      httpOnly: false,
      signed: false,
    })
  return lang
}

/**
 * A message as HTML: its own words escaped, each {placeholder} replaced by the markup given for it
 * (callers escape what they pass, or wrap it: `<strong>…</strong>`).
 */
function markup(lang: Lang, key: MessageKey, html: Record<string, string> = {}): string {
  return catalogs[lang][key]
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1]
      return name ? (html[name] ?? '') : escapeHtml(part)
    })
    .join('')
}

/** A message as HTML, its {placeholders} filled with text (escaped here). */
function text(lang: Lang, key: MessageKey, params: Record<string, string> = {}): string {
  return markup(lang, key, Object.fromEntries(Object.entries(params).map(([name, value]) => [name, escapeHtml(value)])))
}

/** The headers every one of these pages carries. */
export const pageHeaders = (lang: Lang) => ({
  'content-security-policy': pagePolicy,
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-language': lang,
  vary: 'accept-language, cookie',
})

/** A whole page in the phone page's look; `asked` is the URL the browser asked for (the switch keeps it). */
function pageHtml(lang: Lang, asked: string, title: string, body: string, script?: string): string {
  const other: Lang = lang === 'en' ? 'zh-CN' : 'en'
  const switchTo = new URL(asked, 'http://page.invalid')
  switchTo.searchParams.set('lang', other)
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/static/styles.css">
${script ? `<script type="module" src="${script}"></script>\n` : ''}</head>
<body class="phone">
<header class="bar"><span class="brand">QR&nbsp;login</span><a id="lang-switch" class="lang" lang="${other}" href="${escapeHtml(switchTo.pathname + switchTo.search)}">${text(lang, 'lang.switch')}</a></header>
<main data-state="oidc">
<section class="card">
${body}
</section>
</main>
</body>
</html>`
}

function renderPage(
  ctx: KoaContextWithOIDC,
  lang: Lang,
  title: string,
  body: string,
  status?: number,
  script?: string,
) {
  if (status) ctx.status = status
  ctx.type = 'html'
  for (const [name, value] of Object.entries(pageHeaders(lang))) ctx.set(name, value)
  // The path the browser asked for: mounted at /oidc, the provider itself sees it without that prefix.
  const asked = (ctx.req as { originalUrl?: string }).originalUrl ?? ctx.originalUrl
  ctx.body = pageHtml(lang, asked, title, body, script)
}

/**
 * The page for a sign-in request that has ended (its interaction expired or was finished), for the
 * service's own routes under /interaction, which a browser may open again from its history.
 */
export function endedSignInPage(lang: Lang, asked: string): string {
  return pageHtml(
    lang,
    asked,
    text(lang, 'oidc.error.title'),
    `<h1>${text(lang, 'oidc.error.heading')}</h1>
<p class="error" role="alert" data-error="INTERACTION_NOT_FOUND">${text(lang, 'oidc.error.ended')}</p>
<p>${text(lang, 'oidc.error.again')}</p>`,
  )
}

export function errorPage(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
  const lang = languageOf(ctx)
  renderPage(
    ctx,
    lang,
    text(lang, 'oidc.error.title'),
    `<h1>${text(lang, 'oidc.error.heading')}</h1>
<p class="error" role="alert" data-error="${escapeHtml(out.error)}">${escapeHtml(out.error_description ?? out.error)}</p>
<p>${text(lang, 'oidc.error.again')}</p>`,
  )
}

/** RP-initiated logout: the provider's form (its xsrf) and a choice between staying and signing out. */
export function logoutPage(ctx: KoaContextWithOIDC, form: string, appName: string | undefined) {
  const lang = languageOf(ctx)
  renderPage(
    ctx,
    lang,
    text(lang, 'oidc.signOut.title'),
    `<h1>${text(lang, 'oidc.signOut.heading')}</h1>
<p>${appName ? text(lang, 'oidc.signOut.hereAndBack', { name: appName }) : text(lang, 'oidc.signOut.here')}</p>
${form}
<div class="choices">
<button type="submit" form="op.logoutForm" class="choice">${text(lang, 'oidc.signOut.stay')}</button>
<button type="submit" form="op.logoutForm" class="choice primary" name="logout" value="yes" autofocus>${text(lang, 'oidc.signOut.confirm')}</button>
</div>`,
  )
}

export function signedOutPage(ctx: KoaContextWithOIDC) {
  const lang = languageOf(ctx)
  renderPage(
    ctx,
    lang,
    text(lang, 'oidc.signedOut.title'),
    `<h1>${text(lang, 'oidc.signedOut.heading')}</h1><p>${text(lang, 'oidc.closePage')}</p>`,
  )
}

export function deviceCancelledPage(ctx: KoaContextWithOIDC) {
  const lang = languageOf(ctx)
  renderPage(
    ctx,
    lang,
    text(lang, 'oidc.device.cancelledTitle'),
    `<p id="result" class="result" role="status" data-state="cancelled">${text(lang, 'oidc.device.cancelled')}</p>`,
    200,
  )
}

/** Our own code form: the provider's has an inline event handler, which the page's policy refuses. */
export function deviceCodePage(ctx: KoaContextWithOIDC, action: string, xsrf: string | undefined, failed: boolean) {
  const lang = languageOf(ctx)
  renderPage(
    ctx,
    lang,
    text(lang, 'oidc.device.codeTitle'),
    `<h1>${text(lang, 'oidc.device.codeHeading')}</h1>
<p>${text(lang, 'oidc.device.codeIntro')}</p>
<form method="post" action="${escapeHtml(action)}" class="form code-form">
<input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}">
<label><span>${text(lang, 'oidc.device.codeLabel')}</span><input name="user_code" class="code-input" autocomplete="off" autocapitalize="characters" placeholder="BCDF-GHJK" required></label>
<button type="submit" class="primary">${text(lang, 'oidc.device.continue')}</button>
</form>
<p class="error" role="alert">${failed ? text(lang, 'oidc.device.codeWrong') : ''}</p>`,
    failed ? 400 : 200,
  )
}

export interface DeviceConfirm {
  appName: string
  /** The app's logo on this service (oidc/logos.ts), when it has one. */
  logo?: string
  browser: string
  os: string
  ip: string | undefined
  userCode: string
  /** The provider's confirm form (its xsrf), which the buttons submit. */
  form: string
  /** Who would approve; none: the phone must sign in first. */
  user: { displayName: string } | undefined
  /** The user holds a passkey: Confirm asks for it, as on a QR login. */
  hasPasskey: boolean
  /** REQUIRE_PASSKEY: a device's sign-in cannot be approved with a tap. */
  passkeyOnly: boolean
}

export function deviceConfirmPage(ctx: KoaContextWithOIDC, page: DeviceConfirm) {
  const lang = languageOf(ctx)
  const again = `/oidc/device?user_code=${encodeURIComponent(page.userCode)}`
  const cancel = `<button id="cancel" type="submit" form="op.deviceConfirmForm" class="choice" name="abort" value="yes">${text(lang, 'phone.cancel')}</button>`
  const confirm = page.hasPasskey
    ? // device.js asks for the passkey, then submits the provider's form; the page works on with the prompt.
      `<button id="confirm-passkey" type="button" class="choice primary" data-user-code="${escapeHtml(page.userCode)}" autofocus>${text(lang, 'phone.confirmWithPasskey')}</button>`
    : `<button id="confirm" type="submit" form="op.deviceConfirmForm" class="choice primary" autofocus>${text(lang, 'phone.confirm')}</button>`
  const choices = !page.user
    ? `<p><a id="sign-in-first" class="primary button" href="/m?next=${encodeURIComponent(again)}">${text(lang, 'oidc.device.signInFirst')}</a></p>`
    : page.passkeyOnly && !page.hasPasskey
      ? `<p id="passkey-only" class="error" role="alert">${text(lang, 'oidc.device.passkeyOnly')}</p>
${page.form}
<div class="choices">${cancel}</div>`
      : `<p id="device-user">${markup(lang, 'oidc.device.as', { name: `<strong>${escapeHtml(page.user.displayName)}</strong>` })}</p>
${page.form}
<p id="passkey-problem" class="error" role="alert"></p>
<div class="choices">
${cancel}
${confirm}
</div>`
  renderPage(
    ctx,
    lang,
    text(lang, 'oidc.device.asks', { name: page.appName }),
    `${page.logo ? `<img id="ask-app-logo" class="app-logo" width="64" height="64" src="${escapeHtml(page.logo)}" alt="${text(lang, 'app.logoAlt', { name: page.appName })}">\n` : ''}<h1 id="ask-title" data-app="${escapeHtml(page.appName)}">${text(lang, 'oidc.device.asks', { name: page.appName })}</h1>
<dl class="requester">
<dt>${text(lang, 'oidc.device.device')}</dt><dd id="req-browser">${escapeHtml(page.browser)}</dd>
<dt>${text(lang, 'oidc.device.system')}</dt><dd id="req-os">${escapeHtml(page.os)}</dd>
<dt>${text(lang, 'oidc.device.ip')}</dt><dd id="req-ip">${escapeHtml(page.ip)}</dd>
<dt>${text(lang, 'oidc.device.code')}</dt><dd id="device-code"><kbd>${escapeHtml(page.userCode)}</kbd></dd>
</dl>
<p class="warning" role="note">${text(lang, 'oidc.device.warning')}</p>
${choices}`,
    undefined,
    page.user && page.hasPasskey ? '/assets/device.js' : undefined,
  )
}

export function deviceDonePage(ctx: KoaContextWithOIDC, appName: string | undefined) {
  const lang = languageOf(ctx)
  renderPage(
    ctx,
    lang,
    text(lang, 'oidc.device.doneTitle'),
    `<p id="result" class="result" role="status" data-state="done">${text(lang, 'oidc.device.done', {
      name: appName ?? catalogs[lang]['oidc.device.theDevice'],
    })}</p>`,
  )
}
