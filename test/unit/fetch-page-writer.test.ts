/**
 * FetchPageWriter (the FETCH page's responses written into one Buffer) against the general way,
 * encodeResponse() per message: for random messages and random item lists around ENVELOPE, the
 * bytes must be the same, whichever of the two writes a message's kept ENVELOPE/BODY bytes first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeResponse, fetchHead, FetchPageWriter } from '../../src/imap/wire/encoder.js';
import { literal, type ImapValue } from '../../src/imap/wire/types.js';
import { parseMessage } from '../../src/mime/parse.js';
import { renderFetch } from '../../src/imap/fetch/render.js';
import { MessageSource } from '../../src/imap/fetch/message-source.js';
import type { FetchItem } from '../../src/imap/fetch/items.js';
import type { UserMailbox } from '../../src/store/types.js';

/** Header text: 7-bit, 8-bit (raw UTF-8 and encoded words), quotes and backslashes. */
const headerText = fc.oneof(
  fc.stringMatching(/^[ -~]{0,40}$/),
  fc.constantFrom('caf\u00e9 \u00fcber', '=?utf-8?q?caf=C3=A9?=', 'say "hi" \\ there', '', 'x'.repeat(300)),
);
const address = fc.oneof(
  fc.constantFrom('a@b.test', '"Doe, J" <j@d.test>', 'Gr\u00fc\u00df <g@x.test>', 'undisclosed-recipients:;', 'grp: a@b.test, c@d.test;', '<@route:x@y.test>'),
  fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z]{1,8}$/)).map(([l, d]) => `${l}@${d}.test`),
);
const message = fc
  .record({
    subject: fc.option(headerText, { nil: undefined }),
    from: fc.option(fc.array(address, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    to: fc.option(fc.array(address, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    date: fc.option(fc.constantFrom('Mon, 7 Feb 1994 21:52:25 -0800', 'garbage'), { nil: undefined }),
    messageId: fc.option(fc.constantFrom('<x@y.test>', '<"q"@z>'), { nil: undefined }),
    body: fc.stringMatching(/^[ -~]{0,80}$/),
  })
  .map((m) => {
    let h = '';
    if (m.subject !== undefined) h += `Subject: ${m.subject}\r\n`;
    if (m.from) h += `From: ${m.from.join(', ')}\r\n`;
    if (m.to) h += `To: ${m.to.join(', ')}\r\n`;
    if (m.date) h += `Date: ${m.date}\r\n`;
    if (m.messageId) h += `Message-ID: ${m.messageId}\r\n`;
    return Buffer.from(`${h}\r\n${m.body}\r\n`, 'utf8');
  });

const simple = (name: 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'MODSEQ' | 'BODY' | 'BODYSTRUCTURE'): FetchItem => ({ kind: 'simple', name });
const itemList = fc
  .uniqueArray(fc.constantFrom(simple('UID'), simple('FLAGS'), simple('INTERNALDATE'), simple('RFC822.SIZE'), simple('MODSEQ'), simple('BODY'), simple('BODYSTRUCTURE')), {
    maxLength: 5,
    selector: (i) => (i.kind === 'simple' ? i.name : ''),
  })
  .chain((rest) => fc.integer({ min: 0, max: rest.length }).map((at) => [...rest.slice(0, at), simple('ENVELOPE'), ...rest.slice(at)]));
const flag = fc.constantFrom('\\Seen', '\\Answered', '\\Flagged', '\\Recent', '$Forwarded', 'k\u00e9y');

const page = fc.record({
  items: itemList,
  utf8: fc.boolean(),
  uidOnly: fc.boolean(),
  pageFirst: fc.boolean(),
  messages: fc.array(
    fc.record({
      raw: message,
      seq: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      uid: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      flags: fc.uniqueArray(flag, { maxLength: 4 }),
      modseq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      date: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    }),
    { minLength: 1, maxLength: 40 },
  ),
});

type Page = typeof page extends fc.Arbitrary<infer T> ? T : never;

function rendered(p: Page): ImapValue[][] {
  const out: ImapValue[][] = [];
  for (const m of p.messages) {
    // A structure of its own per run: the renderer keeps value trees (and their bytes) per structure.
    const structure = parseMessage(m.raw);
    const record = { uid: m.uid, flags: m.flags, modseq: m.modseq, internalDate: new Date(m.date), size: m.raw.length };
    const src = new MessageSource(undefined as unknown as UserMailbox, 'box', m.uid, record, { uid: m.uid, structure });
    const values = renderFetch(p.items, src, { flags: () => m.flags, modseq: m.modseq, prepend: [], append: [], utf8: p.utf8 });
    assert.ok(Array.isArray(values), 'answered from the record and structure, without the store');
    out.push(values);
  }
  return out;
}

const general = (p: { utf8: boolean; uidOnly: boolean; messages: Array<{ seq: number; uid: number }> }, values: ImapValue[][]): Buffer =>
  Buffer.concat(
    p.messages.flatMap((m, i) => encodeResponse({ type: 'data', values: [...fetchHead(m.seq, m.uid, p.uidOnly), values[i]!] }, { utf8: p.utf8 }) as Buffer[]),
  );

function viaPage(p: { utf8: boolean; uidOnly: boolean; messages: Array<{ seq: number; uid: number }> }, values: ImapValue[][]): Buffer {
  const w = new FetchPageWriter(p.utf8);
  p.messages.forEach((m, i) => w.response(m.seq, m.uid, p.uidOnly, values[i]!));
  return Buffer.concat(w.take());
}

test('FetchPageWriter writes a page of FETCH responses byte for byte as encodeResponse() does, message by message', () => {
  fc.assert(
    fc.property(page, (p) => {
      const values = rendered(p);
      // Either may be the first to write a message's ENVELOPE (and BODY) and keep its bytes.
      if (p.pageFirst) {
        const fast = viaPage(p, values);
        assert.equal(fast.toString('latin1'), general(p, values).toString('latin1'));
      } else {
        const slow = general(p, values);
        assert.equal(viaPage(p, values).toString('latin1'), slow.toString('latin1'));
      }
      // And again, from the kept bytes.
      assert.equal(viaPage(p, values).toString('latin1'), general(p, values).toString('latin1'));
    }),
    { numRuns: 300 },
  );
});

test('FetchPageWriter: a response that cannot be encoded writes nothing, the ones before it stay (as one by one)', () => {
  const w = new FetchPageWriter(false);
  w.response(1, 10, false, ['UID' as unknown as ImapValue, 10]);
  const before = Buffer.concat(w.take());
  w.response(1, 10, false, [10]);
  // A large literal (its own chunk, after a flush) and then a number IMAP cannot carry.
  assert.throws(() => w.response(2, 11, false, [literal(Buffer.alloc(20_000, 0x61)), -1]), RangeError);
  assert.throws(() => w.response(3, 12, false, [-1]), RangeError);
  w.response(4, 13, false, [13]);
  assert.equal(before.toString('latin1'), '* 1 FETCH ("UID" 10)\r\n');
  assert.equal(Buffer.concat(w.take()).toString('latin1'), '* 1 FETCH (10)\r\n* 4 FETCH (13)\r\n');
  assert.deepEqual(w.take(), []);
});
