import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import fp from 'fastify-plugin'

/**
 * On close, ends at once the connections that have sent no request, or only part of its headers: a
 * browser's preconnected socket, a slow client. Node's server.close() leaves them open, because it counts
 * a connection's first request as started from the moment the connection opens, so they held close()
 * until HEADERS_TIMEOUT_SECONDS, or a minute for a browser's idle socket (seen in the tests). A request
 * being answered still gets its answer; upgraded connections belong to their transport, which ends them.
 */
export default fp(
  async function connections(app) {
    const server = app.server
    const open = new Set<Socket>()
    // The answer each connection is writing, from the server's own 'request' event (Node keeps it in a private
    // field of the socket): a connection whose request arrived and whose answer is not finished is left to finish.
    const answers = new WeakMap<Socket, ServerResponse>()
    const noteAnswer = (request: IncomingMessage, response: ServerResponse) => answers.set(request.socket, response)
    const answering = (socket: Socket) => {
      const response = answers.get(socket)
      return Boolean(response && !response.writableFinished)
    }
    // Under TLS the request's socket is the TLS one, known once its handshake is done.
    const opened = server instanceof TlsServer ? 'secureConnection' : 'connection'
    const track = (socket: Socket) => {
      open.add(socket)
      socket.once('close', () => open.delete(socket))
    }
    const handOver = (_request: unknown, socket: Socket) => open.delete(socket)
    server.on(opened, track)
    server.on('request', noteAnswer)
    server.on('upgrade', handOver)
    app.addHook('preClose', async () => {
      // Fastify calls server.close() right after the preClose hooks; from then on nothing new connects.
      setImmediate(() => {
        server.off(opened, track)
        server.off('request', noteAnswer)
        server.off('upgrade', handOver)
        for (const socket of open) if (!answering(socket)) socket.destroy()
      })
    })
  },
  { name: 'connections' },
)
