/** STORE / UID STORE (src/imap/commands/store.ts): parse tables and runs over MemoryStore. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { ParseError } from '../../src/imap/wire/args.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';
import { parseStoreArgs, storeCommand, uidStoreCommand } from '../../src/imap/commands/store.js';
import { harness, message } from './cmd-message-harness.js';

function parse(args: string) {
  return parseStoreArgs(parseCommand({ text: [`t STORE ${args}`], literals: [], size: 0 }, DEFAULT_IMAP_LIMITS).args);
}

test('STORE data items: FLAGS, +FLAGS, -FLAGS, .SILENT, with or without parentheses', () => {
  const one = { saved: false, ranges: [{ start: 1, end: 1 }] };
  assert.deepEqual(parse('1 FLAGS (\\Seen)'), { set: one, operation: 'set', silent: false, flags: ['\\Seen'], unchangedSince: undefined });
  assert.deepEqual(parse('1 +flags.silent \\seen $Work'), { set: one, operation: 'add', silent: true, flags: ['\\Seen', '$Work'], unchangedSince: undefined });
  assert.deepEqual(parse('1 -FLAGS ()'), { set: one, operation: 'remove', silent: false, flags: [], unchangedSince: undefined });
  assert.deepEqual(parse('1 (UNCHANGEDSINCE 12) FLAGS.SILENT (\\Deleted \\Recent \\DELETED)').flags, ['\\Deleted']);
  assert.equal(parse('1 (UNCHANGEDSINCE 12) FLAGS.SILENT (\\Deleted)').unchangedSince, 12);
});

for (const bad of ['', '1', '1 FLAGS', '1 +FLAGS', '1 FOO (\\Seen)', '1 FLAGS.LOUD (\\Seen)', '1 FLAGS (\\Bogus)', '1 FLAGS (\\*)',
  '1 FLAGS ("quoted")', '1 FLAGS (a) extra', '1 () FLAGS (\\Seen)', '1 (FOO 1) FLAGS (\\Seen)', '1 (UNCHANGEDSINCE x) FLAGS (\\Seen)',
  'x FLAGS (\\Seen)', '1 FLAGS ((\\Seen))']) {
  test(`STORE ${JSON.stringify(bad)} is BAD`, () => {
    assert.throws(() => parse(bad), ParseError);
  });
}

async function setup() {
  const h = await harness();
  await h.append('INBOX', message('one'), { flags: ['\\Seen'] });
  await h.append('INBOX', message('two'));
  await h.append('INBOX', message('three'), { flags: ['$Work'] });
  // Selecting twice leaves nothing \Recent for the session, so FLAGS lines stay short.
  await h.select();
  await h.select();
  return h;
}

test('RFC 3501 §6.4.6: STORE reports the new flags of every message in the set', async () => {
  const h = await setup();
  assert.equal(await h.run(storeCommand, '1:2 +FLAGS (\\Deleted)'), 't OK STORE completed');
  assert.deepEqual(h.take(), ['* 1 FETCH (FLAGS (\\Seen \\Deleted))', '* 2 FETCH (FLAGS (\\Deleted))']);
  const recs = await h.mail.records(h.view().mailbox.id, [1, 2, 3]);
  assert.deepEqual(recs.map((r) => r.flags), [['\\Seen', '\\Deleted'], ['\\Deleted'], ['$Work']]);
  await h.close();
});

test('a message whose flags did not change is still reported; .SILENT reports nothing', async () => {
  const h = await setup();
  await h.run(storeCommand, '1 +FLAGS (\\Seen)');
  assert.deepEqual(h.take(), ['* 1 FETCH (FLAGS (\\Seen))']);
  await h.run(storeCommand, '1:3 FLAGS.SILENT (\\Answered)');
  assert.deepEqual(h.take(), []);
  assert.deepEqual(h.view().flagsOf(3), ['\\Answered']);
  await h.close();
});

test('UID STORE: FETCH carries UID; UIDs naming nothing are a quiet no-op', async () => {
  const h = await setup();
  assert.equal(await h.run(uidStoreCommand, '2:3 -FLAGS ($Work)'), 't OK UID STORE completed');
  assert.deepEqual(h.take(), ['* 2 FETCH (UID 2 FLAGS ())', '* 3 FETCH (UID 3 FLAGS ())']);
  assert.equal(await h.run(uidStoreCommand, '10:20 +FLAGS (\\Seen)'), 't OK Nothing to store');
  assert.deepEqual(h.take(), []);
  await h.close();
});

test('\\Recent shows in FETCH FLAGS for this session but is never stored', async () => {
  const h = await harness();
  await h.append('INBOX', message('one'));
  await h.select();
  await h.run(storeCommand, '1 FLAGS (\\Recent \\Flagged)');
  assert.deepEqual(h.take(), ['* 1 FETCH (FLAGS (\\Flagged \\Recent))']);
  const [rec] = await h.mail.records(h.view().mailbox.id, [1]);
  assert.deepEqual(rec?.flags, ['\\Flagged']);
  await h.close();
});

test('sequence numbers beyond EXISTS are BAD; read-only mailboxes are NO', async () => {
  const h = await setup();
  assert.match(await h.run(storeCommand, '4 +FLAGS (\\Seen)'), /^t BAD /);
  await h.select('INBOX', true);
  assert.equal(await h.run(storeCommand, '1 +FLAGS (\\Seen)'), 't NO Mailbox is read-only');
  await h.close();
});

test('RFC 7162: UNCHANGEDSINCE enables CONDSTORE, reports MODIFIED, and FETCHes MODSEQ even when silent', async () => {
  const h = await setup();
  const before = h.view().highestModseq;
  // Example 8: UNCHANGEDSINCE 0 always fails.
  assert.equal(await h.run(storeCommand, '2 (UNCHANGEDSINCE 0) +FLAGS.SILENT ($MDNSent)'), 't OK [MODIFIED 2] Conditional STORE failed');
  assert.deepEqual(h.take(), [`* OK [HIGHESTMODSEQ ${before}] Highest`]);
  assert.ok(h.enabled.has('CONDSTORE'));

  await h.run(storeCommand, '1:3 (UNCHANGEDSINCE 1000000) +FLAGS.SILENT (\\Flagged)');
  const lines = h.take();
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^\* 1 FETCH \(MODSEQ \(\d+\)\)$/);

  // Now every FETCH carries MODSEQ, also for a message whose flags did not change.
  await h.run(uidStoreCommand, '1 +FLAGS (\\Flagged)');
  const [line] = h.take();
  const [rec] = await h.mail.records(h.view().mailbox.id, [1]);
  assert.equal(line, `* 1 FETCH (UID 1 FLAGS (\\Seen \\Flagged) MODSEQ (${rec!.modseq}))`);
  await h.close();
});

test('UNCHANGEDSINCE: a message changed by another session is left alone and listed in MODIFIED', async () => {
  const h = await setup();
  const view = h.view();
  const known = view.highestModseq;
  await h.other.updateFlags(view.mailbox.id, [2], 'add', ['$Other']);
  const reply = await h.run(uidStoreCommand, `1:3 (UNCHANGEDSINCE ${known}) +FLAGS.SILENT (\\Deleted)`);
  assert.match(reply, /^t OK \[MODIFIED 2\] /);
  const after = await h.mail.records(view.mailbox.id, [1, 2, 3]);
  assert.deepEqual(after.map((r) => r.flags), [['\\Seen', '\\Deleted'], ['$Other'], ['$Work', '\\Deleted']]);
  // The others got their FETCH with MODSEQ; the conflicting one is left to the change feed.
  assert.deepEqual(h.take().map((l) => l.replace(/\d+\)\)$/, 'n))')), [
    `* OK [HIGHESTMODSEQ ${known}] Highest`,
    '* 1 FETCH (UID 1 MODSEQ (n))',
    '* 3 FETCH (UID 3 MODSEQ (n))',
  ]);
  await h.close();
});

test("a STORE that finds messages gone or already changed before their events came (another process) queues what it found", async () => {
  const h = await setup();
  const view = h.view();
  // Another process's changes: committed, their events not here yet (the watch is dropped for them).
  const { store } = h;
  const other = await store.open('alice', { origin: 'elsewhere' });
  (view as unknown as { onChange: (c: unknown) => void }).onChange = ((orig) => (c: unknown) => {
    if ((c as { origin?: string }).origin === 'elsewhere') return; // still on its way
    orig.call(view, c);
  })((view as unknown as { onChange: (c: unknown) => void }).onChange);
  await other.updateFlags(view.mailbox.id, [2], 'add', ['$Done']);
  await other.updateFlags(view.mailbox.id, [3], 'add', ['\\Deleted']);
  await other.expunge(view.mailbox.id);
  h.take();
  assert.equal(await h.run(storeCommand, '2:3 +FLAGS ($Done)'), 't OK STORE completed');
  // No FETCH for either (the flags changed elsewhere, the message is gone)...
  assert.deepEqual(h.take().filter((l) => / FETCH /.test(l) && /^\* [23] /.test(l)), []);
  // ...but the view now holds the expunge and the newer flags, reported as the events would have been.
  await view.flush(h.mail, true);
  const told = h.take();
  assert.ok(told.includes('* 3 EXPUNGE'), told.join(' | '));
  assert.ok(told.some((l) => /^\* 2 FETCH \(.*FLAGS \(\$Done\)/.test(l)), told.join(' | '));
  await h.close();
});
