export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { normaliseFlags, applyFlagOperation, sameFlags, hasFlag } from './flags.js';
