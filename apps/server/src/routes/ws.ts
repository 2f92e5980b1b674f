import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { endsWatch, type Watch } from '@qr-login/core'
import { HttpError, toErrorBody } from '../errors.js'
import { originAllowed, presentedToken } from '../lib/request-auth.js'
import { LoginIdParams, errors, security } from '../schemas.js'

/** RFC 6455 close codes */
const normalClosure = 1000
const policyViolation = 1008
const internalError = 1011
const serviceRestart = 1012
const tryAgainLater = 1013

export default async function wsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, logins } = app

  app.route({
    method: 'GET',
    url: '/api/qr/:id/ws',
    schema: {
      tags: ['pc'],
      summary: 'WebSocket: a text frame {"type":"status", ...status} for the current status and every change',
      description:
        'Closes with 1000 after confirmed or a terminal status; the server pings at least every 30 s. Refusals (400, 401, 403, 404) are plain HTTP answers to the upgrade. A plain GET gets 426.',
      security: security.watch,
      params: LoginIdParams,
      response: errors(400, 401, 403, 404, 426, 429),
    },
    // Everything that can refuse runs before the upgrade, so refusals are ordinary HTTP answers.
    preHandler: async (request) => {
      if (!originAllowed(request, config)) throw new HttpError('ORIGIN_REJECTED')
      await logins.read(request.params.id, presentedToken(request, 'qr_watch').token)
      app.limits.checkWatcher(request.params.id, request.ip)
    },
    handler: async () => {
      throw new HttpError('UPGRADE_REQUIRED')
    },
    wsHandler: (socket, request) => {
      const { id } = request.params as { id: string }
      let watch: Watch | undefined
      let closed = false
      let alive = true
      let release = () => {}

      // Handlers are attached synchronously, before anything is awaited.
      socket.on('message', () => {
        // Clients have nothing to say on this socket; anything they send is ignored.
      })
      socket.on('pong', () => {
        alive = true
      })
      const forget = app.live.add('ws', {
        tick: () => {
          if (!alive) return socket.terminate()
          alive = false
          socket.ping()
        },
        shutdown: () => socket.close(serviceRestart, 'Service restarting'),
      })
      socket.on('close', () => {
        closed = true
        forget()
        release()
        watch?.close()
      })
      try {
        release = app.limits.admitWatcher(id, request.ip)
      } catch {
        // Filled up between the check before the upgrade and now.
        socket.close(tryAgainLater, 'RATE_LIMITED')
        return
      }

      logins
        .watch(id, presentedToken(request, 'qr_watch').token, {
          onStatus: (status, changedAt) => {
            socket.send(JSON.stringify({ type: 'status', ...status }))
            app.metrics.delivered('ws', changedAt)
            if (endsWatch(status.status)) socket.close(normalClosure, status.status)
          },
        })
        .then(
          (opened) => {
            if (closed) opened.close()
            else watch = opened
          },
          (error: unknown) => {
            const body = toErrorBody(error)
            if (body.statusCode >= 500) request.log.error({ err: error }, 'websocket watch failed')
            socket.close(body.statusCode >= 500 ? internalError : policyViolation, body.code)
          },
        )
    },
  })
}
