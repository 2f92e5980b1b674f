export { QrLoginClient, PhoneClient, parseScanUrl, type ClientOptions } from './client.js'
export { QrLoginError, type ClientErrorCode } from './errors.js'
export type { WireErrorCode as ErrorCode } from '@qr-login/core'
export { transportNames } from './transports.js'
export type { WatchOptions } from './watch.js'
export {
  autoOrder,
  endsWatch,
  type ApprovalMethod,
  type ConfirmOptions,
  type CreatedLogin,
  type HistoryItem,
  type LoginHandle,
  type LoginStatus,
  type LoginStatusView,
  type PasskeyInfo,
  type PasskeyOptionsJSON,
  type PasskeyResponseJSON,
  type PasskeyAssertionJSON,
  type PasskeyRegistrationJSON,
  type PcSession,
  type PcSignedIn,
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
