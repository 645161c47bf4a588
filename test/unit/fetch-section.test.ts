import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../src/mime/index.js';
import { filterHeaderFields, formatSection, parseSection, sectionBytes, type FetchSection } from '../../src/imap/fetch/section.js';
import { tokens } from './fetch-harness.js';
import type { Token } from '../../src/imap/wire/types.js';

/** The section tokens of `BODY[<spec>]`, as the tokenizer produces them. */
function sectionTokens(spec: string): Token[] {
  const t = tokens(`BODY[${spec}]`)[0]!;
  assert.ok(t.type === 'atom' && t.section);
  return t.section;
}

const sec = (spec: string): FetchSection => parseSection(sectionTokens(spec));

test('parseSection table (RFC 3501 §6.4.5)', () => {
  assert.deepEqual(sec(''), { path: [], text: 'all' });
  assert.deepEqual(sec('HEADER'), { path: [], text: 'header' });
  assert.deepEqual(sec('text'), { path: [], text: 'text' });
  assert.deepEqual(sec('1.2'), { path: [1, 2], text: 'all' });
  assert.deepEqual(sec('4.2.2.MIME'), { path: [4, 2, 2], text: 'mime' });
  assert.deepEqual(sec('2.HEADER'), { path: [2], text: 'header' });
  assert.deepEqual(sec('HEADER.FIELDS (From "To" x-b)'), { path: [], text: 'headerFields', fields: ['From', 'To', 'x-b'] });
  assert.deepEqual(sec('1.HEADER.FIELDS.NOT (Subject)'), { path: [1], text: 'headerFieldsNot', fields: ['Subject'] });
  for (const bad of ['MIME', '0', '1.0', '1.', 'BOGUS', 'HEADER.FIELDS', 'HEADER.FIELDS ()', 'HEADER (X)', 'TEXT TEXT', '1..2', '"1"']) {
    assert.throws(() => sec(bad), { name: 'ParseError' }, bad);
  }
});

test('formatSection names the section as the response does', () => {
  assert.equal(formatSection(sec('1.2.header.fields (From to)')), '1.2.HEADER.FIELDS (From to)');
  assert.equal(formatSection(sec('')), '');
  assert.equal(formatSection(sec('3.mime')), '3.MIME');
});

const crlf = (...l: string[]): Buffer => Buffer.from(l.join('\r\n'));

const message = crlf(
  'From: a@b.test',
  'Subject: outer',
  'To: c@d.test,',
  ' e@f.test',
  'Content-Type: multipart/mixed; boundary=o',
  '',
  'preamble',
  '--o',
  'Content-Type: multipart/alternative; boundary=i',
  '',
  '--i',
  'Content-Type: text/plain',
  '',
  'plain',
  '--i',
  'Content-Type: text/html',
  '',
  '<p>html</p>',
  '--i--',
  '--o',
  'Content-Type: message/rfc822',
  '',
  'Subject: inner',
  'From: x@y.test',
  'Content-Type: multipart/mixed; boundary=n',
  '',
  '--n',
  '',
  'inner one',
  '--n',
  'Content-Type: text/plain',
  '',
  'inner two',
  '--n--',
  '--o--',
  '',
);
const structure = parseMessage(message);
const bytes = (spec: string, partial?: { offset: number; length?: number }): string =>
  sectionBytes(message, structure, sec(spec), partial).toString('latin1');

test('sections of a nested message', () => {
  assert.equal(bytes(''), message.toString('latin1'));
  assert.equal(bytes('HEADER'), 'From: a@b.test\r\nSubject: outer\r\nTo: c@d.test,\r\n e@f.test\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n');
  assert.ok(bytes('TEXT').startsWith('preamble\r\n--o\r\n'));
  assert.equal(bytes('HEADER.FIELDS (to SUBJECT)'), 'Subject: outer\r\nTo: c@d.test,\r\n e@f.test\r\n\r\n');
  assert.equal(bytes('HEADER.FIELDS.NOT (To Subject Content-Type)'), 'From: a@b.test\r\n\r\n');
  assert.equal(bytes('HEADER.FIELDS (X-Missing)'), '\r\n');
  assert.equal(bytes('1.1'), 'plain');
  assert.equal(bytes('1.2'), '<p>html</p>');
  assert.equal(bytes('1.2.MIME'), 'Content-Type: text/html\r\n\r\n');
  assert.equal(bytes('2.MIME'), 'Content-Type: message/rfc822\r\n\r\n');
  assert.ok(bytes('2').startsWith('Subject: inner\r\n'));
  assert.ok(bytes('2').endsWith('--n--'));
  assert.equal(bytes('2.HEADER'), 'Subject: inner\r\nFrom: x@y.test\r\nContent-Type: multipart/mixed; boundary=n\r\n\r\n');
  assert.equal(bytes('2.HEADER.FIELDS (from)'), 'From: x@y.test\r\n\r\n');
  assert.ok(bytes('2.TEXT').startsWith('--n\r\n'));
  assert.equal(bytes('2.1'), 'inner one');
  assert.equal(bytes('2.2'), 'inner two');
  assert.equal(bytes('2.2.MIME'), 'Content-Type: text/plain\r\n\r\n');
});

test('parts that do not exist, and HEADER/TEXT on a part that is not a message, are empty', () => {
  for (const spec of ['3', '1.3', '1.1.1', '2.3', '9.MIME', '1.HEADER', '1.1.TEXT']) assert.equal(bytes(spec), '', spec);
});

test('part 1 of a non-multipart message is its body', () => {
  const raw = crlf('Subject: single', '', 'just text');
  const s = parseMessage(raw);
  assert.equal(sectionBytes(raw, s, sec('1')).toString(), 'just text');
  assert.equal(sectionBytes(raw, s, sec('2')).toString(), '');
});

test('partials: origin and length are clamped to the section', () => {
  assert.equal(bytes('1.2', { offset: 3 }), 'html</p>');
  assert.equal(bytes('1.2', { offset: 3, length: 4 }), 'html');
  assert.equal(bytes('1.2', { offset: 8, length: 100 }), '/p>');
  assert.equal(bytes('1.2', { offset: 500, length: 10 }), '');
  assert.equal(bytes('HEADER.FIELDS (From)', { offset: 0, length: 4 }), 'From');
});

test('LF-only messages: sections come out as stored; HEADER.FIELDS ends with CRLF', () => {
  const raw = Buffer.from('From: a@b\nSubject: s\n\nbody\n');
  const s = parseMessage(raw);
  assert.equal(sectionBytes(raw, s, sec('HEADER')).toString(), 'From: a@b\nSubject: s\n\n');
  assert.equal(sectionBytes(raw, s, sec('HEADER.FIELDS (Subject)')).toString(), 'Subject: s\n\r\n');
  assert.equal(sectionBytes(raw, s, sec('TEXT')).toString(), 'body\n');
});

test('sectionBytes never throws and stays within the message (fast-check)', async () => {
  const fc = (await import('fast-check')).default;
  const texts = ['all', 'header', 'text', 'mime', 'headerFields', 'headerFieldsNot'] as const;
  const pieces = fc.constantFrom('--o\r\n', '--o--\r\n', '--i\n', '\r\n', 'Content-Type: message/rfc822\r\n', 'Content-Type: multipart/mixed; boundary=i\r\n', 'Subject: s\r\n', 'x');
  fc.assert(
    fc.property(
      fc.array(pieces, { maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }),
      fc.constantFrom(...texts),
      fc.option(fc.record({ offset: fc.nat(50), length: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }) }), { nil: undefined }),
      (ps, path, text, partial) => {
        const raw = Buffer.from('Content-Type: multipart/mixed; boundary=o\r\n\r\n' + ps.join(''));
        const s = parseMessage(raw);
        const section: FetchSection = text.startsWith('headerFields') ? { path, text, fields: ['Subject'] } : { path, text };
        const out = sectionBytes(raw, s, section, partial);
        if (text !== 'headerFields' && text !== 'headerFieldsNot') assert.ok(out.length <= raw.length);
        if (partial?.length !== undefined) assert.ok(out.length <= partial.length);
      },
    ),
    { numRuns: 500 },
  );
});

test('filterHeaderFields keeps the fields as written, ends an unterminated last field with CRLF, and adds the blank line', () => {
  const header = Buffer.from('Subject: hi\r\nX-Folded: a\r\n b\r\nTo: c@example.org\r\nFrom: d@example.org');
  const text = (names: string[], not = false): string => filterHeaderFields(header, names, not).toString('latin1');
  assert.equal(text(['subject', 'FROM']), 'Subject: hi\r\nFrom: d@example.org\r\n\r\n');
  assert.equal(text(['x-folded']), 'X-Folded: a\r\n b\r\n\r\n');
  assert.equal(text(['Subject', 'X-Folded'], true), 'To: c@example.org\r\nFrom: d@example.org\r\n\r\n');
  assert.equal(text(['Nothing']), '\r\n');
  // The same Buffer again (its scan kept): the same answer.
  assert.equal(text(['subject', 'FROM']), 'Subject: hi\r\nFrom: d@example.org\r\n\r\n');
});
