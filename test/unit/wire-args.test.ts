import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgReader, ParseError } from '../../src/imap/wire/args.js';
import { parseSequenceSet, resolveRanges, formatNumberSet } from '../../src/imap/wire/sequence-set.js';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';

const reader = (line: string, literals: string[] = []): ArgReader => {
  const text = line.split(/(?<=\{\d+\})\n/);
  return new ArgReader(parseCommand({ text, literals: literals.map((l) => [Buffer.from(l)]), size: 0 }, DEFAULT_IMAP_LIMITS).args);
};

test('ArgReader reads the RFC 3501 argument kinds', () => {
  const r = reader('a X INBOX "quoted" {3}\n NIL 42 1:*,5 (\\Seen) foo[bar] x[]', ['lit']);
  assert.equal(r.astring(), 'INBOX');
  assert.equal(r.string(), 'quoted');
  assert.equal(r.astring(), 'lit');
  assert.equal(r.nstring(), null);
  assert.equal(r.number(), 42);
  assert.deepEqual(r.sequenceSet(), { saved: false, ranges: [{ start: 1, end: '*' }, { start: 5, end: 5 }] });
  const flags = r.list();
  assert.equal(flags.atom(), '\\Seen');
  flags.end();
  assert.equal(r.astring(), 'foo[bar]', 'a mailbox name with brackets is still an astring');
  assert.equal(r.astring(), 'x[]');
  r.end();
});

test('ArgReader errors', () => {
  assert.throws(() => reader('a X').atom(), ParseError);
  assert.throws(() => reader('a X "s"').atom(), ParseError);
  assert.throws(() => reader('a X BODY[1 2]').astring(), ParseError);
  assert.throws(() => reader('a X BODY[]<0.5>').astring(), ParseError);
  assert.throws(() => reader('a X atom').string(), ParseError);
  assert.throws(() => reader('a X 0').nzNumber(), ParseError);
  assert.throws(() => reader('a X 12x').number(), ParseError);
  assert.throws(() => reader('a X 1 2').end(), ParseError);
});

test('sequence sets', () => {
  assert.deepEqual(parseSequenceSet('$'), { saved: true });
  assert.deepEqual(parseSequenceSet('4:2,*,7'), { saved: false, ranges: [{ start: 4, end: 2 }, { start: '*', end: '*' }, { start: 7, end: 7 }] });
  for (const bad of ['', '0', '1,', ',1', '1:', ':1', '1:2:3', 'a', '4294967296', '01', '1 2']) {
    assert.throws(() => parseSequenceSet(bad), ParseError, bad);
  }
  const set = parseSequenceSet('5:*,1,2,9:7');
  assert.ok(!set.saved);
  assert.deepEqual(resolveRanges(set.ranges, 6), [[1, 2], [5, 9]]);
  assert.equal(formatNumberSet([1, 2, 3, 7, 9, 10]), '1:3,7,9:10');
  assert.equal(formatNumberSet([]), '');
});
