import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../config.js'

/**
 * A way for the PC to watch a login. Its name is its label everywhere: live
 * connections, watcher caps, /metrics. Its plugin adds its routes (or attaches
 * to the server) and writes statuses through a WatchSink; the watch's
 * lifecycle lives once, in lib/watch-stream.ts.
 */
export interface WatchTransport<Name extends string = string> {
  readonly name: Name
  /** How often each open watch gets a ping; absent when the protocol pings by itself or holds nothing long. */
  heartbeatMs?(config: Config): number
  readonly plugin: FastifyPluginAsync
}

export function defineTransport<const Name extends string>(transport: WatchTransport<Name>): WatchTransport<Name> {
  return transport
}
