export { PostgresStore, redactUrl, type PostgresStoreOptions } from './store.js';
export { PgChunkStore, CHUNK_SIZE, type BlobStore } from './blob-store.js';
export { PG_SCHEMA_VERSION } from './schema.js';
