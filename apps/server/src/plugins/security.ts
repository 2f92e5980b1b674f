import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'

/** The contract's headers: a strict CSP on pages, and nothing under /api is ever cached. */
export default fp(async function security(app) {
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
    if (request.url.startsWith('/api/') || request.url === '/api') reply.header('cache-control', 'no-store')
  })
})
