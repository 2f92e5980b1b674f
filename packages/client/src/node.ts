import WebSocket from 'ws'
import type { WebSocketFactory, WebSocketLike } from './types.js'

/** A WebSocket factory for Node (20 has no global WebSocket), sending the watch token as a bearer header. */
export const nodeWebSocket: WebSocketFactory = (url, headers) =>
  new WebSocket(url, { headers }) as unknown as WebSocketLike
