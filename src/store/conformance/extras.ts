/**
 * RFC 8474 EMAILID, RFC 8514 save dates and RFC 8970 previews, for stores that declare
 * `messageExtras` (a store without it passes by having none: each case checks the flag first).
 */
import assert from 'node:assert/strict';
import type { Register, TestEnv } from './harness.js';
import { crlf, simpleMessage } from './fixtures.js';
import type { UserMailbox } from '../types.js';

const OBJECT_ID = /^[A-Za-z][A-Za-z0-9_-]{0,254}$/;

function supported(env: TestEnv): boolean {
  return env.store.messageExtras === true;
}

const htmlOnly = crlf([
  'From: a@example.org',
  'Subject: html',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="b"',
  '',
  '--b',
  'Content-Type: text/html; charset=iso-8859-1',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<html><head><style>p{color:red}</style></head><body><p>Gr=FC=DFe&nbsp;aus</p>',
  '<p>   K=F6ln   </p></body></html>',
  '--b--',
  '',
]);

async function one(a: UserMailbox, mailboxId: string, uid: number, preview?: 'stored' | 'compute') {
  const [extras] = await a.messageExtras!(mailboxId, [uid], preview ? { preview } : {});
  assert.ok(extras, `no extras for uid ${uid}`);
  return extras;
}

export function extrasTests(test: Register): void {
  test.group('EMAILID, save dates and previews (RFC 8474, 8514, 8970)', () => {
    test('EMAILID is an object id, the same for the same message on every call and handle, different for other content', async (env) => {
      if (!supported(env)) return;
      const a = await env.open();
      const inbox = await a.get('INBOX');
      const first = await a.append(inbox.id, { content: simpleMessage({ subject: 'one' }) });
      const second = await a.append(inbox.id, { content: simpleMessage({ subject: 'two' }) });
      const ids = (await a.messageExtras!(inbox.id, [second.uid, first.uid, 999])).map((e) => [e.uid, e.emailId]);
      assert.equal(ids.length, 2, 'missing UIDs are skipped, the rest ascending');
      assert.equal(ids[0]![0], first.uid);
      for (const [, id] of ids) assert.match(String(id), OBJECT_ID);
      assert.notEqual(ids[0]![1], ids[1]![1]);
      const again = await (await env.open()).messageExtras!(inbox.id, [first.uid]);
      assert.equal(again[0]!.emailId, ids[0]![1]);
    });

    test('COPY and MOVE keep the EMAILID (RFC 8474 §5.1); SEARCH EMAILID finds the message', async (env) => {
      if (!supported(env)) return;
      const a = await env.open();
      const inbox = await a.get('INBOX');
      const other = await a.create(env.name('extras-copy'));
      const third = await a.create(env.name('extras-move'));
      const { uid } = await a.append(inbox.id, { content: simpleMessage({ subject: 'kept' }) });
      await a.append(inbox.id, { content: simpleMessage({ subject: 'not this one' }) });
      const { emailId } = await one(a, inbox.id, uid);
      const copied = await a.copy(inbox.id, [uid], other.id);
      assert.equal((await one(a, other.id, copied.mapping[0]![1])).emailId, emailId);
      const moved = await a.move(other.id, [copied.mapping[0]![1]], third.id);
      assert.equal((await one(a, third.id, moved.mapping[0]![1])).emailId, emailId);
      assert.deepEqual(await a.search(inbox.id, { type: 'emailid', id: emailId }), [uid]);
      assert.deepEqual(await a.search(inbox.id, { type: 'not', of: { type: 'emailid', id: emailId } }), [uid + 1]);
      assert.deepEqual(await a.search(inbox.id, { type: 'emailid', id: 'Mnot-an-id-of-this-store' }), []);
      // Inside an OR with a key evaluated in code, the answer is the same.
      assert.deepEqual(await a.search(inbox.id, { type: 'or', of: [{ type: 'emailid', id: emailId }, { type: 'body', value: 'no such text' }] }), [uid]);
    });

    test('the save date is set by APPEND, and again (to the time of the copy) by COPY and MOVE; the internal date is kept', async (env) => {
      if (!supported(env)) return;
      const a = await env.open();
      const inbox = await a.get('INBOX');
      const target = await a.create(env.name('extras-saved'));
      const internalDate = new Date('2001-02-03T04:05:06Z');
      const before = Date.now() - 1000;
      const { uid } = await a.append(inbox.id, { content: simpleMessage(), internalDate });
      const [rec] = await a.records(inbox.id, [uid]);
      assert.ok(rec!.saveDate instanceof Date, 'saveDate is a Date');
      assert.ok(rec!.saveDate.getTime() >= before && rec!.saveDate.getTime() <= Date.now() + 1000, `save date ${rec!.saveDate.toISOString()} is now`);
      const copied = await a.copy(inbox.id, [uid], target.id);
      const [copy] = await a.records(target.id, [copied.mapping[0]![1]]);
      assert.equal(copy!.internalDate.getTime(), internalDate.getTime());
      assert.ok(copy!.saveDate instanceof Date && copy!.saveDate.getTime() >= before);
      const today = new Date().toISOString().slice(0, 10);
      assert.deepEqual(await a.search(target.id, { type: 'savedate', op: 'on', day: today }), [copied.mapping[0]![1]]);
      assert.deepEqual(await a.search(target.id, { type: 'savedate', op: 'before', day: today }), []);
      assert.deepEqual(await a.search(target.id, { type: 'internaldate', op: 'on', day: '2001-02-03' }), [copied.mapping[0]![1]]);
      assert.deepEqual(await a.search(target.id, { type: 'or', of: [{ type: 'savedate', op: 'since', day: today }, { type: 'body', value: 'zzz' }] }), [copied.mapping[0]![1]]);
    });

    test('PREVIEW: text/plain first, white space collapsed, at most 200 characters; html reduced to text and charset-decoded', async (env) => {
      if (!supported(env)) return;
      const a = await env.open();
      const inbox = await a.get('INBOX');
      const long = Array.from({ length: 80 }, (_, i) => `word${i}`).join('\r\n  \t');
      const plain = await a.append(inbox.id, { content: simpleMessage({ body: long }) });
      const html = await a.append(inbox.id, { content: htmlOnly });
      const p = (await one(a, inbox.id, plain.uid, 'compute')).preview!;
      assert.ok(p.startsWith('word0 word1 word2 '), p);
      assert.ok(Array.from(p).length <= 200, `${Array.from(p).length} characters`);
      assert.doesNotMatch(p, /\s\s|[\r\n\t]/);
      assert.equal((await one(a, inbox.id, html.uid, 'compute')).preview, 'Grüße aus Köln');
      // Kept since APPEND: LAZY ('stored') has it too.
      assert.equal((await one(a, inbox.id, html.uid, 'stored')).preview, 'Grüße aus Köln');
      // No preview asked: none given.
      assert.equal((await one(a, inbox.id, html.uid)).preview, undefined);
    });

    test('PREVIEW of a message without text is ""', async (env) => {
      if (!supported(env)) return;
      const a = await env.open();
      const inbox = await a.get('INBOX');
      const image = crlf(['Subject: pic', 'Content-Type: image/png', 'Content-Transfer-Encoding: base64', '', 'iVBORw0KGgo=', '']);
      const { uid } = await a.append(inbox.id, { content: image });
      assert.equal((await one(a, inbox.id, uid, 'compute')).preview, '');
    });
  });
}
