import fp from 'fastify-plugin'
import { HttpError } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** True from the moment close() begins (SIGTERM, in server.ts) until the process exits. */
    readonly shuttingDown: boolean
  }
}

/**
 * From the start of close() on, every request gets 503 SHUTTING_DOWN in the contract's error shape
 * (Fastify's own return503OnClosing answers with a body of its own, without a code), with
 * `Connection: close` so the client's next request goes to another instance. /readyz says so too.
 */
export default fp(
  async function shutdown(app) {
    let closing = false
    app.decorate('shuttingDown', {
      getter: () => closing,
    })
    // preClose runs as close() begins, before any connection is ended.
    app.addHook('preClose', async () => {
      closing = true
    })
    app.addHook('onRequest', (_request, reply, done) => {
      if (!closing) return done()
      reply.header('connection', 'close')
      done(new HttpError('SHUTTING_DOWN'))
    })
  },
  { name: 'shutdown' },
)
