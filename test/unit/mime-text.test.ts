import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, bodyText, decodeHeaderText, decodedHeaderValues } from '../../src/mime/index.js';
import { servedClock } from '../helpers/served-time.js';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

function text(raw: Buffer): string {
  return bodyText(raw, parseMessage(raw));
}

test('bodyText decodes base64 UTF-8', () => {
  const b64 = Buffer.from('Grüße aus Köln', 'utf8').toString('base64');
  assert.equal(text(crlf('Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: base64', '', b64.slice(0, 8), b64.slice(8))), 'Grüße aus Köln');
});

test('bodyText decodes quoted-printable ISO-8859-1 with soft line breaks', () => {
  const raw = crlf('Content-Type: text/plain; charset="ISO-8859-1"', 'Content-Transfer-Encoding: quoted-printable', '', 'Caf=E9 cr=E8me =', 'br=FBl=E9e=3D');
  assert.equal(text(raw), 'Café crème brûlée=');
});

test('bodyText: 8bit ISO-8859-1 bytes and mislabelled us-ascii', () => {
  const latin = Buffer.concat([Buffer.from('Content-Type: text/plain; charset=iso-8859-1\r\n\r\n'), Buffer.from([0x66, 0xfc, 0x72])]);
  assert.equal(text(latin), 'für');
  const utf8AsAscii = Buffer.concat([Buffer.from('Subject: x\r\n\r\n'), Buffer.from('naïve', 'utf8')]);
  assert.equal(text(utf8AsAscii), 'naïve');
  const latinAsAscii = Buffer.concat([Buffer.from('Subject: x\r\n\r\n'), Buffer.from([0x6e, 0x61, 0xef, 0x76, 0x65])]);
  assert.equal(text(latinAsAscii), 'naïve');
});

test('bodyText: text parts of all levels and enclosed messages; attachments and HTML tags skipped', () => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=o',
    '',
    '--o',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><style>p{color:red}</style><p title="tagtext">Fish &amp; chips &#233;t&#xE9;</p></html>',
    '--o',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('secret binary').toString('base64'),
    '--o',
    'Content-Type: message/rfc822',
    '',
    'Subject: inner',
    'Content-Type: text/plain; charset=koi8-r',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]).toString('base64'),
    '--o--',
  );
  const t = text(raw);
  assert.match(t, /Fish & chips été/);
  assert.doesNotMatch(t, /tagtext|color|secret/);
  assert.match(t, /Привет/);
});

test('decodeHeaderText: RFC 2047 Q and B words, adjacent words joined, plain text untouched', () => {
  assert.equal(decodeHeaderText('=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>'), 'André Pirard <PIRARD@vm1.ulg.ac.be>');
  assert.equal(decodeHeaderText('=?UTF-8?B?w6R4?= =?UTF-8?B?w7Z5?='), 'äxöy');
  assert.equal(decodeHeaderText('(=?ISO-8859-1?Q?a?= b)'), '(a b)');
  assert.equal(decodeHeaderText('just text'), 'just text');
  assert.equal(decodeHeaderText('=?bogus?X?zzz?='), '=?bogus?X?zzz?=');
});

test('decodedHeaderValues: every occurrence, case-insensitive, top-level header only', () => {
  const raw = crlf(
    'Received: one',
    'subject: =?utf-8?q?caf=C3=A9?=',
    'RECEIVED: two',
    '  folded',
    'Content-Type: message/rfc822',
    '',
    'Received: inner',
    '',
    'x',
  );
  const s = parseMessage(raw);
  assert.deepEqual(decodedHeaderValues(raw, s, 'received'), ['one', 'two  folded']);
  assert.deepEqual(decodedHeaderValues(raw, s, 'Subject'), ['café']);
  assert.deepEqual(decodedHeaderValues(raw, s, 'x-missing'), []);
});

test('raw UTF-8 header (RFC 6532) survives, invalid 8-bit falls back to latin1', () => {
  const utf = Buffer.concat([Buffer.from('Subject: '), Buffer.from('Füße', 'utf8'), Buffer.from('\r\n\r\n')]);
  assert.equal(parseMessage(utf).envelope.subject, 'Füße');
  const latin = Buffer.concat([Buffer.from('Subject: '), Buffer.from([0x46, 0xfc]), Buffer.from('\r\n\r\n')]);
  assert.equal(parseMessage(latin).envelope.subject, 'Fü');
});

test('hostile HTML and headers cost linear time', () => {
  // Served time: less what the machine's other load kept this process off the CPU (served-time.ts).
  const clock = servedClock();
  for (const body of ['<'.repeat(200_000), '<script'.repeat(50_000), '<!--'.repeat(50_000), '<a>'.repeat(100_000)]) {
    const raw = Buffer.from(`Content-Type: text/html\r\n\r\n${body}`);
    assert.equal(typeof text(raw), 'string');
  }
  for (const h of ['To: ' + '('.repeat(100_000), 'To: ' + '<'.repeat(100_000), 'To: ' + 'a:'.repeat(50_000), 'Subject: ' + '=?a?B?x?= '.repeat(20_000)]) {
    const raw = Buffer.from(`${h}\r\n\r\n`);
    const s = parseMessage(raw);
    assert.ok(decodedHeaderValues(raw, s, 'subject').length <= 1);
  }
  // Quadratic behaviour would take minutes here; linear takes well under a second.
  assert.ok(clock.served() < 5000, `took ${clock.served().toFixed(0)} ms served (${clock.wall().toFixed(0)} ms as seen)`);
});
