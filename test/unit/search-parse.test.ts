/** SEARCH grammar (src/imap/search/parse.ts): command text → key tree, RFC 3501 §6.4.4 keys as tables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { ParseError } from '../../src/imap/wire/args.js';
import { DEFAULT_IMAP_LIMITS, type ImapLimits } from '../../src/imap/limits.js';
import { parseSearchArgs } from '../../src/imap/search/parse.js';
import type { SearchArgs, SearchKey } from '../../src/imap/search/keys.js';

function parse(args: string, options: { enabled?: string[]; limits?: Partial<ImapLimits>; literals?: string[] } = {}): SearchArgs {
  const literals = options.literals ?? [];
  const text = [`t SEARCH ${args}`, ...literals.map(() => '')];
  const limits = { ...DEFAULT_IMAP_LIMITS, ...options.limits };
  const cmd = parseCommand({ text, literals: literals.map((l) => [Buffer.from(l, 'utf8')]), size: 0 }, limits);
  return parseSearchArgs(cmd.args, { enabled: new Set(options.enabled ?? []), limits });
}

const key = (args: string): SearchKey => parse(args).key;

const flag = (f: string, set = true): SearchKey => ({ type: 'flag', flag: f, set });
const header = (name: string, value: string): SearchKey => ({ type: 'header', name, value });

const table: Array<[string, SearchKey]> = [
  ['ALL', { type: 'all' }],
  // RFC 8474 §6, RFC 8514 §4.3
  ['EMAILID M6d99ac3275bb4e', { type: 'emailid', id: 'M6d99ac3275bb4e' }],
  ['threadid T64b478a75b7ea9', { type: 'threadid', id: 'T64b478a75b7ea9' }],
  ['SAVEDBEFORE 1-Feb-2020', { type: 'savedate', op: 'before', day: '2020-02-01' }],
  ['SAVEDON 1-Feb-2020', { type: 'savedate', op: 'on', day: '2020-02-01' }],
  ['SAVEDSINCE 1-Feb-2020', { type: 'savedate', op: 'since', day: '2020-02-01' }],
  ['SAVEDATESUPPORTED', { type: 'savedatesupported' }],
  ['ANSWERED', flag('\\Answered')],
  ['DELETED', flag('\\Deleted')],
  ['DRAFT', flag('\\Draft')],
  ['FLAGGED', flag('\\Flagged')],
  ['SEEN', flag('\\Seen')],
  ['UNANSWERED', flag('\\Answered', false)],
  ['UNDELETED', flag('\\Deleted', false)],
  ['UNDRAFT', flag('\\Draft', false)],
  ['UNFLAGGED', flag('\\Flagged', false)],
  ['UNSEEN', flag('\\Seen', false)],
  ['seen', flag('\\Seen')],
  ['KEYWORD $Work', flag('$Work')],
  ['UNKEYWORD $Junk', flag('$Junk', false)],
  ['KEYWORD \\seen', flag('\\Seen')],
  ['BCC joe', header('Bcc', 'joe')],
  ['CC "Joe Bloggs"', header('Cc', 'Joe Bloggs')],
  ['FROM Smith', header('From', 'Smith')],
  ['TO ""', header('To', '')],
  ['SUBJECT hello', header('Subject', 'hello')],
  ['HEADER X-Mailer "Mutt"', header('X-Mailer', 'Mutt')],
  ['BODY "some text"', { type: 'body', value: 'some text' }],
  ['TEXT word', { type: 'text', value: 'word' }],
  ['BEFORE 1-Feb-1994', { type: 'internaldate', op: 'before', day: '1994-02-01' }],
  ['ON 01-feb-1994', { type: 'internaldate', op: 'on', day: '1994-02-01' }],
  ['SINCE "28-Oct-2006"', { type: 'internaldate', op: 'since', day: '2006-10-28' }],
  ['SENTBEFORE 1-Jan-2000', { type: 'sentdate', op: 'before', day: '2000-01-01' }],
  ['SENTON 29-Feb-2000', { type: 'sentdate', op: 'on', day: '2000-02-29' }],
  ['SENTSINCE 31-Dec-1999', { type: 'sentdate', op: 'since', day: '1999-12-31' }],
  ['LARGER 100', { type: 'size', op: 'larger', octets: 100 }],
  ['SMALLER 0', { type: 'size', op: 'smaller', octets: 0 }],
  ['RECENT', { type: 'recent', set: true }],
  ['OLD', { type: 'recent', set: false }],
  ['NEW', { type: 'and', of: [{ type: 'recent', set: true }, flag('\\Seen', false)] }],
  ['KEYWORD \\Recent', { type: 'recent', set: true }],
  ['1:3,5', { type: 'seqset', set: { saved: false, ranges: [{ start: 1, end: 3 }, { start: 5, end: 5 }] } }],
  ['*', { type: 'seqset', set: { saved: false, ranges: [{ start: '*', end: '*' }] } }],
  ['$', { type: 'seqset', set: { saved: true } }],
  ['UID 4:*', { type: 'uidset', set: { saved: false, ranges: [{ start: 4, end: '*' }] } }],
  ['UID $', { type: 'uidset', set: { saved: true } }],
  ['NOT SEEN', { type: 'not', of: flag('\\Seen') }],
  ['OR SEEN FLAGGED', { type: 'or', of: [flag('\\Seen'), flag('\\Flagged')] }],
  ['MODSEQ 620162338', { type: 'modseq', min: 620162338 }],
  ['MODSEQ "/flags/\\\\draft" all 620162338', { type: 'modseq', min: 620162338 }],
];

for (const [input, expected] of table) {
  test(`SEARCH ${input}`, () => {
    assert.deepEqual(key(input), expected);
  });
}

test('RFC 3501 §6.4.4 example: keys side by side are ANDed', () => {
  assert.deepEqual(key('FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"'), {
    type: 'and',
    of: [flag('\\Flagged'), { type: 'internaldate', op: 'since', day: '1994-02-01' }, { type: 'not', of: header('From', 'Smith') }],
  });
});

test('parentheses group keys; nested ANDs and ALLs are flattened away', () => {
  assert.deepEqual(key('(SEEN (FLAGGED ALL)) ALL DRAFT'), { type: 'and', of: [flag('\\Seen'), flag('\\Flagged'), flag('\\Draft')] });
  assert.deepEqual(key('(ALL)'), { type: 'all' });
  assert.deepEqual(key('OR (SEEN FLAGGED) NOT (DELETED)'), {
    type: 'or',
    of: [{ type: 'and', of: [flag('\\Seen'), flag('\\Flagged')] }, { type: 'not', of: flag('\\Deleted') }],
  });
});

test('OR and NOT nest: OR takes exactly the next two keys', () => {
  assert.deepEqual(key('OR OR SEEN FLAGGED NOT DRAFT ANSWERED'), {
    type: 'and',
    of: [
      { type: 'or', of: [{ type: 'or', of: [flag('\\Seen'), flag('\\Flagged')] }, { type: 'not', of: flag('\\Draft') }] },
      flag('\\Answered'),
    ],
  });
});

test('search strings may be literals, decoded as UTF-8', () => {
  const args = parse('CHARSET UTF-8 SUBJECT {9}', { literals: ['Entwürfe'] });
  assert.equal(args.charset, 'UTF-8');
  assert.deepEqual(args.key, header('Subject', 'Entwürfe'));
});

test('CHARSET is upper-cased and left for run() to judge (NO, not BAD, for unknown ones)', () => {
  assert.equal(parse('CHARSET koi8-r ALL').charset, 'KOI8-R');
  assert.equal(parse('ALL').charset, undefined);
});

test('RFC 6855 §3: after ENABLE UTF8=ACCEPT a CHARSET other than UTF-8 is BAD', () => {
  assert.throws(() => parse('CHARSET US-ASCII ALL', { enabled: ['UTF8=ACCEPT'] }), ParseError);
  assert.equal(parse('CHARSET UTF-8 ALL', { enabled: ['UTF8=ACCEPT'] }).charset, 'UTF-8');
});

test('RETURN options (RFC 4731, RFC 5182)', () => {
  assert.deepEqual(parse('RETURN (MIN COUNT) ALL').returnOptions, { min: true, max: false, all: false, count: true, save: false });
  assert.deepEqual(parse('RETURN () ALL').returnOptions, { min: false, max: false, all: true, count: false, save: false });
  assert.deepEqual(parse('RETURN (save) CHARSET UTF-8 ALL').returnOptions, { min: false, max: false, all: false, count: false, save: true });
  assert.equal(parse('ALL').returnOptions, undefined);
  assert.throws(() => parse('RETURN MIN ALL'), ParseError);
  assert.throws(() => parse('RETURN (BOGUS) ALL'), ParseError);
});

test('RETURN options of RFC 5267 (CONTEXT, UPDATE) and RFC 9394 (PARTIAL)', () => {
  const none = { min: false, max: false, all: false, count: false, save: false };
  assert.deepEqual(parse('RETURN (PARTIAL 1:10) ALL').returnOptions, { ...none, partial: { from: 1, to: 10, fromEnd: false, text: '1:10' } });
  // "500:400" is "400:500"; a range counted from the end keeps its sign.
  assert.deepEqual(parse('RETURN (PARTIAL 500:400 COUNT) ALL').returnOptions, { ...none, count: true, partial: { from: 400, to: 500, fromEnd: false, text: '500:400' } });
  assert.deepEqual(parse('RETURN (PARTIAL -1:-100) ALL').returnOptions?.partial, { from: 1, to: 100, fromEnd: true, text: '-1:-100' });
  assert.deepEqual(parse('RETURN (CONTEXT UPDATE COUNT) ALL').returnOptions, { ...none, count: true, context: true, update: true });
  for (const bad of [
    'RETURN (PARTIAL 1:5 ALL) ALL', // RFC 5267 §4.4 / RFC 9394 §3.1: one PARTIAL or one ALL
    'RETURN (ALL PARTIAL 1:5) ALL',
    'RETURN (PARTIAL 1:5 PARTIAL 6:9) ALL',
    'RETURN (ALL ALL) ALL',
    'RETURN (PARTIAL) ALL',
    'RETURN (PARTIAL 0:5) ALL',
    'RETURN (PARTIAL 1:*) ALL',
    'RETURN (PARTIAL -1:5) ALL',
    'RETURN (PARTIAL 5) ALL',
    'RETURN (PARTIAL "1:5") ALL',
    'RETURN (PARTIAL 1:4294967296) ALL',
    'RETURN (UPDATE UPDATE) ALL',
  ]) {
    assert.throws(() => parse(bad), ParseError, bad);
  }
});

test('RFC 5032 WITHIN: OLDER and YOUNGER take an interval in seconds', () => {
  assert.deepEqual(parse('YOUNGER 259200').key, { type: 'within', op: 'younger', seconds: 259200 });
  assert.deepEqual(parse('OLDER 1').key, { type: 'within', op: 'older', seconds: 1 });
  // The grammar says nz-number, but imapflow sends YOUNGER 0 for SINCE a date that is not past.
  assert.deepEqual(parse('YOUNGER 0').key, { type: 'within', op: 'younger', seconds: 0 });
  for (const bad of ['OLDER', 'YOUNGER -5', 'YOUNGER x', 'OLDER 4294967296', 'OLDER "5"']) assert.throws(() => parse(bad), ParseError, bad);
});

test('usesModseq is set only when MODSEQ appears, at any depth', () => {
  assert.equal(parse('ALL').usesModseq, false);
  assert.equal(parse('OR SEEN NOT MODSEQ 5').usesModseq, true);
});

const bad = [
  '',
  'FOO',
  'SEEN FOO',
  'OR SEEN',
  'NOT',
  '()',
  'BEFORE',
  'BEFORE 31-Feb-2000',
  'BEFORE 1994-02-01',
  'LARGER big',
  'LARGER -1',
  'UID',
  'UID abc',
  '0',
  '1:0',
  'HEADER "Bad:Name" x',
  'HEADER',
  'KEYWORD \\Bogus',
  'KEYWORD a]b',
  'MODSEQ',
  'MODSEQ "/flags/\\\\draft" everything 5',
  'MODSEQ "/other" all 5',
  'CHARSET',
  '"SEEN"',
  'BODY[TEXT]',
];
for (const input of bad) {
  test(`SEARCH ${JSON.stringify(input)} is BAD`, () => {
    assert.throws(() => parse(input), ParseError);
  });
}

test('nesting deeper than limits.maxNesting is BAD, just below it is fine', () => {
  const limits = { maxNesting: 8 };
  assert.doesNotThrow(() => parse(`${'NOT '.repeat(8)}SEEN`, { limits }));
  assert.throws(() => parse(`${'NOT '.repeat(9)}SEEN`, { limits }), /nested too deeply/);
  assert.throws(() => parse(`${'OR SEEN '.repeat(9)}SEEN`, { limits }), /nested too deeply/);
});

test('a long NOT chain under the default limit does not overflow the stack', () => {
  assert.throws(() => parse(`${'NOT '.repeat(5000)}SEEN`), /nested too deeply/);
});

test('EMAILID and THREADID take an objectid (RFC 8474 §7): 1-255 of [A-Za-z0-9_-]', () => {
  assert.throws(() => key('EMAILID "M1 2"'), ParseError);
  assert.throws(() => key(`THREADID ${'T'.repeat(256)}`), ParseError);
  assert.throws(() => key('EMAILID'), ParseError);
});
