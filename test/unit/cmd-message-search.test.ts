/** SEARCH / UID SEARCH runs (src/imap/commands/search.ts) over MemoryStore. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchCommand, uidSearchCommand } from '../../src/imap/commands/search.js';
import { harness, message } from './cmd-message-harness.js';

async function setup() {
  const h = await harness();
  await h.append('INBOX', message('Grüße aus Köln', 'Content-Type: text/plain; charset=utf-8\n', 'Straße'), { flags: ['\\Seen'] });
  await h.append('INBOX', message('=?ISO-8859-1?Q?Caf=E9?= menu'), { flags: ['\\Flagged'] });
  await h.append('INBOX', message('plain'));
  await h.select();
  h.take();
  return h;
}

test('UTF-8 search strings match decoded headers and bodies (CHARSET UTF-8)', async () => {
  const h = await setup();
  const search = (key: string, text: string) => h.run(searchCommand, `CHARSET UTF-8 ${key} {${Buffer.byteLength(text)}}`, [text]);
  assert.equal(await search('SUBJECT', 'grüße'), 't OK SEARCH completed');
  assert.deepEqual(h.take(), ['* SEARCH 1']);
  await search('SUBJECT', 'CAFÉ');
  assert.deepEqual(h.take(), ['* SEARCH 2']);
  await search('BODY', 'straße');
  assert.deepEqual(h.take(), ['* SEARCH 1']);
  await search('TEXT', 'köln');
  assert.deepEqual(h.take(), ['* SEARCH 1']);
  await h.close();
});

test('an unsupported CHARSET is NO [BADCHARSET (US-ASCII UTF-8)] and sends no SEARCH', async () => {
  const h = await setup();
  assert.equal(await h.run(searchCommand, 'CHARSET ISO-2022-JP ALL'), 't NO [BADCHARSET (US-ASCII UTF-8)] Charset ISO-2022-JP is not supported');
  assert.deepEqual(h.take(), []);
  await h.close();
});

test('messages the session has not been told about are left out (their sequence numbers do not exist yet)', async () => {
  const h = await setup();
  const view = h.view();
  await h.other.append(view.mailbox.id, { content: Buffer.from('Subject: plain too\r\n\r\nx') });
  await h.run(searchCommand, 'SUBJECT plain');
  assert.deepEqual(h.take(), ['* SEARCH 3']);
  await h.run(uidSearchCommand, 'ALL');
  assert.deepEqual(h.take(), ['* SEARCH 1 2 3']);
  await h.close();
});

test('RETURN (SAVE) stores UIDs in the view; a later NO with SAVE empties it, a BAD does not', async () => {
  const h = await setup();
  const view = h.view();
  assert.equal(await h.run(searchCommand, 'RETURN (SAVE) UNSEEN'), 't OK SEARCH completed');
  assert.deepEqual(h.take(), []);
  assert.deepEqual(view.savedResult, [2, 3]);
  assert.match(await h.run(searchCommand, 'RETURN (SAVE) BOGUS'), /^t BAD /);
  assert.deepEqual(view.savedResult, [2, 3]);
  assert.match(await h.run(searchCommand, 'RETURN (SAVE) CHARSET X-UNKNOWN ALL'), /^t NO \[BADCHARSET/);
  assert.deepEqual(view.savedResult, []);
  await h.close();
});

test('SEARCH without SAVE leaves "$" alone', async () => {
  const h = await setup();
  const view = h.view();
  view.savedResult = [1];
  await h.run(searchCommand, 'RETURN (ALL) ALL');
  assert.deepEqual(h.take(), ['* ESEARCH (TAG "t") ALL 1:3']);
  assert.deepEqual(view.savedResult, [1]);
  await h.close();
});

test('MODSEQ: enables CONDSTORE once, answers with the highest mod-sequence of the matches', async () => {
  const h = await setup();
  const view = h.view();
  const recs = await h.mail.records(view.mailbox.id, [1, 2, 3]);
  const m2 = recs[1]!.modseq;
  await h.run(searchCommand, `MODSEQ ${m2}`);
  assert.deepEqual(h.take(), [`* OK [HIGHESTMODSEQ ${view.highestModseq}] Highest`, `* SEARCH 2 3 (MODSEQ ${recs[2]!.modseq})`]);
  assert.ok(h.enabled.has('CONDSTORE'));
  await h.run(uidSearchCommand, `RETURN (MIN COUNT) MODSEQ ${m2}`);
  assert.deepEqual(h.take(), [`* ESEARCH (TAG "t") UID MIN 2 COUNT 2 MODSEQ ${recs[2]!.modseq}`]);
  await h.run(searchCommand, 'MODSEQ 999999');
  assert.deepEqual(h.take(), ['* SEARCH']);
  await h.close();
});

test('SEARCH needs a selected mailbox', async () => {
  const h = await harness();
  assert.match(await h.run(searchCommand, 'ALL'), /^t BAD /);
  await h.close();
});
