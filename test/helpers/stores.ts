/**
 * The stores every end-to-end suite runs against. POSTROOM_TEST_STORES="memory,sqlite" picks a subset.
 * PostgreSQL runs wherever it is installed, and in CI always (scripts/install-test-deps.sh installs
 * it; a CI machine without it fails the suites rather than skipping them).
 */
import { MemoryStore } from '../../src/store/memory/index.js';
import type { MailStore } from '../../src/store/types.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { postgresUnavailable, testDatabaseUrl } from './postgres.js';
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
  postgres: async () => {
    const store = await PostgresStore.open({ connectionString: await testDatabaseUrl(), poolSize: 6 });
    return { store, cleanup: () => store.close() };
  },
};

const missing = postgresUnavailable();
if (missing && !process.env.CI) {
  delete ALL.postgres;
  process.emitWarning(`end-to-end suites run without the PostgreSQL store: ${missing}`);
}

export function storeFactories(): Record<string, Factory> {
  const wanted = process.env.POSTROOM_TEST_STORES?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!wanted) return ALL;
  return Object.fromEntries(Object.entries(ALL).filter(([name]) => wanted.includes(name)));
}
