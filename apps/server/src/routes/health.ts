import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { HttpError } from '../errors.js'
import { errors } from '../openapi.js'
import fp from 'fastify-plugin'

const Live = Type.Object({ status: Type.Literal('ok') })
const Ready = Type.Object({ status: Type.Literal('ready') })

/**
 * What a load balancer or an orchestrator asks: is the process serving (/healthz), and should it be
 * sent traffic (/readyz: the store answers, and no shutdown has begun; from SIGTERM on, the shutdown
 * plugin answers 503 SHUTTING_DOWN to every request). No credentials, no rate limit, and no request
 * log line at info: a probe every few seconds would drown the log.
 */
async function healthRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Liveness: 200 while the process serves',
        response: { 200: Live },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store')
      return { status: 'ok' as const }
    },
  )

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Readiness: 200 while the store answers; 503 STORE_UNAVAILABLE, or SHUTTING_DOWN from SIGTERM on',
        response: { 200: Ready, ...errors(503) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store')
      await app.backend.ping()
      // A shutdown that began while the store was asked (before it, the shutdown plugin answers).
      if (app.shuttingDown) throw new HttpError('SHUTTING_DOWN')
      return { status: 'ready' as const }
    },
  )
}

export default fp(healthRoutes, { name: 'health-routes', dependencies: ['services', 'shutdown'], encapsulate: true })
