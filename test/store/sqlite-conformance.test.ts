import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStoreConformance } from '../../src/store/conformance/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

const dirs = new Map<object, string>();

// Default settings, and a tiny inline limit so every body also exercises the blob-file path.
for (const [label, inlineMax] of [
  ['SqliteStore', undefined],
  ['SqliteStore (bodies as files)', 16],
] as const) {
  runStoreConformance(
    label,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'postroom-conf-'));
      const store = await SqliteStore.open({ directory: dir, ...(inlineMax === undefined ? {} : { inlineMax }) });
      dirs.set(store, dir);
      return store;
    },
    {
      cleanup: (store) => {
        const dir = dirs.get(store);
        if (dir) rmSync(dir, { recursive: true, force: true });
        dirs.delete(store);
      },
    },
  );
}
