import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../config.js'

/** The transports' names, one per file in this folder (transports/index.ts registers each). */
export const watchTransportNames = ['long-poll', 'sse', 'ws', 'socket.io'] as const
export type WatchTransportName = (typeof watchTransportNames)[number]

/**
 * A way for the PC to watch a login. Its name is its label everywhere: live
 * connections, watcher caps, /metrics. Its plugin adds its routes (or attaches
 * to the server) and writes statuses through a WatchSink; the watch's
 * lifecycle lives once, in lib/watch-stream.ts.
 */
export interface WatchTransport<Name extends WatchTransportName = WatchTransportName> {
  readonly name: Name
  /** How often each open watch gets a ping; absent when the protocol pings by itself or holds nothing long. */
  heartbeatMs?(config: Config): number
  readonly plugin: FastifyPluginAsync
}

export function defineTransport<const Name extends WatchTransportName>(
  transport: WatchTransport<Name>,
): WatchTransport<Name> {
  return transport
}
