import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInternalDate, parseDateTime, parseSearchDate } from '../../src/imap/wire/datetime.js';
import { ParseError } from '../../src/imap/wire/args.js';

test('formatInternalDate: UTC, date-day-fixed', () => {
  assert.equal(formatInternalDate(new Date('1996-07-17T02:44:25Z')), '17-Jul-1996 02:44:25 +0000');
  assert.equal(formatInternalDate(new Date('2024-02-05T23:04:05.900Z')), ' 5-Feb-2024 23:04:05 +0000');
});

test('parseDateTime', () => {
  const table: Array<[string, string]> = [
    ['17-Jul-1996 02:44:25 -0700', '1996-07-17T09:44:25.000Z'], // RFC 3501 §7.4.2 example
    ['05-Feb-2024 23:04:05 +0100', '2024-02-05T22:04:05.000Z'],
    [' 5-feb-2024 23:04:05 +0000', '2024-02-05T23:04:05.000Z'],
    ['5-FEB-2024 00:00:00 +0530', '2024-02-04T18:30:00.000Z'],
    ['29-Feb-2024 12:00:00 +0000', '2024-02-29T12:00:00.000Z'],
  ];
  for (const [s, iso] of table) assert.equal(parseDateTime(s).toISOString(), iso, s);
  const d = new Date('2001-09-09T01:46:40Z');
  assert.equal(parseDateTime(formatInternalDate(d)).getTime(), d.getTime());
});

test('parseDateTime rejects malformed input', () => {
  for (const s of ['', '17-Jul-1996', '17-Jul-1996 02:44:25', '17-Jux-1996 02:44:25 +0000', '32-Jul-1996 02:44:25 +0000',
    '29-Feb-2023 02:44:25 +0000', '17-Jul-1996 24:00:00 +0000', '17-Jul-1996 02:60:00 +0000', '17-Jul-96 02:44:25 +0000',
    '17-Jul-1996 02:44:25 0000', '17-Jul-1996 02:44:25 +0060', '"17-Jul-1996 02:44:25 +0000"', '117-Jul-1996 02:44:25 +0000']) {
    assert.throws(() => parseDateTime(s), ParseError, s);
  }
});

test('parseSearchDate', () => {
  assert.equal(parseSearchDate('1-Feb-1994'), '1994-02-01');
  assert.equal(parseSearchDate('01-feb-1994'), '1994-02-01');
  assert.equal(parseSearchDate('31-DEC-2023'), '2023-12-31');
  assert.equal(parseSearchDate('"1-Feb-1994"'), '1994-02-01');
  for (const s of ['', '1-Feb-94', '0-Feb-1994', '30-Feb-1994', '1-Fev-1994', '1 Feb 1994', '"1-Feb-1994', '1994-02-01']) {
    assert.throws(() => parseSearchDate(s), ParseError, s);
  }
});
