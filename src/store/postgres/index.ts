export { PostgresStore, type PostgresStoreOptions } from './store.js';
export { redactUrl } from './url.js';
export { PgChunkStore, CHUNK_SIZE, type BlobStore } from './blob-store.js';
export { PG_SCHEMA_VERSION } from './schema.js';
