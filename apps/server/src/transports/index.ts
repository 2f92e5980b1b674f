import longPoll from './long-poll.js'
import sse from './sse.js'
import ws from './ws.js'
import socketIo from './socket-io.js'

/** Every watch transport: adding one is its own file and a line here. */
export const watchTransports = [longPoll, sse, ws, socketIo] as const

export type WatchTransportName = (typeof watchTransports)[number]['name']
