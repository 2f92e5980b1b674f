export { SqliteLoginStore } from './store.js'
export { SqlitePasskeyStore } from './passkey-store.js'
export { SqliteOidcArtefactStore } from './oidc-store.js'
export { DatabaseRefused, SqliteDatabase, applicationId, openDatabase, schemaMigrations } from './database.js'
