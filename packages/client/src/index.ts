export { QrLoginClient, PhoneClient, parseScanUrl, type ClientOptions } from './client.js'
export { QrLoginError } from './errors.js'
export { transportNames } from './transports.js'
export type { WatchOptions } from './watch.js'
export {
  autoOrder,
  endsWatch,
  type CreatedLogin,
  type HistoryItem,
  type LoginHandle,
  type LoginStatus,
  type LoginStatusView,
  type PcSession,
  type Requester,
  type ScannedLogin,
  type SocketIoTransports,
  type TrafficEvent,
  type TransportChoice,
  type TransportName,
  type UserProfile,
  type WebSocketFactory,
  type WebSocketLike,
} from './types.js'
