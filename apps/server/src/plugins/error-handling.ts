import fp from 'fastify-plugin'
import { HttpError, toErrorBody } from '../errors.js'

/** One error handler: logs the full error, shows a message only for 4xx, always in the contract's shape. */
export default fp(
  async function errorHandling(app) {
    app.setErrorHandler((error, request, reply) => {
      const body = toErrorBody(error)
      if (body.code === 'STORE_UNAVAILABLE') app.metrics.storeError()
      if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed')
      else {
        request.log.info({ code: body.code, message: body.message }, 'request refused')
        app.metrics.refused(body.code)
      }
      if (body.code === 'RATE_LIMITED' && !reply.getHeader('retry-after')) {
        reply.header(
          'retry-after',
          String(error instanceof HttpError && error.retryAfterSeconds ? error.retryAfterSeconds : 1),
        )
      }
      return reply.code(body.statusCode).send(body)
    })
    app.setNotFoundHandler((request, reply) => {
      const body = toErrorBody({ statusCode: 404, message: `No route ${request.method} ${request.url.split('?')[0]}` })
      return reply.code(404).send(body)
    })
  },
  { name: 'error-handling', dependencies: ['services'] },
)
