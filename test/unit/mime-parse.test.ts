import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, parseHeaderFields } from '../../src/mime/index.js';
import type { MimePart } from '../../src/mime/index.js';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));
const lf = (...lines: string[]): Buffer => Buffer.from(lines.join('\n'));
const body = (raw: Buffer, p: MimePart): string => raw.toString('utf8', p.bodyStart, p.bodyEnd);
const head = (raw: Buffer, p: MimePart): string => raw.toString('utf8', p.headerStart, p.bodyStart);

function mixedWithAlternativeAndMessage(join: (...l: string[]) => Buffer): Buffer {
  return join(
    'From: a@b.test',
    'Subject: outer',
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    'This is the preamble.',
    '--outer',
    'Content-Type: multipart/alternative; boundary=inner',
    '',
    '--inner',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'plain line 1',
    'plain line 2',
    '--inner',
    'Content-Type: text/html',
    '',
    '<p>html</p>',
    '--inner--',
    '--outer',
    'Content-Type: message/rfc822',
    '',
    'From: inner@x.test',
    'Subject: enclosed',
    'Content-Type: text/plain',
    '',
    'enclosed body',
    '--outer--',
    'epilogue is ignored',
  );
}

for (const [label, join] of [['CRLF', crlf], ['LF-only', lf]] as const) {
  test(`multipart/alternative inside multipart/mixed with an attached message/rfc822 (${label})`, () => {
    const raw = mixedWithAlternativeAndMessage(join);
    const s = parseMessage(raw);
    assert.equal(s.size, raw.length);
    const root = s.root;
    assert.equal(root.contentType.type, 'multipart');
    assert.equal(root.parts?.length, 2);
    const [alt, att] = root.parts!;
    assert.equal(alt!.contentType.subtype, 'alternative');
    assert.equal(alt!.parts?.length, 2);
    const nl = label === 'CRLF' ? '\r\n' : '\n';
    assert.equal(body(raw, alt!.parts![0]!), `plain line 1${nl}plain line 2`);
    assert.equal(alt!.parts![0]!.bodyLines, 2);
    assert.equal(body(raw, alt!.parts![1]!), '<p>html</p>');
    assert.equal(head(raw, alt!.parts![1]!), `Content-Type: text/html${nl}${nl}`);
    assert.deepEqual(alt!.parts![1]!.contentType.params, []);
    // The inner multipart body runs up to the line break before the outer delimiter.
    assert.ok(body(raw, alt!).endsWith('--inner--'));
    assert.equal(att!.contentType.subtype, 'rfc822');
    assert.ok(att!.message);
    assert.equal(att!.message!.envelope.subject, 'enclosed');
    assert.equal(att!.message!.root.headerStart, att!.bodyStart);
    assert.equal(body(raw, att!.message!.root), 'enclosed body');
    assert.equal(att!.bodyLines, 5);
    assert.equal(s.envelope.subject, 'outer');
  });
}

test('content-type defaults: text/plain us-ascii, 7BIT; message/rfc822 inside multipart/digest', () => {
  const raw = crlf(
    'Content-Type: multipart/digest; boundary=d',
    '',
    '--d',
    '',
    'From: one@x.test',
    '',
    'first',
    '--d',
    'Content-Type: text/plain',
    '',
    'explicit',
    '--d--',
  );
  const s = parseMessage(raw);
  const [m, t] = s.root.parts!;
  assert.deepEqual(m!.contentType, { type: 'message', subtype: 'rfc822', params: [] });
  assert.equal(m!.message?.envelope.from?.[0]?.mailbox, 'one');
  assert.equal(t!.contentType.type, 'text');
  assert.equal(t!.encoding, '7BIT');
  const plain = parseMessage(crlf('Subject: x', '', 'hi'));
  assert.deepEqual(plain.root.contentType, { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']] });
  const invalid = parseMessage(crlf('Content-Type: garbage', '', 'hi'));
  assert.deepEqual(invalid.root.contentType.type, 'text');
});

test('missing close delimiter: the last part runs to the end', () => {
  const raw = crlf('Content-Type: multipart/mixed; boundary=b', '', '--b', '', 'one', '--b', '', 'two', 'more');
  const parts = parseMessage(raw).root.parts!;
  assert.equal(parts.length, 2);
  assert.equal(body(raw, parts[1]!), 'two\r\nmore');
});

test('a delimiter must be the whole line: a longer boundary is not a match', () => {
  const raw = crlf('Content-Type: multipart/mixed; boundary=ab', '', '--ab', '', 'x', '--abc', 'y', '--ab  ', '', 'z', '--ab--');
  const parts = parseMessage(raw).root.parts!;
  assert.equal(parts.length, 2);
  assert.equal(body(raw, parts[0]!), 'x\r\n--abc\r\ny');
  assert.equal(body(raw, parts[1]!), 'z');
});

test('multipart without boundary or parts still has one (empty) part', () => {
  const s = parseMessage(crlf('Content-Type: multipart/mixed', '', 'no parts here'));
  assert.equal(s.root.parts?.length, 1);
  const s2 = parseMessage(crlf('Content-Type: multipart/mixed; boundary=q', '', 'no parts here'));
  assert.equal(s2.root.parts?.length, 1);
});

test('RFC 2231 continuations and charset/language tagged values', () => {
  const raw = crlf(
    "Content-Type: application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20;",
    ' title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2="isn\'t it!"; Name=plain',
    "Content-Disposition: attachment; filename*=iso-8859-1'de'Gr%FC%DFe.txt; filename=fallback.txt",
    'Content-Language: en, de (German)',
    'Content-ID: <id1@x>',
    'Content-Description: =?utf-8?Q?desc?=',
    'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
    'Content-Location: http://example.test/x',
    'Content-Transfer-Encoding: Base64 (comment)',
    '',
    'AAAA',
  );
  const r = parseMessage(raw).root;
  assert.deepEqual(r.contentType.params, [
    ['title', "This is even more ***fun*** isn't it!"],
    ['name', 'plain'],
  ]);
  assert.deepEqual(r.disposition, { value: 'attachment', params: [['filename', 'Grüße.txt']] });
  assert.deepEqual(r.language, ['en', 'de']);
  assert.equal(r.id, '<id1@x>');
  assert.equal(r.description, '=?utf-8?Q?desc?=');
  assert.equal(r.md5, 'Q2hlY2sgSW50ZWdyaXR5IQ==');
  assert.equal(r.location, 'http://example.test/x');
  assert.equal(r.encoding, 'Base64');
});

test('header without blank line: the body is empty and starts at the end', () => {
  const raw = Buffer.from('Subject: x\r\nFrom: a@b');
  const s = parseMessage(raw);
  assert.equal(s.root.bodyStart, raw.length);
  assert.equal(s.root.bodyLines, 0);
  assert.equal(s.envelope.subject, 'x');
});

test('encoded message/rfc822 is not looked into', () => {
  const raw = crlf('Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', '', 'U3ViamVjdDogeA0KDQp4');
  assert.equal(parseMessage(raw).root.message, undefined);
});

test('parseHeaderFields: names as written, values unfolded, stops at the blank line', () => {
  const raw = crlf('Subject: a', ' b', 'X-Odd :  v ', 'not a header line', 'To: c', '', 'Body: no');
  assert.deepEqual(parseHeaderFields(raw, 0, raw.length), [
    { name: 'Subject', value: 'a b' },
    { name: 'X-Odd', value: 'v' },
    { name: 'To', value: 'c' },
  ]);
});

test('deep nesting is bounded and does not overflow the stack', () => {
  const depth = 2000;
  const lines: string[] = [];
  for (let i = 0; i < depth; i++) lines.push(`Content-Type: multipart/mixed; boundary=b${i}`, '', `--b${i}`);
  lines.push('', 'leaf');
  const s = parseMessage(crlf(...lines));
  let d = 0;
  let p: MimePart | undefined = s.root;
  while (p?.parts) {
    d++;
    p = p.parts[0];
  }
  assert.ok(d > 10 && d < 100, `depth ${d}`);
});
