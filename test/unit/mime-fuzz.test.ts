import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseMessage, bodyText } from '../../src/mime/index.js';
import type { MimePart } from '../../src/mime/index.js';

/** Every part lies within [lo, hi]; children lie within their parent's body, in order, without overlap. */
function checkPart(p: MimePart, lo: number, hi: number): void {
  assert.ok(lo <= p.headerStart && p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= hi, JSON.stringify([lo, hi, p.headerStart, p.bodyStart, p.bodyEnd]));
  assert.ok(p.bodyLines >= 0);
  assert.ok(typeof p.contentType.type === 'string' && p.contentType.type.length > 0);
  if (p.parts) {
    assert.ok(p.parts.length > 0);
    let cursor = p.bodyStart;
    for (const c of p.parts) {
      checkPart(c, cursor, p.bodyEnd);
      cursor = c.bodyEnd;
    }
  }
  if (p.message) {
    assert.equal(p.message.root.headerStart, p.bodyStart);
    checkPart(p.message.root, p.bodyStart, p.bodyEnd);
  }
}

// Pieces that make the parser's interesting paths likely: boundaries, headers, folding, line ends.
const piece = fc.oneof(
  fc.constantFrom(
    '\r\n', '\n', '\r', '--b', '--b--', '--c', '--c--', ': ', ';', '"', '(', ')', '<', '>', '@', ',', ':', ' ', '\t', '=?utf-8?B?', '?=', '=',
    'Content-Type: multipart/mixed; boundary=b\r\n',
    'Content-Type: multipart/digest; boundary="c"\n',
    'Content-Type: message/rfc822\r\n',
    'Content-Type: text/plain; charset=iso-8859-1; name*0*=utf-8\'\'%E2; name*1=x\r\n',
    'Content-Transfer-Encoding: quoted-printable\r\n',
    'Content-Transfer-Encoding: base64\r\n',
    'From: A Group:a@b, "q\\"x" <c@d>;\r\n',
    'To: undisclosed-recipients:;\n',
    'Subject: x\r\n ',
  ),
  fc.string({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a).toString('latin1')),
);

test('parseMessage never throws, offsets stay in bounds and nest (fast-check)', () => {
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
      const raw = Buffer.from(pieces.join(''), 'latin1');
      const s = parseMessage(raw);
      assert.equal(s.size, raw.length);
      checkPart(s.root, 0, raw.length);
      assert.equal(typeof bodyText(raw, s), 'string');
    }),
    { numRuns: 1500 },
  );
});

test('parseMessage on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const raw = Buffer.from(bytes);
      checkPart(parseMessage(raw).root, 0, raw.length);
    }),
    { numRuns: 500 },
  );
});
