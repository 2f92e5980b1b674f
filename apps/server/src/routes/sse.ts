import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { endsWatch, type LoginStatusView, type Watch } from '@qr-login/core'
import { Type } from 'typebox'
import type { EventMessage } from 'fastify-sse-v2'
import { serializeSSEEvent } from 'fastify-sse-v2/lib/sse.js'
import { presentedToken } from '../lib/request-auth.js'
import { LoginIdParams, errors, security } from '../schemas.js'

const reconnectDelayMs = 1000

function parseLastEventId(header: string | undefined): number | undefined {
  return header !== undefined && /^\d{1,15}$/.test(header.trim()) ? Number(header) : undefined
}

export default async function sseRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { logins } = app

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
      const { token } = presentedToken(request, 'qr_watch')
      const since = parseLastEventId(request.headers['last-event-id'])
      let open = false
      const early: LoginStatusView[] = []
      const send = (status: LoginStatusView, changedAt?: number) => {
        app.metrics.delivered('sse', changedAt)
        write({ event: 'status', id: String(status.version), data: JSON.stringify(status) })
        if (endsWatch(status.status)) end()
      }
      // fastify-sse-v2's serializer writes every event; its per-stream pipeline (it-pushable, an
      // async-generator chain, it-to-stream) doubled the heap per watcher and the p99 at 10,000
      // watchers (docs/benchmarks.md), so events go straight to the socket. They are a few hundred
      // bytes, at most four per login plus a heartbeat: nothing for backpressure to hold back.
      const write = (event: EventMessage) => {
        if (!reply.raw.writableEnded) reply.raw.write(serializeSSEEvent(event))
      }
      const end = () => {
        if (!reply.raw.writableEnded) reply.raw.end()
      }

      const release = app.limits.admitWatcher(request.params.id, request.ip)
      let watch: Watch
      try {
        // Opened before any byte is written, so a refusal is still a plain JSON error.
        watch = await logins.watch(request.params.id, token, {
          since,
          onStatus: (status, changedAt) => (open ? send(status, changedAt) : early.push(status)),
        })
      } catch (error) {
        release()
        throw error
      }

      if (request.method === 'HEAD') {
        watch.close()
        release()
        return reply.code(200).type('text/event-stream; charset=utf-8').header('cache-control', 'no-cache').send('')
      }
      // A reconnect that already has the final status: 204 tells EventSource to stop reconnecting.
      if (early.length === 0 && endsWatch(watch.current.status)) {
        release()
        return reply.code(204).send(null)
      }

      // We write the head ourselves so the headers are exactly the contract's.
      reply.hijack()
      reply.raw.writeHead(200, {
        ...(reply.getHeaders() as OutgoingHttpHeaders),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      })
      write({ retry: reconnectDelayMs })
      open = true

      const forget = app.live.add('sse', {
        tick: () => write({ comment: ' keep-alive' }),
        shutdown: () => {
          write({ comment: ' server restarting, reconnect' })
          end()
        },
      })
      // A client that goes away frees everything it held.
      reply.raw.once('close', () => {
        forget()
        release()
        watch.close()
        end()
      })

      for (const status of early) send(status)
    },
  )
}
