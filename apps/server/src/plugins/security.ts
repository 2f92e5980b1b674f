import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'

/** The contract's headers: a strict CSP on pages, and nothing under /api is ever cached. */
export default fp(async function security(app) {
  // @fastify/helmet builds helmet's middleware on every request (a sixth of the server's CPU on short polls):
  // JSON API routes skip it and get their few relevant headers from the hook below; pages keep it.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/') && route.helmet === undefined) route.helmet = false
  })
  await app.register(helmet, {
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
  })
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/api/') || request.url === '/api') {
      reply.header('cache-control', 'no-store')
      reply.header('x-content-type-options', 'nosniff')
      reply.header('referrer-policy', 'no-referrer')
    }
  })
})
