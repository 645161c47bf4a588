/**
 * The SQLite store's parsed-structure cache (structure-cache.ts): bounded in entries by
 * `structureCacheEntries`; a kept structure is handed out again as the same object (the IMAP layer
 * keeps the rendered ENVELOPE and BODYSTRUCTURE by its identity), one not kept is read and parsed again.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { StructureCache } from '../../src/store/sqlite/structure-cache.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-structure-cache-');

const message = (n: number): Buffer => Buffer.from(`From: a@example.com\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n`);

it('keeps up to its bound in entries: one used since the last turn stays, one unused for two turns is parsed again', () => {
  const cache = new StructureCache(4);
  let loads = 0;
  const load = (id: number) => (): string => {
    loads++;
    return JSON.stringify({ size: id });
  };
  const first = cache.get(1, load(1));
  assert.equal(cache.get(1, load(1)), first, 'a hit is the same object');
  for (let id = 2; id <= 6; id++) cache.get(id, load(id));
  assert.equal(loads, 6);
  assert.equal(cache.peek(1), undefined, '1 went after two turns unused');
  assert.notEqual(cache.get(1, load(1)), first);
  assert.equal(loads, 7);
  const none = new StructureCache(0);
  none.get(1, load(1));
  assert.equal(none.peek(1), undefined, '0 keeps none');
});

it('SqliteStore: structureCacheEntries bounds what FETCH finds parsed (0: every structure read and parsed again)', async () => {
  for (const [entries, same] of [
    [undefined, true],
    [0, false],
  ] as const) {
    const store = await SqliteStore.open({ directory: tempDir(), ...(entries === undefined ? {} : { structureCacheEntries: entries }) });
    try {
      const u = await store.open('alice');
      const inbox = await u.get('INBOX');
      const { uid } = await u.append(inbox.id, { content: message(1) });
      const a = await u.structure(inbox.id, uid);
      const b = await u.structure(inbox.id, uid);
      assert.deepEqual(a, b);
      assert.equal(a === b, same, `structureCacheEntries ${entries ?? 'default'}`);
    } finally {
      await store.close();
    }
  }
});
