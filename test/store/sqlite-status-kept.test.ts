/**
 * STATUS counts are kept per mailbox with the mailbox row's state (src/store/sqlite/mailbox-status.ts):
 * a mailbox nobody wrote to is answered from them, a written one is brought up to date from what
 * changed, and every kind of write — flags, append, expunge, \Recent claim, copy and move in and
 * out, renaming INBOX — gives the right counts at once.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';

const BODY = (n: number): Buffer => Buffer.from(`From: a@example.org\r\nSubject: status ${n}\r\n\r\nbody ${n}\r\n`);

it('STATUS: unchanged mailboxes are answered from the kept counts; every write is seen at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-status-kept-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open({ directory: dir });
  t.after(() => store.close());
  const mail = await store.open('dora');
  const inbox = (await mail.get('INBOX')).id;
  const archive = (await mail.create('Archive')).id;
  for (let i = 1; i <= 5; i++) await mail.append(inbox, { content: BODY(i) });
  await mail.append(archive, { content: BODY(9), flags: ['\\Seen'] });
  const counts = async (id: string): Promise<[number, number, number, number]> => {
    const s = await mail.status(id);
    return [s.messages, s.unseen, s.recent, s.size];
  };
  const size = (n: number): number => BODY(n).length;

  // Counts the scans of a mailbox's messages (the statements that sum them).
  const sql = (store as unknown as { ctx: { sql: { get(text: string): unknown } } }).ctx.sql;
  const get = sql.get.bind(sql);
  // And the catch-ups of a written mailbox from its rows changed since (and the reads that start them).
  let scans = 0;
  let catchUps = 0;
  let reads = 0;
  sql.get = (text: string): unknown => {
    if (/count\(\*\) AS messages/.test(text)) scans++;
    if (/INDEXED BY messages_by_modseq/.test(text) && /size/.test(text)) catchUps++;
    if (/^SELECT uid, size, flags FROM messages WHERE mailbox_id = \?$/.test(text)) reads++;
    return get(text);
  };
  assert.deepEqual(await counts(inbox), [5, 5, 5, [1, 2, 3, 4, 5].reduce((n, i) => n + size(i), 0)]);
  assert.equal(scans, 1);
  assert.deepEqual(await counts(inbox), [5, 5, 5, [1, 2, 3, 4, 5].reduce((n, i) => n + size(i), 0)]);
  await counts(inbox);
  assert.equal(scans, 1, 'an unchanged mailbox is not scanned again');

  await mail.updateFlags(inbox, [2], 'add', ['\\Seen']);
  assert.deepEqual((await counts(inbox)).slice(0, 3), [5, 4, 5], 'a flag change');
  await mail.claimRecent(inbox);
  assert.deepEqual((await counts(inbox)).slice(0, 3), [5, 4, 0], 'the \\Recent claim');
  await mail.append(inbox, { content: BODY(6) });
  assert.deepEqual((await counts(inbox)).slice(0, 3), [6, 5, 1], 'an append');
  await mail.updateFlags(inbox, [3], 'add', ['\\Deleted']);
  await mail.expunge(inbox, [3]);
  assert.deepEqual((await counts(inbox)).slice(0, 3), [5, 4, 1], 'an expunge');

  assert.deepEqual((await counts(archive)).slice(0, 2), [1, 0]);
  await mail.copy(inbox, [4], archive);
  assert.deepEqual((await counts(archive)).slice(0, 2), [2, 1], 'a copy in');
  await mail.move(inbox, [5], archive);
  assert.deepEqual((await counts(archive)).slice(0, 2), [3, 2], 'a move in');
  assert.deepEqual((await counts(inbox)).slice(0, 2), [4, 3], 'a move out');
  await mail.move(archive, [1], inbox);
  assert.deepEqual((await counts(archive)).slice(0, 2), [2, 2], 'a move out of the other');

  // RFC 3501 §6.3.5: INBOX's messages go to the new name and INBOX stays, empty.
  await mail.rename('INBOX', 'Old');
  assert.deepEqual((await counts(inbox)).slice(0, 2), [0, 0], 'INBOX after its rename');
  assert.deepEqual((await counts((await mail.get('Old')).id)).slice(0, 2), [5, 3], 'the renamed INBOX');
  // The first count of each mailbox is a scan; the next one after a write reads its rows once, and
  // from then on a written mailbox is caught up from what changed.
  process.stdout.write(`# scans ${scans}, reads ${reads}, catch-ups ${catchUps}\n`);
  assert.ok(catchUps >= 7, `written mailboxes were caught up (${catchUps} catch-ups)`);
  assert.ok(scans + reads <= 6, `not counted again after every write (${scans} scans, ${reads} reads)`);
});
