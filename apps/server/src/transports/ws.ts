import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { HttpError } from '../errors.js'
import { originAllowed } from '../lib/request-auth.js'
import { serializeStatusFrame } from '../lib/status.js'
import type { WatchStream } from '../lib/watch-stream.js'
import { LoginIdParams, errors, security } from '../schemas.js'
import { defineTransport } from './transport.js'

/** RFC 6455 close codes */
const normalClosure = 1000
const serviceRestart = 1012

const streams = new WeakMap<FastifyRequest, WatchStream>()

async function wsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config } = app

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
    // The watch opens before the upgrade, so every refusal is an ordinary HTTP answer
    // and nothing can fill the caps between a check and the upgrade.
    preHandler: async (request, reply) => {
      if (!originAllowed(request, config)) throw new HttpError('ORIGIN_REJECTED')
      const stream = await app.watchStreams.openHttp(request, reply, 'ws')
      if (stream) streams.set(request, stream)
    },
    handler: async (request) => {
      streams.get(request)?.close()
      throw new HttpError('UPGRADE_REQUIRED')
    },
    wsHandler: (socket, request) => {
      const stream = streams.get(request)
      if (!stream) return socket.terminate()
      let alive = true
      // Handlers are attached synchronously, before anything is awaited.
      socket.on('message', () => {
        // Clients have nothing to say on this socket; anything they send is ignored.
      })
      socket.on('pong', () => (alive = true))
      socket.on('close', () => stream.close())
      stream.attach({
        send: (status) => socket.send(serializeStatusFrame(status)),
        end: () => socket.close(normalClosure, stream.current?.status),
        ping: () => {
          if (!alive) return socket.terminate()
          alive = false
          socket.ping()
        },
        restart: () => socket.close(serviceRestart, 'Service restarting'),
      })
    },
  })
}

export default defineTransport({ name: 'ws', heartbeatMs: (config) => config.wsPingMs, plugin: wsRoutes })
