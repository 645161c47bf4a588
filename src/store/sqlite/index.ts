export { SqliteStore, type SqliteStoreOptions } from './store.js';
export { DATABASE_FILE } from './database.js';
export { LATEST_VERSION as SQLITE_SCHEMA_VERSION } from './schema.js';
