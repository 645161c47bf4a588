/**
 * The body slots' memory (direct-slots.ts) is made when the store opens, not by the first large
 * APPEND: V8 counts all of it as external memory when it is made and starts a mark-compact at once,
 * which used to land in the middle of the first large APPEND of every server process. Its own file:
 * the memory is made once per process.
 */
import { strict as assert } from 'node:assert';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { directSlots } from '../../src/store/sqlite/direct-slots.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-slots-');

test('the slots are made at open, and the first large APPEND sets off no mark-compact', async () => {
  assert.equal(directSlots().reserved, false, 'made before any store opened');
  const store = await SqliteStore.open({ directory: tempDir() });
  try {
    assert.equal(directSlots().reserved, true, 'not made at open');
    assert.equal(directSlots().groups, 1, 'one group of slots at open, not all of them');
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    await u.append(inbox.id, { content: Buffer.from('From: a@example.com\r\nSubject: small\r\n\r\nhello\r\n') });
    // Whatever GC the open set off has run by now.
    await new Promise((r) => setTimeout(r, 200));
    const majors: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(e.duration);
    });
    observer.observe({ entryTypes: ['gc'] });
    const line = `${'z'.repeat(76)}\r\n`;
    const large = Buffer.from(`From: a@example.com\r\nSubject: large\r\n\r\n${line.repeat(4000)}`); // ~300 KiB: a body file
    await u.append(inbox.id, { content: large });
    await new Promise((r) => setTimeout(r, 50));
    observer.disconnect();
    assert.ok(directSlots().made >= 1, 'the large body did not go through a slot');
    assert.deepEqual(majors, [], 'the first large APPEND set off a mark-compact');
  } finally {
    await store.close();
  }
});
