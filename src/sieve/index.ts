/**
 * The Sieve language (RFC 5228 and extensions): compile a script once, run it per delivery.
 * Pure: no I/O beyond the callbacks of SieveEnvironment. See docs/sieve.md.
 */
export { compileSieve, type CompileOptions } from './compile.js';
export { runSieve, runSieveNow } from './run.js';
export { keepsOnly, needsWholeMessage } from './needs.js';
export { DEFAULT_SIEVE_LIMITS } from './limits.js';
export { SIEVE_EXTENSIONS } from './spec.js';
export type * from './types.js';
