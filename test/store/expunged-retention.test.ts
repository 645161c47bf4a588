/**
 * QRESYNC's expunged-UID log (src/store/expunged.ts): kept exactly within the retention, pruned
 * beyond it, and then answered with null ("ask the known UIDs") for a modseq from before the pruned
 * ones, never with a list that silently misses UIDs. SQLite and memory, with a tiny retention.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MailStore } from '../../src/store/types.js';
import { emptyExpungedLog, expungedSince, recordExpunged } from '../../src/store/expunged.js';

const message = (i: number): Buffer => Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`);

async function exercise(store: MailStore): Promise<void> {
  const a = await store.open('alice');
  const inbox = await a.get('INBOX');
  const uids: number[] = [];
  for (let i = 0; i < 300; i++) uids.push((await a.append(inbox.id, { content: message(i), flags: ['\\Deleted'] })).uid);
  const start = (await a.status(inbox.id)).highestModseq;
  const marks: number[] = [];
  // 300 expunges of one message each: with a retention of 100 the oldest are pruned.
  for (const uid of uids) {
    await a.expunge(inbox.id, [uid]);
    marks.push((await a.status(inbox.id)).highestModseq);
  }
  // The recent ones are answered exactly.
  assert.deepEqual(await a.expungedSince!(inbox.id, marks[249]!), uids.slice(250));
  assert.deepEqual(await a.expungedSince!(inbox.id, marks[299]!), []);
  // From before the pruned ones: null, not a partial list.
  assert.equal(await a.expungedSince!(inbox.id, start), null);
  await a.close();
}

describe('expunged-UID retention', () => {
  it('the log keeps whole expunges and reports pruning', () => {
    const log = emptyExpungedLog();
    for (let m = 1; m <= 200; m++) recordExpunged(log, [m * 2, m * 2 + 1], m, 10);
    assert.ok(log.uids.length <= 10 + 64 && log.uids.length >= 10, `${log.uids.length} kept`);
    assert.equal(log.uids.length % 2, 0, 'an expunge is kept whole');
    assert.equal(expungedSince(log, log.prunedModseq - 1), null);
    assert.deepEqual(expungedSince(log, 199), [400, 401]);
  });

  it('memory store prunes beyond expungedRetention', async () => {
    const store = new MemoryStore({ expungedRetention: 100 });
    await exercise(store);
    await store.close();
  });

  it('SQLite store prunes beyond expungedRetention', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'postroom-expunged-'));
    const store = await SqliteStore.open({ directory, limits: { expungedRetention: 100 } });
    try {
      await exercise(store);
    } finally {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
