/**
 * The keys SORT and THREAD compare (src/mime/sort-keys.ts and its parts), as tables: the
 * i;unicode-casemap collation (RFC 5051), the base subject (RFC 5256 §2.1), the sent date
 * (RFC 5256 §2.2), Message-ID normalisation (RFC 5256 §4) and the keys of whole messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { casemapKey, compareCasemap } from '../../src/mime/collation.js';
import { baseSubject } from '../../src/mime/base-subject.js';
import { parseSentDate } from '../../src/mime/date.js';
import { firstMessageId, parseMessageIds } from '../../src/mime/message-id.js';
import { MAX_THREAD_REFERENCES } from '../../src/mime/sort-keys.js';
import { decodeHeaderText, messageSortKeys, parseMessage } from '../../src/mime/index.js';

const cp = (s: string): string => [...s].map((c) => c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')).join(' ');

test('RFC 5051 i;unicode-casemap: titlecase (simple mapping), then NFKD', () => {
  const table: Array<[string, string]> = [
    ['abc', 'ABC'],
    // RFC 5051 §2's example: U+01C4 → titlecase U+01C5 → D + ž → D z ◌̌.
    ['\u01c4', '0044 007A 030C'],
    ['\u01c6', '0044 007A 030C'],
    ['\u01c5', '0044 007A 030C'],
    ['é', '0045 0301'],
    ['É', '0045 0301'],
    // Full (SpecialCasing) mappings are not titlecase: ß and the ligature ﬀ have none of their own.
    ['ß', '00DF'],
    ['\ufb00', '0066 0066'], // NFKD still splits the ligature into "ff"
    // Greek with ypogegrammeni: titlecase is the prosgegrammeni form (one letter), then decomposed.
    ['\u1f80', cp('\u1f88'.normalize('NFKD'))],
    ['ა', '10D0'], // Georgian Mkhedruli is its own titlecase
    ['ı', '0049'],
    ['①', '0031'], // compatibility decomposition
  ];
  for (const [input, expected] of table) {
    const want = expected.includes(' ') || /^[0-9A-F]{4}$/.test(expected) ? expected : cp(expected);
    assert.equal(cp(casemapKey(input)), want, input);
  }
  assert.equal(casemapKey('Straße'), casemapKey('STRAßE'));
  assert.notEqual(casemapKey('Strasse'), casemapKey('Straße'));
});

test('RFC 5051: prepared strings compare as UTF-8 octets, i.e. by code point', () => {
  assert.ok(compareCasemap('', 'A') < 0, 'the empty string collates first');
  assert.ok(compareCasemap('A', 'B') < 0);
  assert.ok(compareCasemap('AB', 'A') > 0);
  // U+FFFD before U+1F600 (UTF-16 order would put the surrogates first).
  assert.ok(compareCasemap('\ufffd', '\u{1f600}') < 0);
  assert.ok(compareCasemap('\ue000', '\ud7ff') > 0);
  assert.equal(compareCasemap(casemapKey('résumé'), casemapKey('RÉSUMÉ')), 0);
});

test('RFC 5256 §2.1 base subject: every step, in order, case-insensitive', () => {
  const table: Array<[string, string, boolean]> = [
    ['Hello', 'Hello', false],
    ['Re: Hello', 'Hello', true],
    ['RE:Hello', 'Hello', true],
    ['re : Hello', 'Hello', true], // *WSP before the colon
    ['Fw: Hello', 'Hello', true],
    ['FWD: Hello', 'Hello', true],
    ['Re: Re: Fwd: Hello', 'Hello', true],
    ['Re[2]: Hello', 'Hello', true], // subj-refwd's own blob
    ['Re: [list] Hello', 'Hello', true], // (4) blob after the leader
    ['[list] Re: Hello', 'Hello', true], // (3) blobs before a refwd belong to the leader
    ['[list] Hello', 'Hello', false],
    ['[PATCH] [v2] Hello', 'Hello', false],
    ['[only a blob]', '[only a blob]', false], // (4): removing it would leave nothing
    ['Re: [only a blob]', '[only a blob]', true],
    ['Hello (fwd)', 'Hello', true], // (2) trailer
    ['Hello (FWD) (fwd)  ', 'Hello', true],
    ['[fwd: Hello]', 'Hello', true], // (6)
    ['[Fwd: Re: [list] Hello (fwd)]', 'Hello', true], // (6) then again from (2)
    ['Re: [fwd: [blob] test]', 'test', true],
    ['Hello\tthere   you', 'Hello there you', false], // (1) tabs and runs of spaces
    ['   ', '', false],
    ['', '', false],
    ['Rethink: plan', 'Rethink: plan', false], // "re" must be followed by ":" (after white space/blob)
    ['Fwdx: Hello', 'Fwdx: Hello', false],
    ['=?utf-8?q?Re:_caf=C3=A9?=', 'café', true], // (1) encoded-words first
    ['Re: =?utf-8?q?caf=C3=A9?= (fwd)', 'café', true],
  ];
  for (const [raw, subject, replyOrForward] of table) {
    assert.deepEqual(baseSubject(raw, decodeHeaderText), { subject, replyOrForward }, raw);
  }
});

test('RFC 5256 §2.2 sent date: UTC, invalid zone as UTC, invalid time as midnight, no date null', () => {
  const iso = (v: string): string | null => {
    const t = parseSentDate(v);
    return t === null ? null : new Date(t).toISOString();
  };
  const table: Array<[string, string | null]> = [
    ['31 Dec 2000 16:01:33 -0800', '2001-01-01T00:01:33.000Z'], // the RFC's own example
    ['Wed, 17 Jul 1996 02:23:25 -0700 (PDT)', '1996-07-17T09:23:25.000Z'],
    ['Thu, 3 Feb 1994 12:00 EST', '1994-02-03T17:00:00.000Z'],
    ['3 Feb 94 12:00:00 GMT', '1994-02-03T12:00:00.000Z'], // two-digit year (RFC 5322 §4.3)
    ['3 Feb 04 12:00:00 +0000', '2004-02-03T12:00:00.000Z'],
    ['3 Feb 1994 12:00:00 +9999', '1994-02-03T12:00:00.000Z'], // impossible zone: UTC
    ['3 Feb 1994 12:00:00 XYZ', '1994-02-03T12:00:00.000Z'],
    ['3 Feb 1994 25:00:00 +0000', '1994-02-03T00:00:00.000Z'], // impossible time: midnight
    ['3 Feb 1994', '1994-02-03T00:00:00.000Z'],
    ['30 Feb 1994 10:00:00 +0000', null], // no such day
    ['yesterday', null],
    ['', null],
    ['2024-01-02T03:04:05+01:00', '2024-01-02T02:04:05.000Z'], // not RFC 5322, seen in the wild
  ];
  for (const [value, want] of table) assert.equal(iso(value), want, value);
  assert.equal(parseSentDate(null), null);
});

test('Message-IDs: normalised (quotes, comments, white space go), case kept, invalid ones skipped', () => {
  // RFC 5256 §4: these two MUST be the same Message ID.
  assert.equal(firstMessageId('<"01KF8JCEOCBS0045PS"@xxx.yyy.com>'), firstMessageId('<01KF8JCEOCBS0045PS@xxx.yyy.com>'));
  assert.equal(firstMessageId('<01KF8JCEOCBS0045PS@xxx.yyy.com>'), '01KF8JCEOCBS0045PS@xxx.yyy.com');
  assert.equal(firstMessageId('<A@B>'), 'A@B');
  assert.notEqual(firstMessageId('<A@B>'), firstMessageId('<a@b>'));
  assert.equal(firstMessageId('< a (c) @ b >'), 'a@b');
  assert.equal(firstMessageId('<no-at-sign>'), null);
  assert.equal(firstMessageId('<@b>'), null);
  assert.equal(firstMessageId(''), null);
  // Obsolete In-Reply-To with a phrase, and a comment that looks like an ID.
  assert.deepEqual(parseMessageIds('Your message (of <fake@x>) "quoted <q@x>" <real@x> <also@y>'), ['real@x', 'also@y']);
});

test('message keys: first occurrence, first real address, References else In-Reply-To', () => {
  const raw = Buffer.from(
    [
      'From: "Ann" <ann@x.test>',
      'From: second@x.test',
      'To: Group:;, "Bo" <bo@x.test>',
      'Subject: Re: [list] Topic',
      'Date: 3 Feb 1994 12:00:00 +0100',
      'Message-ID: <self@x.test>',
      'In-Reply-To: <ignored@x.test>',
      'References: <root@x.test> <parent@x.test>',
      '',
      'body',
    ].join('\r\n'),
  );
  const k = messageSortKeys(raw, parseMessage(raw));
  assert.deepEqual(k, {
    sentDate: Date.UTC(1994, 1, 3, 11),
    subject: 'TOPIC',
    replyOrForward: true,
    from: 'ANN',
    to: 'BO',
    cc: '',
    displayFrom: 'ANN',
    displayTo: 'BO',
    messageId: 'self@x.test',
    references: ['root@x.test', 'parent@x.test'],
  });
  const reply = Buffer.from('In-Reply-To: Your message <p@x.test> <q@x.test>\r\n\r\n');
  assert.deepEqual(messageSortKeys(reply, parseMessage(reply)).references, ['p@x.test']);
});

test('a References header of 10,000 IDs keeps the first and the last ones, within the bound', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `<r${i}@x.test>`);
  const raw = Buffer.from(`Message-ID: <m@x.test>\r\nReferences: ${ids.join('\r\n ')}\r\n\r\nx`);
  const refs = messageSortKeys(raw, parseMessage(raw)).references;
  assert.equal(refs.length, MAX_THREAD_REFERENCES);
  assert.equal(refs[0], 'r0@x.test');
  assert.equal(refs.at(-1), 'r9999@x.test');
  assert.equal(refs[1], `r${10_000 - MAX_THREAD_REFERENCES + 1}@x.test`);
});
