import type { KoaContextWithOIDC } from 'oidc-provider'

/** The provider's own pages (device code entry and confirm, sign-out, errors) in the phone page's look. */

export const escapeHtml = (value: unknown) =>
  String(value ?? '').replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!,
  )

/**
 * The site's policy, without form-action: a sign-out form ends in a redirect to the application's
 * post_logout_redirect_uri, which form-action would block. No inline script: the pages have none.
 */
const pagePolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"

export function renderPage(ctx: KoaContextWithOIDC, title: string, body: string, status?: number) {
  if (status) ctx.status = status
  ctx.type = 'html'
  ctx.set('content-security-policy', pagePolicy)
  ctx.set('cache-control', 'no-store')
  ctx.set('referrer-policy', 'no-referrer')
  ctx.set('x-content-type-options', 'nosniff')
  ctx.body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/static/styles.css">
</head>
<body class="phone">
<header class="bar"><span class="brand">QR&nbsp;login</span></header>
<main data-state="oidc">
<section class="card">
${body}
</section>
</main>
</body>
</html>`
}

export function errorPage(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
  renderPage(
    ctx,
    'Sign-in problem',
    `<h1>This sign-in cannot go on</h1>
<p class="error" role="alert" data-error="${escapeHtml(out.error)}">${escapeHtml(out.error_description ?? out.error)}</p>
<p>Go back to the application and start again.</p>`,
  )
}
