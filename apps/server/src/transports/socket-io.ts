import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import { clientAddress, trustRule } from '../lib/client-address.js'
import { Server, type Socket } from 'socket.io'
import { isLoginId } from '@qr-login/core'
import { HttpError, toErrorBody } from '../errors.js'
import { isAllowedOrigin } from '../lib/request-auth.js'
import { statusObject } from '../lib/status.js'
import type { WatchClient, WatchStream } from '../lib/watch-stream.js'
import { defineTransport } from './transport.js'

export const socketIoPath = '/socket.io/'

/** What the client sends in the handshake: io(PUBLIC_URL + '/qr', { auth: { id, watchToken, since? } }). */
interface HandshakeAuth {
  id: string
  watchToken?: string
  since?: number
}

function parseAuth(auth: unknown): HandshakeAuth {
  const { id, watchToken, since } = (auth ?? {}) as Record<string, unknown>
  if (!isLoginId(id)) throw new HttpError('VALIDATION_ERROR', 'auth.id must be a 21-character login id')
  if (watchToken !== undefined && typeof watchToken !== 'string')
    throw new HttpError('VALIDATION_ERROR', 'auth.watchToken must be a string')
  if (since !== undefined && !(Number.isSafeInteger(since) && (since as number) >= 0)) {
    throw new HttpError('VALIDATION_ERROR', 'auth.since must be a whole number from 0 up')
  }
  return { id, watchToken: watchToken || undefined, since: since as number | undefined }
}

/** The origin this handshake was sent to, as Fastify's request.protocol and request.host would give it. */
function ownOrigin(socket: Socket): string {
  return `${socket.handshake.secure ? 'https' : 'http'}://${socket.handshake.headers.host ?? ''}`
}

/** A socket.io client is gone once its connection closes or it leaves the namespace. */
function socketClient(socket: Socket): WatchClient {
  return {
    gone: () => socket.conn.readyState !== 'open',
    onGone(listener) {
      socket.conn.once('close', listener)
      socket.once('disconnect', listener)
    },
    offGone(listener) {
      socket.conn.off('close', listener)
      socket.off('disconnect', listener)
    },
  }
}

/** A refusal is a failed connect: the client's connect_error has message = the code and data = the error body. */
function refusal(error: unknown): Error & { data: unknown } {
  const body = toErrorBody(error)
  return Object.assign(new Error(body.code), { data: body })
}

/**
 * socket.io 4 on the service's own HTTP(S) server, namespace /qr. Its
 * polling and upgrade requests bypass Fastify (engine.io answers them), so
 * the handshake is checked here: Origin, auth, then the same watch lifecycle
 * as every other transport.
 */
const socketIoTransport = fp(
  async function socketIoTransport(app) {
    const { config } = app
    const trust = trustRule(config.trustProxy)
    const io = new Server({
      path: socketIoPath,
      serveClient: false,
      // Clients have nothing to say after the handshake.
      maxHttpBufferSize: 4096,
      // Under WORKERS each request may reach another process, and a polling session lives in the one that opened
      // it: WebSocket only, refused at the first polling request so a client moves to WebSocket (tryAllTransports).
      ...(config.workers > 1 ? { transports: ['websocket' as const] } : {}),
    })
    // plugins/upgrades.ts routes every upgrade through Fastify, which would answer socket.io's with a 404;
    // engine.io's own listener must see them alone, and must leave every other upgrade to Fastify.
    const server = app.server
    const fastifyUpgrades = server.listeners('upgrade') as ((...args: unknown[]) => void)[]
    server.removeAllListeners('upgrade')
    io.attach(server, { destroyUpgrade: false })
    for (const listener of fastifyUpgrades) {
      server.on('upgrade', (request: IncomingMessage, ...rest: unknown[]) => {
        if (!request.url?.startsWith(socketIoPath)) listener.call(server, request, ...rest)
      })
    }

    const namespace = io.of('/qr')
    const streams = new WeakMap<Socket, WatchStream>()
    namespace.use((socket, next) => {
      const open = async () => {
        const origin = socket.handshake.headers.origin
        if (origin !== undefined && !isAllowedOrigin(origin, ownOrigin(socket), config))
          throw new HttpError('ORIGIN_REJECTED')
        const { id, watchToken, since } = parseAuth(socket.handshake.auth)
        const stream = await app.watchStreams.open({
          transport: 'socket.io',
          loginId: id,
          token: watchToken,
          ip: clientAddress(socket.request, trust),
          since,
          client: socketClient(socket),
        })
        if (stream) streams.set(socket, stream)
      }
      open().then(
        () => next(),
        (error: unknown) => {
          const body = toErrorBody(error)
          if (body.statusCode >= 500) app.log.error({ err: error }, 'socket.io watch failed')
          else app.metrics.refused(body.code)
          next(refusal(error))
        },
      )
    })
    namespace.on('connection', (socket) => {
      const stream = streams.get(socket)
      if (!stream) return socket.disconnect(true)
      stream.attach({
        send: (status) => socket.emit('status', statusObject(status)),
        // From the server's side: the client does not reconnect after "io server disconnect".
        end: () => socket.disconnect(true),
        // Closing the connection under it ("transport close") makes the client reconnect, to another instance if this one is gone.
        restart: () => socket.conn.close(),
      })
    })

    // Live watches are told to reconnect by the lifecycle's shutdown; this ends every other engine.io
    // connection (a handshake still under way, a client with no namespace), which would keep close() waiting.
    app.addHook('preClose', async () => {
      io.engine.close()
    })
    app.addHook('onClose', async () => {
      namespace.removeAllListeners()
    })
  },
  { name: 'socket.io-transport', dependencies: ['watch-streams', 'upgrades', 'services'] },
)

export default defineTransport({ name: 'socket.io', plugin: socketIoTransport })
