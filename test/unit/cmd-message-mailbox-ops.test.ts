/**
 * COPY/MOVE (copy.ts, move.ts), EXPUNGE/UID EXPUNGE (expunge.ts), CLOSE, UNSELECT and CHECK, run
 * over MemoryStore with a real selected view.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyCommand, uidCopyCommand, copyUidCode } from '../../src/imap/commands/copy.js';
import { moveCommand, uidMoveCommand } from '../../src/imap/commands/move.js';
import { expungeCommand, uidExpungeCommand } from '../../src/imap/commands/expunge.js';
import { closeCommand } from '../../src/imap/commands/close.js';
import { unselectCommand } from '../../src/imap/commands/unselect.js';
import { checkCommand } from '../../src/imap/commands/check.js';
import { harness, message } from './cmd-message-harness.js';

/** INBOX with five messages, 2 and 4 flagged \Deleted; a "Dest" mailbox with UIDs already used up to 10. */
async function setup() {
  const h = await harness();
  for (let i = 1; i <= 5; i++) await h.append('INBOX', message(`m${i}`), { flags: i % 2 === 0 ? ['\\Deleted'] : [] });
  await h.mail.create('Dest');
  for (let i = 1; i <= 10; i++) await h.append('Dest', message(`d${i}`));
  const dest = await h.mail.get('Dest');
  await h.mail.updateFlags(dest.id, Array.from({ length: 10 }, (_, i) => i + 1), 'add', ['\\Deleted']);
  await h.mail.expunge(dest.id);
  await h.select();
  h.take();
  return h;
}

test('COPYUID lists source and destination UIDs in matching order, compacted', () => {
  const code = copyUidCode({ uidValidity: 9, mapping: [[1, 11], [2, 12], [3, 13], [7, 14], [9, 20]] });
  assert.deepEqual(code, { name: 'COPYUID', args: [9, { kind: 'atom', text: '1:3,7,9' }, { kind: 'atom', text: '11:14,20' }] });
});

test('COPY answers COPYUID and leaves the source alone', async () => {
  const h = await setup();
  const dest = await h.mail.get('Dest');
  const v = (await h.mail.status(dest.id)).uidValidity;
  assert.equal(await h.run(copyCommand, '1:3 Dest'), `t OK [COPYUID ${v} 1:3 11:13] COPY completed`);
  assert.deepEqual(h.take(), []);
  assert.equal(h.view().exists, 5);
  const recs = await h.mail.records(dest.id, [11, 12, 13]);
  assert.deepEqual(recs.map((r) => r.flags), [[], ['\\Deleted'], []]);
  await h.close();
});

test('UID COPY: UIDs naming nothing copy nothing; a missing target is TRYCREATE', async () => {
  const h = await setup();
  assert.equal(await h.run(uidCopyCommand, '100:200 Dest'), 't OK Nothing to copy');
  assert.equal(await h.run(uidCopyCommand, '1 Missing'), 't NO [TRYCREATE] Mailbox does not exist');
  assert.match(await h.run(copyCommand, '6 Dest'), /^t BAD /);
  const dest = await h.mail.get('Dest');
  assert.equal((await h.mail.status(dest.id)).messages, 0);
  await h.close();
});

test('RFC 6851: MOVE sends COPYUID untagged, then EXPUNGE for each moved message', async () => {
  const h = await setup();
  const dest = await h.mail.get('Dest');
  const v = (await h.mail.status(dest.id)).uidValidity;
  assert.equal(await h.run(uidMoveCommand, '2:4 Dest'), 't OK UID MOVE completed');
  assert.deepEqual(h.take(), [`* OK [COPYUID ${v} 2:4 11:13] Moved`, '* 4 EXPUNGE', '* 3 EXPUNGE', '* 2 EXPUNGE']);
  assert.deepEqual([...h.view().uids()], [1, 5]);
  // The moved messages keep their flags; MOVE never sets \Deleted (RFC 6851 §3.3).
  const recs = await h.mail.records(dest.id, [11, 12, 13]);
  assert.deepEqual(recs.map((r) => r.flags), [['\\Deleted'], [], ['\\Deleted']]);
  await h.close();
});

test('MOVE by sequence number, and refused on a read-only mailbox', async () => {
  const h = await setup();
  assert.equal(await h.run(moveCommand, '5 Dest'), 't OK MOVE completed');
  assert.deepEqual(h.take().slice(1), ['* 5 EXPUNGE']);
  await h.select('INBOX', true);
  assert.equal(await h.run(moveCommand, '1 Dest'), 't NO Mailbox is read-only');
  assert.equal(h.view().exists, 4);
  await h.close();
});

test('EXPUNGE removes \\Deleted messages, highest sequence number first', async () => {
  const h = await setup();
  assert.equal(await h.run(expungeCommand, ''), 't OK EXPUNGE completed');
  assert.deepEqual(h.take(), ['* 4 EXPUNGE', '* 2 EXPUNGE']);
  assert.deepEqual([...h.view().uids()], [1, 3, 5]);
  assert.match(await h.run(expungeCommand, '1'), /^t BAD /);
  await h.close();
});

test('EXPUNGE leaves alone a \\Deleted message this session has not been told about', async () => {
  const h = await setup();
  const inbox = h.view().mailbox;
  const { uid } = await h.other.append(inbox.id, { content: Buffer.from('Subject: late\r\n\r\nx'), flags: ['\\Deleted'] });
  await h.run(expungeCommand, '');
  assert.deepEqual(h.take(), ['* 4 EXPUNGE', '* 2 EXPUNGE']);
  assert.equal((await h.mail.records(inbox.id, [uid])).length, 1);
  await h.close();
});

test('RFC 4315 UID EXPUNGE removes only the named \\Deleted messages', async () => {
  const h = await setup();
  assert.equal(await h.run(uidExpungeCommand, '3:4'), 't OK UID EXPUNGE completed');
  assert.deepEqual(h.take(), ['* 4 EXPUNGE']);
  assert.equal(await h.run(uidExpungeCommand, '40:50'), 't OK UID EXPUNGE completed');
  assert.deepEqual(h.take(), []);
  assert.deepEqual([...h.view().uids()], [1, 2, 3, 5]);
  assert.match(await h.run(uidExpungeCommand, ''), /^t BAD /);
  await h.close();
});

test('UID EXPUNGE of a set named out of order announces the highest first, as for an ascending one', async () => {
  const h = await setup();
  assert.equal(await h.run(uidExpungeCommand, '4,1,2'), 't OK UID EXPUNGE completed');
  assert.deepEqual(h.take(), ['* 4 EXPUNGE', '* 2 EXPUNGE']);
  assert.deepEqual([...h.view().uids()], [1, 3, 5]);
  await h.close();
});

test('EXPUNGE and UID EXPUNGE are refused on a read-only mailbox', async () => {
  const h = await setup();
  await h.select('INBOX', true);
  assert.equal(await h.run(expungeCommand, ''), 't NO Mailbox is read-only');
  assert.equal(await h.run(uidExpungeCommand, '1:*'), 't NO Mailbox is read-only');
  assert.equal((await h.mail.status(h.view().mailbox.id)).messages, 5);
  await h.close();
});

test('CLOSE expunges silently and deselects; from read-only it only deselects', async () => {
  const h = await setup();
  const inbox = h.view().mailbox;
  await h.select('INBOX', true);
  assert.equal(await h.run(closeCommand, ''), 't OK CLOSE completed');
  assert.equal(h.state.kind, 'authenticated');
  assert.equal((await h.mail.status(inbox.id)).messages, 5);

  await h.select();
  h.take();
  assert.equal(await h.run(closeCommand, ''), 't OK CLOSE completed');
  assert.deepEqual(h.take(), []);
  assert.equal(h.state.kind, 'authenticated');
  assert.equal((await h.mail.status(inbox.id)).messages, 3);
  await h.close();
});

test('UNSELECT deselects without expunging; CHECK changes nothing', async () => {
  const h = await setup();
  const inbox = h.view().mailbox;
  assert.equal(await h.run(checkCommand, ''), 't OK CHECK completed');
  assert.match(await h.run(checkCommand, 'x'), /^t BAD /);
  assert.equal(await h.run(unselectCommand, ''), 't OK UNSELECT completed');
  assert.equal(h.state.kind, 'authenticated');
  assert.equal((await h.mail.status(inbox.id)).messages, 5);
  assert.match(await h.run(unselectCommand, ''), /^t BAD /);
  await h.close();
});
