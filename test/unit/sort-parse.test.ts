/** SORT and THREAD grammar (src/imap/search/sort-parse.ts): command text → typed arguments, as tables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { ParseError } from '../../src/imap/wire/args.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';
import { parseSortArgs, parseThreadArgs, type SortArgs, type ThreadArgs } from '../../src/imap/search/sort-parse.js';

const limits = DEFAULT_IMAP_LIMITS;
const tokens = (command: string, args: string) => parseCommand({ text: [`t ${command} ${args}`], literals: [], size: 0 }, limits).args;
const sort = (args: string, enabled: string[] = []): SortArgs => parseSortArgs(tokens('SORT', args), { enabled: new Set(enabled), limits });
const thread = (args: string): ThreadArgs => parseThreadArgs(tokens('THREAD', args), { enabled: new Set(), limits });

test('RFC 5256 sort-criteria: every key, REVERSE per key, case-insensitive', () => {
  const table: Array<[string, SortArgs['program']]> = [
    ['(ARRIVAL)', [{ key: 'arrival', reverse: false }]],
    ['(cc DATE from Size)', [{ key: 'cc', reverse: false }, { key: 'date', reverse: false }, { key: 'from', reverse: false }, { key: 'size', reverse: false }]],
    ['(SUBJECT REVERSE DATE)', [{ key: 'subject', reverse: false }, { key: 'date', reverse: true }]],
    ['(reverse TO)', [{ key: 'to', reverse: true }]],
    // RFC 5957 SORT=DISPLAY.
    ['(DISPLAYFROM REVERSE DISPLAYTO)', [{ key: 'displayfrom', reverse: false }, { key: 'displayto', reverse: true }]],
    // A repeated key cannot change the order: only its first occurrence counts.
    ['(DATE SIZE REVERSE DATE DATE)', [{ key: 'date', reverse: false }, { key: 'size', reverse: false }]],
  ];
  for (const [program, want] of table) assert.deepEqual(sort(`${program} UTF-8 ALL`).program, want, program);
  const args = sort('(DATE) us-ascii UNSEEN');
  assert.equal(args.charset, 'US-ASCII');
  assert.deepEqual(args.key, { type: 'flag', flag: '\\Seen', set: false });
  assert.equal(args.returnOptions, undefined);
});

test('a program of 10,000 criteria parses into at most nine', () => {
  // Past the default maxTokens (10,000) the tokenizer refuses the command before the parser runs
  // (test/e2e/sort-bad-input.test.ts); the parser's own bound is tested with that limit raised.
  const raised = { ...limits, maxTokens: 100_000 };
  const keys = Array.from({ length: 10_000 }, (_, i) => (i % 2 ? 'REVERSE SUBJECT' : 'DATE')).join(' ');
  const args = parseCommand({ text: [`t SORT (${keys}) UTF-8 ALL`], literals: [], size: 0 }, raised).args;
  assert.deepEqual(parseSortArgs(args, { enabled: new Set(), limits: raised }).program, [
    { key: 'date', reverse: false },
    { key: 'subject', reverse: true },
  ]);
});

test('RFC 5267 §3: RETURN before the program; the charset is mandatory', () => {
  assert.deepEqual(sort('RETURN (MIN MAX) (DATE) UTF-8 ALL').returnOptions, { min: true, max: true, all: false, count: false, save: false });
  assert.deepEqual(sort('RETURN () (DATE) UTF-8 ALL').returnOptions?.all, true);
  assert.deepEqual(sort('RETURN (PARTIAL -1:-10 UPDATE) (DATE) UTF-8 ALL').returnOptions?.partial, { from: 1, to: 10, fromEnd: true, text: '-1:-10' });
  // An unknown charset is for run() to refuse with NO [BADCHARSET].
  assert.equal(sort('(DATE) KOI8-R ALL').charset, 'KOI8-R');
  for (const bad of [
    '',
    '() UTF-8 ALL',
    '(FOO) UTF-8 ALL',
    '(REVERSE) UTF-8 ALL',
    '(REVERSE REVERSE DATE) UTF-8 ALL',
    'DATE UTF-8 ALL',
    '(DATE) UTF-8',
    '(DATE)',
    '((DATE)) UTF-8 ALL',
    '(DATE) UTF-8 RETURN (MIN) ALL',
    'RETURN (MIN) UTF-8 ALL',
    'RETURN (PARTIAL 1:2 ALL) (DATE) UTF-8 ALL',
  ]) {
    assert.throws(() => sort(bad), ParseError, bad);
  }
  // RFC 6855 §3: after ENABLE UTF8=ACCEPT another charset label is BAD (US-ASCII is a subset).
  assert.throws(() => sort('(DATE) ISO-8859-1 ALL', ['UTF8=ACCEPT']), ParseError);
  assert.equal(sort('(DATE) UTF-8 ALL', ['UTF8=ACCEPT']).charset, 'UTF-8');
});

test('RFC 5256 thread-alg: ORDEREDSUBJECT, REFERENCES, REFS', () => {
  assert.equal(thread('ORDEREDSUBJECT UTF-8 ALL').algorithm, 'orderedsubject');
  assert.equal(thread('references us-ascii SINCE 5-MAR-2000').algorithm, 'references');
  assert.deepEqual(thread('references us-ascii SINCE 5-MAR-2000').key, { type: 'internaldate', op: 'since', day: '2000-03-05' });
  assert.equal(thread('REFS UTF-8 ALL').algorithm, 'refs');
  for (const bad of ['', 'REFERENCES', 'REFERENCES UTF-8', 'FOO UTF-8 ALL', '(REFERENCES) UTF-8 ALL', '"REFERENCES" UTF-8 ALL']) {
    assert.throws(() => thread(bad), ParseError, bad);
  }
});
