export { SqliteStore, type SqliteStoreOptions } from './store.js';
export { DATABASE_FILE } from './database.js';
export { LATEST_VERSION as SQLITE_SCHEMA_VERSION } from './schema.js';
export type { CheckOptions, CheckProgress, CheckReport, DamagedBody } from './check.js';
export type { HealthStatus } from './health.js';
export type { IntegrityResult } from './database-check.js';
export type { SqliteLimits } from './limits.js';
export { DEFAULT_SQLITE_LIMITS } from './limits.js';
