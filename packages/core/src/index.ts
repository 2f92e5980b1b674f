export * from './login.js'
export { LoginStatusViewSchema } from './status.js'
export * from './errors.js'
export * from './ports.js'
export { systemClock, ManualClock } from './clock.js'
export { cryptoSecrets } from './secrets.js'
export { createDemoAccounts, defaultDemoAccounts, type DemoAccount } from './accounts.js'
export { createFileAccounts, parseUsers, type FileAccount } from './file-accounts.js'
export { hashPassword, verifyPassword, isPasswordHash } from './passwords.js'
export { ExpiringMap, type ExpiringMapOptions } from './expiring-map.js'
export { MemoryLoginStore, MemorySessionStore, MemoryHistoryStore } from './memory-store.js'
export { memoryBackend, type MemoryBackendOptions } from './memory-backend.js'
export { MemoryKeyStore, FileKeyStore } from './key-stores.js'
export { MemoryPasskeyStore } from './memory-passkey-store.js'
export { MemoryOidcArtefactStore } from './memory-oidc-store.js'
export { MemoryChangeFeed } from './memory-feed.js'
export { LocalListeners } from './local-listeners.js'
export { decide, expireIfDue, type Decision, type LoginAction, type TransitionRules } from './transitions.js'
export { Sessions, type MintedSession, type SessionDeps } from './sessions.js'
export {
  LoginService,
  type CreatedLogin,
  type LoginServiceDeps,
  type LoginSettings,
  type LoginRequest,
  type PcDescription,
  type PcSession,
  type ScannedLogin,
  type SignedIn,
  type Watch,
  type WatchOptions,
} from './service.js'
