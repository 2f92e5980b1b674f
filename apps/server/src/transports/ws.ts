import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { WebSocketServer, type WebSocket } from 'ws'
import { HttpError } from '../errors.js'
import { originAllowed } from '../lib/request-auth.js'
import { serializeStatusFrame } from '../lib/status.js'
import { connectionClient, type WatchSink, type WatchStream } from '../lib/watch-stream.js'
import type { LoginStatusView } from '@qr-login/core'
import { takeUpgrade } from '../plugins/upgrades.js'
import { LoginIdParams } from '@qr-login/wire'
import { errors, security } from '../openapi.js'
import { defineTransport } from './transport.js'
import fp from 'fastify-plugin'

/** RFC 6455 close codes */
const normalClosure = 1000
const serviceRestart = 1012

const streams = new WeakMap<FastifyRequest, WatchStream>()

/**
 * What a watch writes to an open socket. One object per socket with its
 * listeners shared by every socket (they find their sink on the socket):
 * closures per socket were a good part of what a held watcher cost.
 */
class WsSink implements WatchSink {
  /** Answered the last ping. */
  alive = true

  constructor(
    private readonly socket: WebSocket,
    private readonly stream: WatchStream,
  ) {}

  send(status: LoginStatusView): void {
    this.socket.send(serializeStatusFrame(status))
  }

  end(): void {
    this.socket.close(normalClosure, this.stream.current?.status)
  }

  ping(): void {
    if (!this.alive) return this.socket.terminate()
    this.alive = false
    this.socket.ping()
  }

  restart(): void {
    this.socket.close(serviceRestart, 'Service restarting')
  }

  closed(): void {
    this.stream.close()
  }
}

const sinkOf = Symbol('watch sink')
type WatchedSocket = WebSocket & { [sinkOf]: WsSink }

function onPong(this: WebSocket): void {
  ;(this as WatchedSocket)[sinkOf].alive = true
}

function onClose(this: WebSocket): void {
  ;(this as WatchedSocket)[sinkOf].closed()
}

/** A protocol error (a bad frame, a frame too large): ws has already begun closing; make sure the socket goes. */
function onError(this: WebSocket): void {
  this.terminate()
}

function attachSocket(socket: WebSocket, stream: WatchStream): void {
  const sink = new WsSink(socket, stream)
  // Listeners are attached at once, in the upgrade's callback, before anything is awaited.
  ;(socket as WatchedSocket)[sinkOf] = sink
  socket.on('error', onError)
  socket.on('pong', onPong)
  socket.on('close', onClose)
  stream.attach(sink)
}

async function wsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config } = app
  // Clients have nothing to say on this socket (whatever they send is dropped), so frames are kept small;
  // the live watches are counted, pinged and closed by the lifecycle, not by a client set here.
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 4096 })

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
      // The watch follows the connection, which outlives this request and its reply once upgraded.
      const client = connectionClient(request.raw.socket)
      const stream = await app.watchStreams.openHttp(request, reply, 'ws', { client })
      if (stream) streams.set(request, stream)
    },
    handler: async (request, reply) => {
      const stream = streams.get(request)
      const upgrade = takeUpgrade(request.raw, reply.raw)
      if (!upgrade) {
        stream?.close()
        throw new HttpError('UPGRADE_REQUIRED')
      }
      reply.hijack()
      // No stream: the client left while the watch opened.
      if (!stream) {
        upgrade.socket.destroy()
        return
      }
      // A handshake ws refuses (a bad key or version) gets its 400 and the socket closes, which ends the watch.
      wss.handleUpgrade(request.raw, upgrade.socket, upgrade.head, (socket) => attachSocket(socket, stream))
    },
  })
}

export default defineTransport({
  name: 'ws',
  heartbeatMs: (config) => config.wsPingMs,
  plugin: fp(wsRoutes, { name: 'ws-transport', dependencies: ['watch-streams', 'upgrades'], encapsulate: true }),
})
