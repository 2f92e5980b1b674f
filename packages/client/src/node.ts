import WebSocket from 'ws'
import type { WebSocketFactory, WebSocketLike } from './types.js'

/**
 * A WebSocket factory for Node built on `ws`, sending the watch token as a bearer header: Node's own
 * WebSocket (as a browser's) cannot send headers, so without the qr_watch cookie its upgrade is refused.
 */
export const nodeWebSocket: WebSocketFactory = (url, headers) =>
  new WebSocket(url, { headers }) as unknown as WebSocketLike
