import type { ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

const pagePolicy: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      // No upgrade-insecure-requests: phones reach this over plain http on the LAN.
    },
  },
  referrerPolicy: { policy: 'no-referrer' },
  // HSTS on a LAN address served over http would only confuse browsers.
  strictTransportSecurity: false,
  crossOriginResourcePolicy: { policy: 'same-origin' },
}

/**
 * The headers helmet sets for this policy. They depend on nothing in the request (no nonces), so
 * they are worked out once: helmet's middleware, run per request, parsed the whole policy every time.
 */
export function pageHeaders(options: Readonly<HelmetOptions> = pagePolicy): [string, string][] {
  const headers: [string, string][] = []
  const recorder = {
    setHeader: (name: string, value: string) => headers.push([name.toLowerCase(), String(value)]),
    removeHeader: () => undefined,
  }
  let error: unknown
  helmet(options)({} as never, recorder as unknown as ServerResponse, (cause?: unknown) => (error = cause))
  if (error) throw error
  return headers
}

/** The contract's headers: a strict CSP (and helmet's other headers) on everything but the API; nothing under /api is ever cached. */
export default fp(
  async function security(app) {
    const forPages = pageHeaders()
    // One synchronous hook for every request: an async one costs a promise and a turn of the microtask queue each.
    app.addHook('onRequest', (request, reply, done) => {
      const url = request.url
      if (url.startsWith('/api/') || url === '/api' || url.startsWith('/api?')) {
        reply.header('cache-control', 'no-store')
        reply.header('x-content-type-options', 'nosniff')
        reply.header('referrer-policy', 'no-referrer')
      } else {
        // On the raw response, as helmet does: the OpenID provider answers through it, not through Fastify.
        const raw = reply.raw
        for (const [name, value] of forPages) raw.setHeader(name, value)
        raw.removeHeader('x-powered-by')
      }
      done()
    })
  },
  { name: 'security' },
)
