import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchesQuery, sentDayOf, foldText, TextCache, utcDay, type SearchableMessage } from '../../src/store/search-eval.js';
import { parseMessage } from '../../src/mime/index.js';
import type { MessageStructure } from '../../src/mime/types.js';
import type { SearchQuery } from '../../src/store/search-query.js';

const RAW = Buffer.from(
  [
    'From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.fr>',
    'Subject: Caf\u00e9 menu',
    'Date: Sun, 31 Dec 2023 23:59:00 -1200',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Cafe\u0301 au lait', // decomposed é in the body
    '',
  ].join('\r\n'),
  'utf8',
);

function message(overrides: Partial<SearchableMessage['record']> = {}): SearchableMessage & { touched: { raw: number; structure: number } } {
  const touched = { raw: 0, structure: 0 };
  let structure: MessageStructure | undefined;
  return {
    touched,
    record: { uid: 10, flags: ['\\Seen', '$Work'], modseq: 5, internalDate: new Date('2024-01-01T23:30:00Z'), size: RAW.length, ...overrides },
    raw: () => {
      touched.raw++;
      return RAW;
    },
    structure: () => {
      touched.structure++;
      return (structure ??= parseMessage(RAW));
    },
  };
}

describe('matchesQuery: metadata keys never touch bytes or structure', () => {
  const cases: Array<[SearchQuery, boolean]> = [
    [{ type: 'all' }, true],
    [{ type: 'uid', ranges: [[1, 9]] }, false],
    [{ type: 'uid', ranges: [[12, 10]] }, true],
    [{ type: 'flag', flag: '\\SEEN', set: true }, true],
    [{ type: 'flag', flag: '$work', set: false }, false],
    [{ type: 'flag', flag: '\\Deleted', set: false }, true],
    [{ type: 'size', op: 'larger', octets: RAW.length }, false],
    [{ type: 'size', op: 'smaller', octets: RAW.length + 1 }, true],
    [{ type: 'modseq', min: 5 }, true],
    [{ type: 'modseq', min: 6 }, false],
    [{ type: 'internaldate', op: 'on', day: '2024-01-01' }, true],
    [{ type: 'internaldate', op: 'before', day: '2024-01-01' }, false],
    [{ type: 'internaldate', op: 'since', day: '2024-01-02' }, false],
    [{ type: 'not', of: { type: 'and', of: [{ type: 'all' }, { type: 'modseq', min: 99 }] } }, true],
  ];
  for (const [query, expected] of cases) {
    it(`${JSON.stringify(query)} → ${expected}`, () => {
      const m = message();
      assert.equal(matchesQuery(query, m), expected);
      assert.deepEqual(m.touched, { raw: 0, structure: 0 });
    });
  }
});

describe('matchesQuery: text keys', () => {
  it('decodes RFC 2047 in headers and matches case-insensitively', () => {
    assert.equal(matchesQuery({ type: 'header', name: 'FROM', value: 'ANDRÉ' }, message()), true);
    assert.equal(matchesQuery({ type: 'header', name: 'from', value: 'andrew' }, message()), false);
  });
  it('normalises both sides: precomposed needle finds decomposed text and vice versa', () => {
    assert.equal(matchesQuery({ type: 'body', value: 'caf\u00e9 au' }, message()), true);
    assert.equal(matchesQuery({ type: 'header', name: 'subject', value: 'cafe\u0301 MENU' }, message()), true);
  });
  it("'header' with an empty value tests for the field's presence", () => {
    assert.equal(matchesQuery({ type: 'header', name: 'subject', value: '' }, message()), true);
    assert.equal(matchesQuery({ type: 'header', name: 'cc', value: '' }, message()), false);
  });
  it("'text' covers header fields and body", () => {
    assert.equal(matchesQuery({ type: 'text', value: 'menu' }, message()), true);
    assert.equal(matchesQuery({ type: 'text', value: 'au lait' }, message()), true);
    assert.equal(matchesQuery({ type: 'text', value: 'espresso' }, message()), false);
  });
  it('sent date uses the Date: header day as written', () => {
    assert.equal(matchesQuery({ type: 'sentdate', op: 'on', day: '2023-12-31' }, message()), true);
    assert.equal(matchesQuery({ type: 'sentdate', op: 'since', day: '2024-01-01' }, message()), false);
  });
  it('decodes each view once per evaluation', () => {
    const m = message();
    const q: SearchQuery = { type: 'and', of: [{ type: 'body', value: 'lait' }, { type: 'text', value: 'zzz' }, { type: 'body', value: 'au' }] };
    assert.equal(matchesQuery(q, m), false);
    // body once, header text once; the second 'body' key and the body half of 'text' reuse it.
    assert.ok(m.touched.raw <= 2, `raw() called ${m.touched.raw} times`);
    assert.ok(m.touched.structure <= 2, `structure() called ${m.touched.structure} times`);
  });
  it('a TextCache reuses decoded text across evaluations', () => {
    const cache = new TextCache(10);
    const key = {};
    const first = message();
    assert.equal(matchesQuery({ type: 'body', value: 'lait' }, first, { cache: { texts: cache, key } }), true);
    const second = message();
    assert.equal(matchesQuery({ type: 'body', value: 'lait' }, second, { cache: { texts: cache, key } }), true);
    assert.equal(second.touched.raw, 0);
    assert.equal(second.touched.structure, 0);
  });
});

describe('TextCache bounds', () => {
  it('evicts least recently used entries beyond the entry limit', () => {
    const cache = new TextCache(2);
    const [a, b, c] = [{}, {}, {}];
    cache.entry(a).body = 'a';
    cache.entry(b).body = 'b';
    cache.entry(a); // a is now most recent
    cache.entry(c);
    assert.equal(cache.size, 2);
    assert.equal(cache.entry(a).body, 'a');
    assert.equal(cache.entry(b).body, undefined, 'b was evicted');
  });
  it('evicts beyond the character limit once an entry is re-measured', () => {
    const cache = new TextCache(100, 10);
    const [a, b] = [{}, {}];
    cache.entry(a).body = 'x'.repeat(8);
    cache.touch(a);
    cache.entry(b).body = 'y'.repeat(8);
    cache.touch(b);
    assert.equal(cache.entry(a).body, undefined);
  });
});

describe('date helpers', () => {
  const days: Array<[string | null, string | null]> = [
    ['Mon, 7 Feb 1994 21:52:25 -0800', '1994-02-07'],
    ['7 Feb 1994 21:52:25 -0800', '1994-02-07'],
    ['Tue, 01 Jul 2003 23:30:00 -0700 (PDT)', '2003-07-01'],
    ['Thu, 13 Feb 69 23:32 -0330', '1969-02-13'],
    ['Fri, 3 Mar 05 10:00:00 +0000', '2005-03-03'],
    ['Sat, 4 September 2021 10:00:00 +0000', '2021-09-04'],
    ['2022-10-11T12:00:00Z', '2022-10-11'],
    ['yesterday', null],
    ['31 Foo 2020', null],
    ['', null],
    [null, null],
  ];
  for (const [input, expected] of days) {
    it(`sentDayOf(${JSON.stringify(input)}) = ${expected}`, () => assert.equal(sentDayOf(input), expected));
  }
  it('utcDay uses UTC', () => assert.equal(utcDay(new Date('2024-03-01T00:30:00+02:00')), '2024-02-29'));
  it('foldText is the i;unicode-casemap form: titlecase, then NFKD (RFC 5051)', () => assert.equal(foldText('\u00e9cole'), 'E\u0301COLE'));
});
