import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../src/mime/index.js';
import { renderEnvelope } from '../../src/imap/fetch/envelope.js';
import { renderBodyStructure } from '../../src/imap/fetch/bodystructure.js';
import { encodeValue } from '../../src/imap/wire/encoder.js';
import type { ImapValue } from '../../src/imap/wire/types.js';

function wire(v: ImapValue): string {
  return Buffer.concat(encodeValue(v).map((c) => (Buffer.isBuffer(c) ? c : Buffer.alloc(0)))).toString('utf8');
}

/** A body of exactly `size` octets in `lines` CRLF-separated lines (the last one unterminated). */
function bodyOf(size: number, lines: number): string {
  const chars = size - 2 * (lines - 1);
  const base = Math.floor(chars / lines);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push('x'.repeat(base + (i < chars % lines ? 1 : 0)));
  return out.join('\r\n');
}

test('rfc-7.4.2 ENVELOPE example', () => {
  const raw = Buffer.from(
    [
      'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
      'From: Terry Gray <gray@cac.washington.edu>',
      'Subject: IMAP4rev1 WG mtg summary and minutes',
      'To: imap@cac.washington.edu',
      'cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>',
      'Message-Id: <B27397-0100000@cac.washington.edu>',
      'MIME-Version: 1.0',
      'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
      '',
      bodyOf(3028, 92),
    ].join('\r\n'),
  );
  const s = parseMessage(raw);
  assert.equal(
    wire(renderEnvelope(s.envelope)),
    '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ' +
      '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
      '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
      '((NIL NIL "minutes" "CNRI.Reston.VA.US") ("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
      '"<B27397-0100000@cac.washington.edu>")',
  );
  assert.equal(wire(renderBodyStructure(s.root, false)), '("TEXT" "PLAIN" ("charset" "US-ASCII") NIL NIL "7BIT" 3028 92)');
  assert.equal(wire(renderBodyStructure(s.root, true)), '("TEXT" "PLAIN" ("charset" "US-ASCII") NIL NIL "7BIT" 3028 92 NIL NIL NIL NIL)');
});

test('rfc-7.4.2 multipart BODYSTRUCTURE example', () => {
  const raw = Buffer.from(
    [
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      '',
      bodyOf(1152, 23),
      '--b1',
      'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff',
      'Content-ID: <960723163407.20117h@cac.washington.edu>',
      'Content-Description: Compiler diff',
      'Content-Transfer-Encoding: BASE64',
      '',
      bodyOf(4554, 73),
      '--b1--',
      '',
    ].join('\r\n'),
  );
  const s = parseMessage(raw);
  assert.equal(
    wire(renderBodyStructure(s.root, false)),
    // RFC 3501 §9 body-type-mpart = 1*body SP media-subtype: parts are adjacent, as in §7.4.2's example.
      '(("TEXT" "PLAIN" ("charset" "us-ascii") NIL NIL "7BIT" 1152 23)' +
      '("TEXT" "PLAIN" ("charset" "US-ASCII" "name" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")',
  );
  assert.match(wire(renderBodyStructure(s.root, true)), /"MIXED" \("boundary" "b1"\) NIL NIL NIL\)$/);
});

test('BODYSTRUCTURE of mixed / alternative / message/rfc822 with extension data', () => {
  const raw = Buffer.from(
    [
      'Content-Type: multipart/mixed; boundary=o',
      'Content-Language: en',
      '',
      '--o',
      'Content-Type: multipart/alternative; boundary=i',
      '',
      '--i',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'hi',
      '--i',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<b>hi</b>',
      '--i--',
      '--o',
      'Content-Type: message/rfc822',
      'Content-Disposition: attachment; filename="fwd.eml"',
      'Content-MD5: abc=',
      'Content-Language: en, fr',
      'Content-Location: fwd.eml',
      '',
      'From: x@y.test',
      'Subject: inner',
      '',
      'inner',
      '--o--',
    ].join('\r\n'),
  );
  const s = parseMessage(raw);
  const body = wire(renderBodyStructure(s.root, false));
  assert.equal(
    body,
    '((("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "QUOTED-PRINTABLE" 2 1)("TEXT" "HTML" ("charset" "utf-8") NIL NIL "7BIT" 9 1) "ALTERNATIVE")' +
      '("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 39 (NIL "inner" ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) NIL NIL NIL NIL NIL) ' +
      '("TEXT" "PLAIN" ("charset" "us-ascii") NIL NIL "7BIT" 5 1) 4) "MIXED")',
  );
  const ext = wire(renderBodyStructure(s.root, true));
  assert.ok(ext.includes('"7BIT" 5 1 NIL NIL NIL NIL) 4 "abc=" ("attachment" ("filename" "fwd.eml")) ("en" "fr") "fwd.eml")'), ext);
  assert.ok(ext.endsWith('"MIXED" ("boundary" "o") NIL "en" NIL)'), ext);
  assert.ok(ext.includes('"ALTERNATIVE" ("boundary" "i") NIL NIL NIL)'), ext);
});

test('encoded message/rfc822 still renders the body-type-msg form', () => {
  const s = parseMessage(Buffer.from('Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n'));
  assert.equal(
    wire(renderBodyStructure(s.root, false)),
    // The stand-in body is the RFC 2045 §5.2 default type: text/plain; charset=us-ascii.
    '("MESSAGE" "RFC822" NIL NIL NIL "BASE64" 6 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("charset" "us-ascii") NIL NIL "7BIT" 0 0) 1)',
  );
});

test('ENVELOPE with a group and non-ASCII raw header goes out as literal', () => {
  const s = parseMessage(Buffer.from('To: undisclosed-recipients:;\r\nSubject: Grüße\r\n\r\n', 'utf8'));
  const w = wire(renderEnvelope(s.envelope));
  assert.ok(w.includes('((NIL NIL "undisclosed-recipients" NIL) (NIL NIL NIL NIL))'), w);
  assert.ok(w.includes('{7}\r\nGrüße'), w);
});
