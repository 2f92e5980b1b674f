export { SqliteLoginStore } from './store.js'
export { DatabaseRefused, applicationId, openDatabase } from './database.js'
