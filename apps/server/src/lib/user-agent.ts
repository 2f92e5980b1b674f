import type { FastifyRequest } from 'fastify'
import Bowser from 'bowser'

/** The request's User-Agent, cut to what is worth storing. */
export function userAgentOf(request: FastifyRequest): string {
  return (request.headers['user-agent'] ?? '').slice(0, 512)
}

/** Human-readable browser and OS names ("Chrome 131", "Windows 10") for the phone's "who is asking". */
export function describeUserAgent(userAgent: string): { browser: string; os: string } {
  if (!userAgent) return { browser: 'Unknown browser', os: 'Unknown OS' }
  const parsed = Bowser.parse(userAgent)
  const major = parsed.browser.version?.split('.')[0]
  // Scripts and CLIs ("curl/8.4.0", "qr-login/0.1.0") are named by their first product token.
  const product = /^([A-Za-z][\w.-]*)\/(\d+)/.exec(userAgent)
  const browser = parsed.browser.name
    ? [parsed.browser.name, major].filter(Boolean).join(' ')
    : product
      ? `${product[1]} ${product[2]}`
      : 'Unknown browser'
  let os = 'Unknown OS'
  if (parsed.os.name) {
    const version = parsed.os.versionName ?? parsed.os.version
    os = version && !parsed.os.name.includes(version) ? `${parsed.os.name} ${version}` : parsed.os.name
  }
  return { browser, os }
}
