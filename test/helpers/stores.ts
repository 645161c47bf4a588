/**
 * The stores every end-to-end suite runs against. POSTROOM_TEST_STORES="memory,sqlite" picks a subset.
 */
import { MemoryStore } from '../../src/store/memory/index.js';
import type { MailStore } from '../../src/store/types.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MadeStore {
  store: MailStore;
  cleanup: () => Promise<void>;
}

export type StoreFactory = () => Promise<MadeStore>;
type Factory = StoreFactory;

const ALL: Record<string, Factory> = {
  memory: async () => {
    const store = new MemoryStore();
    return { store, cleanup: () => store.close() };
  },
  sqlite: async () => {
    const directory = await mkdtemp(join(tmpdir(), 'postroom-e2e-'));
    const store = await SqliteStore.open({ directory });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
};

export function storeFactories(): Record<string, Factory> {
  const wanted = process.env.POSTROOM_TEST_STORES?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!wanted) return ALL;
  return Object.fromEntries(Object.entries(ALL).filter(([name]) => wanted.includes(name)));
}
