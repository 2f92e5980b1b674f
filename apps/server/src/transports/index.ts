import longPoll from './long-poll.js'
import sse from './sse.js'
import ws from './ws.js'
import socketIo from './socket-io.js'
import type { WatchTransportName } from './transport.js'

export type { WatchTransportName } from './transport.js'

/** Every watch transport: adding one is its own file, its name in transport.ts, and a line here. */
export const watchTransports = [longPoll, sse, ws, socketIo] as const

// The names in transport.ts and the transports here are the same set: a type error otherwise.
type Registered = (typeof watchTransports)[number]['name']
export const everyTransportRegistered: [WatchTransportName] extends [Registered] ? true : never = true
