import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchCommand, uidFetchCommand } from '../../src/imap/commands/fetch.js';
import { fetchHarness } from './fetch-harness.js';
import type { UserMailbox } from '../../src/store/types.js';
import { StoreError } from '../../src/store/errors.js';

const simple = (subject: string, body = 'hello'): string => `From: a@b.test\r\nSubject: ${subject}\r\n\r\n${body}`;

test('FETCH FLAGS INTERNALDATE RFC822.SIZE UID', async () => {
  const h = await fetchHarness([simple('one'), simple('two')], { flags: [['\\Flagged'], []] });
  const done = await h.exec(fetchCommand, '1:2 (UID FLAGS INTERNALDATE RFC822.SIZE)');
  assert.match(done, /^t OK/);
  assert.deepEqual(h.lines.slice(0, 2), [
    '* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent) INTERNALDATE " 2-Jan-2024 03:04:05 +0000" RFC822.SIZE 37)',
    '* 2 FETCH (UID 2 FLAGS (\\Recent) INTERNALDATE " 3-Jan-2024 03:04:05 +0000" RFC822.SIZE 37)',
  ]);
});

test('UID FETCH always includes UID; UIDs that name no message are ignored', async () => {
  const h = await fetchHarness([simple('one'), simple('two')]);
  await h.exec(uidFetchCommand, '2:99 FLAGS');
  assert.deepEqual(h.lines, ['* 2 FETCH (UID 2 FLAGS (\\Recent))', 't OK done']);
});

test('FETCH ENVELOPE, BODY and BODYSTRUCTURE', async () => {
  const h = await fetchHarness([simple('env')]);
  await h.exec(fetchCommand, '1 (ENVELOPE BODY BODYSTRUCTURE)');
  assert.equal(
    h.lines[0],
    '* 1 FETCH (ENVELOPE (NIL "env" ((NIL NIL "a" "b.test")) ((NIL NIL "a" "b.test")) ((NIL NIL "a" "b.test")) NIL NIL NIL NIL NIL) ' +
      'BODY ("TEXT" "PLAIN" ("charset" "us-ascii") NIL NIL "7BIT" 5 1) BODYSTRUCTURE ("TEXT" "PLAIN" ("charset" "us-ascii") NIL NIL "7BIT" 5 1 NIL NIL NIL NIL))',
  );
});

test('BODY[] sets \\Seen and reports FLAGS; BODY.PEEK does not', async () => {
  const h = await fetchHarness([simple('a'), simple('b')]);
  await h.exec(fetchCommand, '1 BODY.PEEK[TEXT]');
  assert.equal(h.lines[0], '* 1 FETCH (BODY[TEXT] {5}\r\nhello)');
  assert.deepEqual(h.view.flagsOf(1), ['\\Recent']);
  await h.exec(fetchCommand, '1:2 (BODY[HEADER.FIELDS (Subject)])');
  assert.equal(h.lines[2], '* 1 FETCH (BODY[HEADER.FIELDS (Subject)] {14}\r\nSubject: a\r\n\r\n FLAGS (\\Seen \\Recent))');
  assert.deepEqual(h.view.flagsOf(2), ['\\Seen', '\\Recent']);
  const inbox = await h.mail.get('INBOX');
  assert.deepEqual((await h.mail.records(inbox.id, [1, 2])).map((r) => r.flags), [['\\Seen'], ['\\Seen']]);
  // Already \Seen: no store update, no FLAGS added.
  await h.exec(fetchCommand, '1 RFC822.TEXT');
  assert.equal(h.lines[5], '* 1 FETCH (RFC822.TEXT {5}\r\nhello)');
});

test('EXAMINE (read-only): bodies never set \\Seen', async () => {
  const h = await fetchHarness([simple('a')], { readOnly: true });
  await h.exec(fetchCommand, '1 RFC822');
  assert.equal(h.lines[0], `* 1 FETCH (RFC822 {35}\r\n${simple('a')})`);
  assert.deepEqual(h.view.flagsOf(1), ['\\Recent']);
});

test('partial fetch names the origin; RFC822.HEADER; sections of a multipart', async () => {
  const mp = [
    'Subject: mp',
    'Content-Type: multipart/mixed; boundary=x',
    '',
    '--x',
    'Content-Type: text/plain',
    '',
    'first part',
    '--x',
    'Content-Type: text/plain',
    '',
    'second',
    '--x--',
    '',
  ].join('\r\n');
  const h = await fetchHarness([mp]);
  await h.exec(fetchCommand, '1 (BODY.PEEK[1]<6.100> BODY.PEEK[2.MIME] BODY.PEEK[3] RFC822.HEADER)');
  assert.equal(
    h.lines[0],
    '* 1 FETCH (BODY[1]<6> {4}\r\npart BODY[2.MIME] {28}\r\nContent-Type: text/plain\r\n\r\n BODY[3] "" ' +
      'RFC822.HEADER {58}\r\nSubject: mp\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n)',
  );
});

test('bodies over 64 KiB are streamed from the store', async () => {
  const big = simple('big', 'y'.repeat(200_000));
  const h = await fetchHarness([big]);
  let streamed = 0;
  const mail = h.mail as UserMailbox;
  const original = mail.stream.bind(mail);
  mail.stream = (id, uid, range) => {
    streamed++;
    return original(id, uid, range);
  };
  await h.exec(fetchCommand, '1 BODY.PEEK[TEXT]<10.100000>');
  assert.equal(streamed, 1);
  assert.equal(h.lines[0], `* 1 FETCH (BODY[TEXT]<10> {100000}\r\n${'y'.repeat(100_000)})`);
});

test('a stream whose store reports the message gone before pinning it is skipped, before any literal is announced', async () => {
  const h = await fetchHarness([simple('small'), simple('big', 'y'.repeat(200_000)), simple('after')]);
  const mail = h.mail as UserMailbox;
  const original = mail.stream.bind(mail);
  // What a RemoteStore does when an EXPUNGE reached the store's owner before this read did.
  mail.stream = (id, uid, range) => {
    const pinned = Promise.reject(new StoreError('nonexistent', 'no such message'));
    return Object.assign(original(id, uid, range), { pinned });
  };
  const done = await h.exec(fetchCommand, '1:3 BODY.PEEK[]');
  assert.match(done, /^t OK/);
  const fetched = h.lines.filter((l) => l.startsWith('* '));
  assert.deepEqual(fetched.map((l) => l.slice(0, 11)), ['* 1 FETCH (', '* 3 FETCH (']);
});

test('UID FETCH 1:* (UID FLAGS) reads nothing from the store and drains per batch', async () => {
  const h = await fetchHarness(Array.from({ length: 2500 }, (_, i) => simple(`m${i}`)));
  const mail = h.mail as UserMailbox;
  let calls = 0;
  for (const k of ['records', 'structure', 'read', 'stream'] as const) {
    const orig = (mail[k] as (...a: unknown[]) => unknown).bind(mail);
    (mail as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => {
      calls++;
      return orig(...a);
    };
  }
  await h.exec(uidFetchCommand, '1:* (UID FLAGS)');
  assert.equal(calls, 0);
  assert.equal(h.lines.length, 2501);
  assert.equal(h.lines[2499], '* 2500 FETCH (UID 2500 FLAGS (\\Recent))');
  assert.equal(h.drains, 3);
});

test('records are loaded in batches of at most 1000', async () => {
  const h = await fetchHarness(Array.from({ length: 2100 }, (_, i) => simple(`m${i}`)));
  const mail = h.mail as UserMailbox;
  const sizes: number[] = [];
  const orig = mail.records.bind(mail);
  mail.records = (id, uids) => {
    sizes.push(uids.length);
    return orig(id, uids);
  };
  await h.exec(fetchCommand, '1:* RFC822.SIZE');
  assert.deepEqual(sizes, [1000, 1000, 100]);
  assert.equal(h.lines.length, 2101);
});

test('a store with messageHeads is asked once per batch: no structure() or read() per message', async () => {
  const h = await fetchHarness(Array.from({ length: 30 }, (_, i) => simple(`m${i}`)));
  const mail = h.mail as UserMailbox;
  const heads: Array<{ uids: number; header: boolean }> = [];
  const orig = mail.messageHeads!.bind(mail);
  mail.messageHeads = (id, uids, options) => {
    heads.push({ uids: uids.length, header: options?.header === true });
    return orig(id, uids, options);
  };
  let perMessage = 0;
  for (const k of ['structure', 'read', 'stream'] as const) {
    const o = (mail[k] as (...a: unknown[]) => unknown).bind(mail);
    (mail as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => {
      perMessage++;
      return o(...a);
    };
  }
  await h.exec(fetchCommand, '1:30 (ENVELOPE BODY.PEEK[HEADER.FIELDS (Subject)] BODYSTRUCTURE)');
  assert.deepEqual(heads, [{ uids: 30, header: true }]);
  assert.equal(perMessage, 0);
  const fetched = h.lines.filter((l) => l.startsWith('* '));
  assert.equal(fetched.length, 30);
  assert.match(fetched[29]!, /^\* 30 FETCH \(ENVELOPE \(NIL "m29".*\) BODY\[HEADER\.FIELDS \(Subject\)\] \{16\}\r\nSubject: m29\r\n\r\n BODYSTRUCTURE \("TEXT" "PLAIN"/s);
  // Only the structure when no header block is needed.
  heads.length = 0;
  await h.exec(fetchCommand, '1:5 (BODY.PEEK[1] BODY)');
  assert.deepEqual(heads, [{ uids: 5, header: false }]);
});

test('store calls for several messages overlap, and responses keep their order when answers come back out of order', async () => {
  const h = await fetchHarness(Array.from({ length: 20 }, (_, i) => simple(`m${i}`)));
  const mail = h.mail as UserMailbox;
  // A store without the batch call (messageHeads' fallback asks structure() of each message).
  (mail as { messageHeads?: unknown }).messageHeads = undefined;
  const orig = mail.structure.bind(mail);
  let inFlight = 0;
  let most = 0;
  mail.structure = async (id, uid) => {
    most = Math.max(most, ++inFlight);
    // Later UIDs answer sooner, as a remote store's replies may.
    await new Promise((resolve) => setTimeout(resolve, 2 * (21 - uid)));
    inFlight--;
    return orig(id, uid);
  };
  await h.exec(fetchCommand, '1:20 ENVELOPE');
  assert.ok(most > 1, `at most ${most} structure call(s) at once`);
  const subjects = h.lines.filter((l) => l.startsWith('* ')).map((l) => /^\* (\d+) FETCH \(ENVELOPE \(NIL "(m\d+)"/.exec(l)?.slice(1).join(' '));
  assert.deepEqual(subjects, Array.from({ length: 20 }, (_, i) => `${i + 1} m${i}`));
});

test('a message expunged by another session meanwhile is skipped silently', async () => {
  const h = await fetchHarness([simple('a'), simple('b'), simple('c')]);
  const other = h.mail;
  const inbox = await other.get('INBOX');
  await other.updateFlags(inbox.id, [2], 'add', ['\\Deleted']);
  await other.expunge(inbox.id, [2]);
  await h.exec(fetchCommand, '1:3 (UID RFC822.SIZE)');
  assert.deepEqual(h.lines.filter((l) => l.startsWith('* ')).map((l) => l.slice(0, 14)), ['* 1 FETCH (UID', '* 3 FETCH (UID']);
  await h.exec(fetchCommand, '2 ENVELOPE');
  assert.equal(h.lines[h.lines.length - 1], 't OK done');
  assert.equal(h.lines.length, 4);
});

test('MODSEQ and CHANGEDSINCE enable CONDSTORE (RFC 7162)', async () => {
  const h = await fetchHarness([simple('a'), simple('b')]);
  const inbox = await h.mail.get('INBOX');
  const before = (await h.mail.records(inbox.id, [2]))[0]!.modseq;
  await h.mail.updateFlags(inbox.id, [2], 'add', ['$Important']);
  await h.exec(fetchCommand, `1:* (FLAGS) (CHANGEDSINCE ${before})`);
  assert.ok(h.enabled.has('CONDSTORE'));
  assert.match(h.lines[0]!, /^\* OK \[HIGHESTMODSEQ \d+\]/);
  const fetches = h.lines.filter((l) => l.includes('FETCH'));
  assert.equal(fetches.length, 1);
  assert.match(fetches[0]!, /^\* 2 FETCH \(FLAGS \(.*\) MODSEQ \(\d+\)\)$/);
  await h.exec(fetchCommand, '1 (BODY[TEXT])');
  assert.match(h.lines[h.lines.length - 2]!, /^\* 1 FETCH \(BODY\[TEXT\] \{5\}\r\nhello FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)$/);
});

test('a sequence number beyond EXISTS is BAD', async () => {
  const h = await fetchHarness([simple('a')]);
  assert.match(await h.exec(fetchCommand, '5 FLAGS'), /^t BAD/);
});

test('the view\'s hasFlag(uid, flag) answers as flagsOf(uid).includes(flag), \\Recent and unknown UIDs included', async () => {
  const h = await fetchHarness([simple('a'), simple('b'), simple('c')], { flags: [['\\Deleted', '\\Seen'], [], ['$Label', '\\Deleted']] });
  for (const uid of [1, 2, 3, 99]) {
    for (const flag of ['\\Deleted', '\\Seen', '\\Recent', '$Label', '\\Flagged']) {
      assert.equal(h.view.hasFlag(uid, flag), h.view.flagsOf(uid).includes(flag), `${flag} of ${uid}`);
    }
  }
  assert.equal(h.view.hasFlag(1, '\\Recent'), true, 'the harness\'s messages are recent, so the check above covered \\Recent');
  assert.equal(h.view.hasFlag(3, '\\Deleted'), true);
  assert.equal(h.view.hasFlag(2, '\\Deleted'), false);
});
