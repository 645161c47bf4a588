/**
 * Flags are atoms on the wire (RFC 3501 §9): what cannot be an atom must never be stored as a flag,
 * so imports leave such keywords out (and say so) instead of breaking every later FETCH FLAGS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidFlag } from '../../src/store/flag-syntax.js';
import { importMail } from '../../src/store/import/index.js';
import { MemoryStore } from '../../src/store/memory/index.js';

test('valid flags: system flags in any case, keywords made of ATOM-CHAR', () => {
  for (const ok of ['\\Seen', '\\deleted', '$Forwarded', 'NonJunk', '$label1', 'a}b', 'x~y', '_']) assert.ok(isValidFlag(ok), ok);
  for (const bad of ['', '\\Recent2', '\\Weird', '(x)', '"q"', 'a b', 'x%', 'x*', 'a]b', 'x{', 'BÃ¼cher', 'tab\there', 'a\\b', 'x'.repeat(256)]) {
    assert.ok(!isValidFlag(bad), bad);
  }
});

test('an mbox import keeps valid keywords and reports the others', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-flags-'));
  try {
    const mbox = join(dir, 'in.mbox');
    await writeFile(
      mbox,
      'From a@b.c Mon Feb  7 21:52:25 1994\nSubject: one\nX-Keywords: $Work (x) BÃ¼cher NonJunk\nStatus: RO\n\nbody\n',
      'latin1',
    );
    const store = new MemoryStore();
    const summary = await importMail({ store, user: 'alice', source: { kind: 'mbox', path: mbox, mailbox: 'In' } });
    assert.equal(summary.imported, 1);
    assert.deepEqual(summary.droppedKeywords.sort(), ['(x)', 'BÃ¼cher'].sort());
    const mail = await store.open('alice');
    const box = await mail.get('In');
    const [rec] = await mail.records(box.id, [1]);
    assert.deepEqual(rec!.flags.filter((f) => !f.startsWith('\\')).sort(), ['$Work', 'NonJunk']);
    assert.ok(rec!.flags.includes('\\Seen'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
