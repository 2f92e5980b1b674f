import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { LoginStatusView as Status } from '@qr-login/core'
import { presentedToken } from '../lib/request-auth.js'
import { LoginIdParams, LoginStatusView, StatusQuery } from '@qr-login/wire'
import { errors, security } from '../openapi.js'
import { defineTransport } from './transport.js'
import fp from 'fastify-plugin'

const defaultLongPollWaitSeconds = 25

/** GET /api/qr/:id: a short poll (one read), or with wait/since a long poll held as a watch. */
async function pollRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { logins } = app

  app.get(
    '/api/qr/:id',
    {
      schema: {
        tags: ['pc'],
        summary: 'Short poll, or long poll with wait/since',
        description:
          'Without a query: the status now. With since (and wait, default 25 s): held until version > since or wait seconds pass.',
        security: security.watch,
        params: LoginIdParams,
        querystring: StatusQuery,
        response: { 200: LoginStatusView, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const { wait, since } = request.query
      await app.limits.countPoll(request)
      if (wait === undefined && since === undefined)
        return logins.read(request.params.id, presentedToken(request, 'qr_watch').token)

      const stream = await app.watchStreams.openHttp(request, reply, 'long-poll', {
        since,
        maxDurationMs: (wait ?? defaultLongPollWaitSeconds) * 1000,
      })
      if (!stream) return reply.hijack()
      // Without since, the first status heard (the current one) is where "a change" starts from.
      let from = since
      return new Promise<Status>((resolve) => {
        let answered = false
        const answer = (status: Status) => {
          if (answered) return
          answered = true
          stream.close()
          resolve(status)
        }
        stream.attach({
          send: (status) => {
            if (from === undefined) from = status.version
            else if (status.version > from) answer(status)
          },
          // Its wait ran out, or the client left: the latest status, unchanged.
          end: () => answer(stream.current!),
          restart: () => answer(stream.current!),
        })
      })
    },
  )
}

export default defineTransport({
  name: 'long-poll',
  plugin: fp(pollRoutes, { name: 'long-poll-transport', dependencies: ['watch-streams', 'limits'], encapsulate: true }),
})
