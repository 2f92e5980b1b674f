import { ServerResponse, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import fp from 'fastify-plugin'

/** An upgrade request's connection, until a route takes it. */
export interface PendingUpgrade {
  socket: Duplex
  head: Buffer
}

const pending = new WeakMap<IncomingMessage, PendingUpgrade>()

/** Node removes its own socket error listener before it emits 'upgrade'; until a route takes the socket, an error ends it. */
function destroyOnError(this: Duplex): void {
  this.destroy()
}

/**
 * The connection of an upgrade request, for the route that accepts it (it
 * then owns the socket, and must hijack the reply); undefined for a request
 * that asked for no upgrade.
 */
export function takeUpgrade(request: IncomingMessage, response: ServerResponse): PendingUpgrade | undefined {
  const upgrade = pending.get(request)
  if (!upgrade) return undefined
  pending.delete(request)
  upgrade.socket.off('error', destroyOnError)
  // Nothing of the HTTP exchange stays tied to the socket it hands over.
  response.detachSocket(upgrade.socket as Socket)
  return upgrade
}

/**
 * Upgrade requests run through Fastify like any other request: routing,
 * validation, hooks, the error handler. So a refusal is an ordinary HTTP
 * answer written to the socket, which then closes; a route that accepts calls
 * takeUpgrade(). Unlike @fastify/websocket, which this replaces, it adds no
 * hook to other requests and keeps nothing of the request once a route took
 * the socket (measured: docs/benchmarks.md).
 */
export default fp(
  async function upgrades(app) {
    const server = app.server
    const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', destroyOnError)
      pending.set(request, { socket, head })
      const response = new ServerResponse(request)
      response.assignSocket(socket as Socket)
      // An answer instead of an upgrade (a refusal, 426, a page) is the last thing on this connection.
      response.once('finish', () => {
        if (pending.delete(request)) socket.destroy()
      })
      app.routing(request, response)
    }
    server.on('upgrade', onUpgrade)
    app.addHook('onClose', async () => {
      server.off('upgrade', onUpgrade)
    })
  },
  { name: 'upgrades' },
)
