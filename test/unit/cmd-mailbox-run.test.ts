/**
 * The mailbox commands run against a MemoryStore through a recording context; assertions are on the
 * exact wire lines they produce (RFC 3501 §6.3 examples where they apply).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCommand } from '../../src/imap/commands/create.js';
import { deleteCommand } from '../../src/imap/commands/delete.js';
import { renameCommand } from '../../src/imap/commands/rename.js';
import { subscribeCommand } from '../../src/imap/commands/subscribe.js';
import { unsubscribeCommand } from '../../src/imap/commands/unsubscribe.js';
import { listCommand } from '../../src/imap/commands/list.js';
import { lsubCommand } from '../../src/imap/commands/lsub.js';
import { statusCommand } from '../../src/imap/commands/status.js';
import { namespaceCommand } from '../../src/imap/commands/namespace.js';
import { harness, type Harness } from './cmd-mailbox-fake-ctx.js';

/** RFC 8474 §4.1: over a store with OBJECTID, every CREATE names the new MAILBOXID. */
const CREATED = /^t OK \[MAILBOXID \(F[0-9a-f]{24}\)\] CREATE completed$/;

/** Runs a command and returns all lines it wrote, the tagged one last. */
async function lines(h: Harness, spec: Parameters<Harness['exec']>[0], args: string): Promise<string[]> {
  const before = h.lines.length;
  await h.exec(spec, args);
  return h.lines.slice(before);
}

async function append(h: Harness, name: string, flags: string[] = []): Promise<void> {
  const box = await h.mail.get(name);
  await h.mail.append(box.id, { content: Buffer.from('Subject: x\r\n\r\nbody\r\n'), flags });
}

test('CREATE: RFC 3501 §6.3.3 example, trailing delimiter stripped', async () => {
  const h = await harness();
  assert.match(await h.exec(createCommand, 'owatagusiam/'), CREATED);
  assert.match(await h.exec(createCommand, 'owatagusiam/blurdybloop'), CREATED);
  assert.deepEqual(await lines(h, listCommand, '"" *'), [
    '* LIST (\\HasNoChildren) "/" INBOX',
    '* LIST (\\HasChildren) "/" owatagusiam',
    '* LIST (\\HasNoChildren) "/" owatagusiam/blurdybloop',
    't OK LIST completed',
  ]);
});

test('CREATE: failures', async () => {
  const h = await harness();
  assert.equal(await h.exec(createCommand, 'INBOX'), 't NO [ALREADYEXISTS] INBOX always exists');
  assert.equal(await h.exec(createCommand, 'inbox/'), 't NO [ALREADYEXISTS] INBOX always exists');
  assert.match(await h.exec(createCommand, 'a'), CREATED);
  assert.match(await h.exec(createCommand, 'a'), /^t NO \[ALREADYEXISTS\] /);
  assert.match(await h.exec(createCommand, '"a*b"'), /^t NO \[CANNOT\] /);
  assert.match(await h.exec(createCommand, 'a%'), /^t NO \[CANNOT\] /);
  assert.match(await h.exec(createCommand, '"/"'), /^t NO \[CANNOT\] /);
  assert.match(await h.exec(createCommand, '"a//b"'), /^t NO \[CANNOT\] /);
  assert.match(await h.exec(createCommand, '&Jjo'), /^t NO \[CANNOT\] Unterminated "&" in mailbox name "&Jjo" \(modified UTF-7/);
});

test('CREATE: inbox/child is INBOX\'s child', async () => {
  const h = await harness();
  assert.match(await h.exec(createCommand, 'inbox/Sub'), CREATED);
  assert.deepEqual(await lines(h, listCommand, '"" INBOX/%'), ['* LIST (\\HasNoChildren) "/" INBOX/Sub', 't OK LIST completed']);
});

test('CREATE USE (RFC 6154 §5.3)', async () => {
  const h = await harness();
  assert.match(await h.exec(createCommand, 'MyDrafts (USE (\\drafts))'), CREATED);
  assert.equal(await h.exec(createCommand, 'MySpecial (USE (\\Drafts \\Sent))'), 't NO [USEATTR] Only one special use per mailbox is supported');
  assert.equal(await h.exec(createCommand, 'Everything (USE (\\Everything))'), 't NO [USEATTR] \\Everything is not a supported special use');
  assert.match(await h.exec(createCommand, 'Plain (USE ())'), CREATED);
  assert.deepEqual(await lines(h, listCommand, '(SPECIAL-USE) "" *'), ['* LIST (\\HasNoChildren \\Drafts) "/" MyDrafts', 't OK LIST completed']);
  await assert.rejects(h.mail.get('MySpecial'));
});

test('DELETE: RFC 3501 §6.3.4 example ("/" hierarchy)', async () => {
  const h = await harness();
  await h.exec(createCommand, 'blurdybloop');
  await h.exec(createCommand, 'foo/bar');
  await h.exec(deleteCommand, 'foo'); // foo becomes \Noselect, as in the RFC's starting point
  assert.deepEqual(await lines(h, listCommand, '"" *'), [
    '* LIST (\\HasNoChildren) "/" INBOX',
    '* LIST (\\HasNoChildren) "/" blurdybloop',
    '* LIST (\\Noselect \\HasChildren) "/" foo',
    '* LIST (\\HasNoChildren) "/" foo/bar',
    't OK LIST completed',
  ]);
  assert.equal(await h.exec(deleteCommand, 'blurdybloop'), 't OK DELETE completed');
  assert.match(await h.exec(deleteCommand, 'foo'), /^t NO \[HASCHILDREN\] .*inferior hierarchical names/);
  assert.equal(await h.exec(deleteCommand, 'foo/bar'), 't OK DELETE completed');
  assert.deepEqual(await lines(h, listCommand, '"" *'), [
    '* LIST (\\HasNoChildren) "/" INBOX',
    '* LIST (\\Noselect \\HasNoChildren) "/" foo',
    't OK LIST completed',
  ]);
  assert.equal(await h.exec(deleteCommand, 'foo'), 't OK DELETE completed');
  assert.deepEqual(await lines(h, listCommand, '"" *'), ['* LIST (\\HasNoChildren) "/" INBOX', 't OK LIST completed']);
});

test('DELETE: INBOX and missing names', async () => {
  const h = await harness();
  assert.match(await h.exec(deleteCommand, 'inbox'), /^t NO \[CANNOT\] /);
  assert.match(await h.exec(deleteCommand, 'nope'), /^t NO \[NONEXISTENT\] /);
});

test('RENAME: RFC 3501 §6.3.5 examples', async () => {
  const h = await harness();
  await h.exec(createCommand, 'blurdybloop');
  await h.exec(createCommand, 'foo/bar');
  assert.equal(await h.exec(renameCommand, 'blurdybloop sarasoop'), 't OK RENAME completed');
  assert.equal(await h.exec(renameCommand, 'foo zowie'), 't OK RENAME completed');
  assert.deepEqual(await lines(h, listCommand, '"" *'), [
    '* LIST (\\HasNoChildren) "/" INBOX',
    '* LIST (\\HasNoChildren) "/" sarasoop',
    '* LIST (\\HasChildren) "/" zowie',
    '* LIST (\\HasNoChildren) "/" zowie/bar',
    't OK LIST completed',
  ]);
});

test('RENAME INBOX moves the messages and leaves INBOX and its children', async () => {
  const h = await harness();
  await h.exec(createCommand, 'INBOX/bar');
  await append(h, 'INBOX');
  assert.equal(await h.exec(renameCommand, 'inbox old-mail'), 't OK RENAME completed');
  assert.deepEqual(await lines(h, listCommand, '"" *'), [
    '* LIST (\\HasChildren) "/" INBOX',
    '* LIST (\\HasNoChildren) "/" INBOX/bar',
    '* LIST (\\HasNoChildren) "/" old-mail',
    't OK LIST completed',
  ]);
  assert.deepEqual(await lines(h, statusCommand, 'INBOX (MESSAGES)'), ['* STATUS INBOX (MESSAGES 0)', 't OK STATUS completed']);
  assert.deepEqual(await lines(h, statusCommand, 'old-mail (MESSAGES)'), ['* STATUS old-mail (MESSAGES 1)', 't OK STATUS completed']);
});

test('RENAME: failures', async () => {
  const h = await harness();
  await h.exec(createCommand, 'a');
  await h.exec(createCommand, 'b');
  assert.match(await h.exec(renameCommand, 'a b'), /^t NO \[ALREADYEXISTS\] /);
  assert.equal(await h.exec(renameCommand, 'a inbox'), 't NO [ALREADYEXISTS] INBOX already exists');
  assert.match(await h.exec(renameCommand, 'nope c'), /^t NO \[NONEXISTENT\] /);
  assert.match(await h.exec(renameCommand, 'a a/child'), /^t NO \[CANNOT\] /);
  assert.match(await h.exec(renameCommand, 'a x*'), /^t NO \[CANNOT\] /);
});

test('SUBSCRIBE / UNSUBSCRIBE / LSUB (RFC 3501 §6.3.6, §6.3.7, §6.3.9)', async () => {
  const h = await harness({ delimiter: '.' });
  await h.exec(createCommand, '#news.comp.mail.mime');
  await h.exec(createCommand, '#news.comp.mail.misc');
  assert.equal(await h.exec(subscribeCommand, '#news.comp.mail.mime'), 't OK SUBSCRIBE completed');
  assert.equal(await h.exec(subscribeCommand, '#news.comp.mail.misc'), 't OK SUBSCRIBE completed');
  assert.deepEqual(await lines(h, lsubCommand, '"#news." "comp.mail.*"'), [
    '* LSUB () "." #news.comp.mail.mime',
    '* LSUB () "." #news.comp.mail.misc',
    't OK LSUB completed',
  ]);
  assert.deepEqual(await lines(h, lsubCommand, '"#news." "comp.%"'), ['* LSUB (\\Noselect) "." #news.comp.mail', 't OK LSUB completed']);
  assert.equal(await h.exec(unsubscribeCommand, '#news.comp.mail.mime'), 't OK UNSUBSCRIBE completed');
  // Not subscribed any more: still OK (RFC 9051 §6.3.8).
  assert.equal(await h.exec(unsubscribeCommand, '#news.comp.mail.mime'), 't OK UNSUBSCRIBE completed');
  assert.deepEqual(await lines(h, lsubCommand, '"" *'), ['* LSUB () "." INBOX', '* LSUB () "." #news.comp.mail.misc', 't OK LSUB completed']);
});

test('SUBSCRIBE a name that does not exist; LSUB marks it \\Noselect; LIST (SUBSCRIBED) \\NonExistent', async () => {
  const h = await harness();
  assert.equal(await h.exec(subscribeCommand, 'ghost'), 't OK SUBSCRIBE completed');
  assert.equal(await h.exec(subscribeCommand, '""'), 't NO [CANNOT] Mailbox name may not be empty');
  assert.deepEqual(await lines(h, lsubCommand, '"" *'), ['* LSUB () "/" INBOX', '* LSUB (\\Noselect) "/" ghost', 't OK LSUB completed']);
  assert.deepEqual(await lines(h, listCommand, '(SUBSCRIBED) "" *'), [
    '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
    '* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" ghost',
    't OK LIST completed',
  ]);
  assert.deepEqual(await lines(h, listCommand, '"" * RETURN (SUBSCRIBED)'), ['* LIST (\\HasNoChildren \\Subscribed) "/" INBOX', 't OK LIST completed']);
});

test('LIST "" "" gives the delimiter and root (RFC 3501 §6.3.8)', async () => {
  const h = await harness();
  assert.deepEqual(await lines(h, listCommand, '"" ""'), ['* LIST (\\Noselect) "/" ""', 't OK LIST completed']);
  assert.deepEqual(await lines(h, listCommand, 'foo/bar ""'), ['* LIST (\\Noselect) "/" ""', 't OK LIST completed']);
  // An extended LIST ignores the empty pattern (RFC 5258 §3).
  assert.deepEqual(await lines(h, listCommand, '() "" ""'), ['t OK LIST completed']);
  assert.deepEqual(await lines(h, listCommand, '"" ("" INBOX)'), ['* LIST (\\HasNoChildren) "/" INBOX', 't OK LIST completed']);
});

test('LIST with a reference (RFC 3501 §6.3.8 "~/Mail/" example, without the "~")', async () => {
  const h = await harness();
  await h.exec(createCommand, 'Mail/foo/x');
  await h.exec(deleteCommand, 'Mail/foo'); // foo keeps its child, so it turns \Noselect
  await h.exec(createCommand, 'Mail/meetings');
  assert.deepEqual(await lines(h, listCommand, 'Mail/ %'), [
    '* LIST (\\Noselect \\HasChildren) "/" Mail/foo',
    '* LIST (\\HasNoChildren) "/" Mail/meetings',
    't OK LIST completed',
  ]);
  // The reference is taken literally: its "*" is not a wildcard.
  assert.deepEqual(await lines(h, listCommand, 'M* %'), ['t OK LIST completed']);
});

test('LIST patterns and INBOX case', async () => {
  const h = await harness();
  for (const name of ['Fruit/Apple', 'Fruit/Banana', 'Tofu', 'Vegetable/Corn']) await h.exec(createCommand, name);
  assert.deepEqual(await lines(h, listCommand, '"" %'), [
    '* LIST (\\HasNoChildren) "/" INBOX',
    '* LIST (\\HasChildren) "/" Fruit',
    '* LIST (\\HasNoChildren) "/" Tofu',
    '* LIST (\\HasChildren) "/" Vegetable',
    't OK LIST completed',
  ]);
  assert.deepEqual(await lines(h, listCommand, '"" inbox'), ['* LIST (\\HasNoChildren) "/" INBOX', 't OK LIST completed']);
  assert.deepEqual(await lines(h, listCommand, 'Fruit/ %'), [
    '* LIST (\\HasNoChildren) "/" Fruit/Apple',
    '* LIST (\\HasNoChildren) "/" Fruit/Banana',
    't OK LIST completed',
  ]);
  assert.deepEqual(await lines(h, listCommand, '"" nothing*'), ['t OK LIST completed']);
});

test('LIST-STATUS (RFC 5819 §3)', async () => {
  const h = await harness();
  await h.exec(createCommand, 'foo');
  await h.exec(createCommand, 'bar/child');
  await h.exec(deleteCommand, 'bar');
  await append(h, 'INBOX');
  await append(h, 'INBOX', ['\\Seen']);
  assert.deepEqual(await lines(h, listCommand, '"" % RETURN (STATUS (MESSAGES UNSEEN))'), [
    '* LIST (\\HasNoChildren) "/" INBOX',
    '* STATUS INBOX (MESSAGES 2 UNSEEN 1)',
    '* LIST (\\Noselect \\HasChildren) "/" bar',
    '* LIST (\\HasNoChildren) "/" foo',
    '* STATUS foo (MESSAGES 0 UNSEEN 0)',
    't OK LIST completed',
  ]);
});

test('STATUS items (RFC 3501 §6.3.10, RFC 8438, RFC 9051, RFC 7889)', async () => {
  const h = await harness();
  await append(h, 'INBOX', ['\\Deleted']);
  await append(h, 'INBOX', ['\\Seen']);
  const [line, done] = await lines(h, statusCommand, 'inbox (UIDNEXT MESSAGES UNSEEN RECENT DELETED UIDVALIDITY SIZE HIGHESTMODSEQ APPENDLIMIT)');
  assert.match(line!, /^\* STATUS INBOX \(MESSAGES 2 RECENT 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 1 DELETED 1 SIZE \d+ HIGHESTMODSEQ \d+ APPENDLIMIT \d+\)$/);
  assert.equal(done, 't OK STATUS completed');
  const size = Number(/SIZE (\d+)/.exec(line!)![1]);
  assert.equal(size, 2 * Buffer.byteLength('Subject: x\r\n\r\nbody\r\n'));
});

test('STATUS: missing and \\Noselect mailboxes are NO', async () => {
  const h = await harness();
  await h.exec(createCommand, 'p/c');
  await h.exec(deleteCommand, 'p');
  assert.match(await h.exec(statusCommand, 'nope (MESSAGES)'), /^t NO \[NONEXISTENT\] /);
  assert.equal(await h.exec(statusCommand, 'p (MESSAGES)'), 't NO [NONEXISTENT] p is not a selectable mailbox');
});

test('STATUS (HIGHESTMODSEQ) enables CONDSTORE and reports the selected mailbox once (RFC 7162 §3.1)', async () => {
  const h = await harness({ selected: { highestModseq: 42 } });
  assert.deepEqual((await lines(h, statusCommand, 'INBOX (HIGHESTMODSEQ)')).map((l) => l.replace(/HIGHESTMODSEQ \d+\)/, 'HIGHESTMODSEQ n)')), [
    '* OK [HIGHESTMODSEQ 42] Highest',
    '* STATUS INBOX (HIGHESTMODSEQ n)',
    't OK STATUS completed',
  ]);
  assert.ok(h.enabled.has('CONDSTORE'));
  assert.equal((await lines(h, statusCommand, 'INBOX (HIGHESTMODSEQ)')).length, 2);
});

test('names travel as modified UTF-7, or as UTF-8 after ENABLE UTF8=ACCEPT', async () => {
  const h = await harness();
  assert.match(await h.exec(createCommand, 'peter/mail/&U,BTFw-/&ZeVnLIqe-'), CREATED);
  await h.mail.get('peter/mail/台北/日本語');
  assert.deepEqual(await lines(h, listCommand, '"" "peter/mail/&U,BTFw-/*"'), [
    '* LIST (\\HasNoChildren) "/" peter/mail/&U,BTFw-/&ZeVnLIqe-',
    't OK LIST completed',
  ]);
  // A pattern in modified UTF-7 matches on the decoded name: "*語" finds 日本語.
  assert.deepEqual(await lines(h, listCommand, '"" "*&ip4-"'), ['* LIST (\\HasNoChildren) "/" peter/mail/&U,BTFw-/&ZeVnLIqe-', 't OK LIST completed']);
  h.enabled.add('UTF8=ACCEPT');
  assert.deepEqual(await lines(h, listCommand, '"" "peter/mail/台北/%"'), ['* LIST (\\HasNoChildren) "/" "peter/mail/台北/日本語"', 't OK LIST completed']);
  assert.deepEqual(await lines(h, statusCommand, '"peter/mail/台北/日本語" (MESSAGES)'), ['* STATUS "peter/mail/台北/日本語" (MESSAGES 0)', 't OK STATUS completed']);
});

test('names that need quoting are quoted', async () => {
  const h = await harness();
  await h.exec(createCommand, '"Sent Items"');
  await h.exec(createCommand, '"a\\"q"');
  assert.deepEqual(await lines(h, listCommand, '"" *'), [
    '* LIST (\\HasNoChildren) "/" INBOX',
    '* LIST (\\HasNoChildren) "/" "Sent Items"',
    '* LIST (\\HasNoChildren) "/" "a\\"q"',
    't OK LIST completed',
  ]);
});

test('NAMESPACE (RFC 2342 §5)', async () => {
  assert.deepEqual(await lines(await harness(), namespaceCommand, ''), ['* NAMESPACE (("" "/")) NIL NIL', 't OK NAMESPACE completed']);
  assert.deepEqual(await lines(await harness({ delimiter: '.' }), namespaceCommand, ''), ['* NAMESPACE (("" ".")) NIL NIL', 't OK NAMESPACE completed']);
});
