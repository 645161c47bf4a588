import { runStoreConformance } from '../../src/store/conformance/index.js';
import { MemoryStore } from '../../src/store/memory/index.js';

runStoreConformance('MemoryStore', () => new MemoryStore());
