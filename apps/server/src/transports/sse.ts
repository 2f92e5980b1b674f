import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { EventMessage } from 'fastify-sse-v2'
import { serializeSSEEvent } from 'fastify-sse-v2/lib/sse.js'
import { serializeStatus } from '../lib/status.js'
import { LoginIdParams } from '@qr-login/wire'
import { errors, security } from '../openapi.js'
import { defineTransport } from './transport.js'
import fp from 'fastify-plugin'

const reconnectDelayMs = 1000

function parseLastEventId(header: string | undefined): number | undefined {
  return header !== undefined && /^\d{1,15}$/.test(header.trim()) ? Number(header) : undefined
}

async function sseRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/api/qr/:id/events',
    {
      schema: {
        tags: ['pc'],
        summary: 'Server-Sent Events: `event: status`, `id: <version>`, `data: <status JSON>`',
        description:
          'The current status at once (unless Last-Event-ID equals it), then every change; a comment line at least every 15 s; ends after confirmed or a terminal status.',
        security: security.watch,
        params: LoginIdParams,
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String()) }),
        produces: ['text/event-stream'],
        response: {
          200: { type: 'string', description: 'text/event-stream' },
          204: { type: 'null', description: 'Last-Event-ID already holds the final status: nothing more will come' },
          ...errors(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      // Opened before any byte is written, so a refusal is still a plain JSON error.
      const stream = await app.watchStreams.openHttp(request, reply, 'sse', {
        since: parseLastEventId(request.headers['last-event-id']),
      })
      if (!stream) return reply.hijack()
      if (request.method === 'HEAD') {
        stream.close()
        return reply.code(200).type('text/event-stream; charset=utf-8').header('cache-control', 'no-cache').send('')
      }
      // A reconnect that already has the final status: 204 tells EventSource to stop reconnecting.
      if (stream.holdsFinal) {
        stream.close()
        return reply.code(204).send(null)
      }

      // fastify-sse-v2's serializer writes every event; its per-stream pipeline (it-pushable, an
      // async-generator chain, it-to-stream) doubled the heap per watcher and the p99 at 10,000
      // watchers (docs/benchmarks.md), so events go straight to the socket. They are a few hundred
      // bytes, at most four per login plus a heartbeat: nothing for backpressure to hold back.
      const response = reply.raw
      const write = (event: EventMessage) => {
        if (!response.writableEnded) response.write(serializeSSEEvent(event))
      }
      const end = () => {
        if (!response.writableEnded) response.end()
      }
      // We write the head ourselves so the headers are exactly the contract's.
      reply.hijack()
      response.writeHead(200, {
        ...(reply.getHeaders() as OutgoingHttpHeaders),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      })
      write({ retry: reconnectDelayMs })
      stream.attach({
        send: (status) => write({ event: 'status', id: String(status.version), data: serializeStatus(status) }),
        end,
        ping: () => write({ comment: ' keep-alive' }),
        restart: () => {
          write({ comment: ' server restarting, reconnect' })
          end()
        },
      })
    },
  )
}

export default defineTransport({
  name: 'sse',
  heartbeatMs: (config) => config.sseHeartbeatMs,
  plugin: fp(sseRoutes, { name: 'sse-transport', dependencies: ['watch-streams'], encapsulate: true }),
})
