/**
 * Loads a CommonJS dependency on first use instead of at import: `import 'postroom'` for an
 * in-memory server should not pay for prom-client (metrics), pino (logging) or libmime (header
 * decoding) until something uses them. Synchronous, so callers keep their synchronous APIs.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter that requires `id` the first time it is called. */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
