/** Flag names shared by STORE, APPEND and SEARCH KEYWORD (src/imap/search/flags.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlag, flagsFromTokens, uniqueFlags } from '../../src/imap/search/flags.js';
import { ParseError } from '../../src/imap/wire/args.js';

test('system flags are case-insensitive and come back canonical', () => {
  for (const [input, canonical] of [['\\seen', '\\Seen'], ['\\ANSWERED', '\\Answered'], ['\\Flagged', '\\Flagged'], ['\\dElEtEd', '\\Deleted'], ['\\draft', '\\Draft']]) {
    assert.deepEqual(parseFlag(input!), { kind: 'flag', flag: canonical });
  }
});

test('\\Recent is reported apart, keywords pass as written', () => {
  assert.deepEqual(parseFlag('\\RECENT'), { kind: 'recent' });
  assert.deepEqual(parseFlag('$Forwarded'), { kind: 'flag', flag: '$Forwarded' });
  assert.deepEqual(parseFlag('NonJunk'), { kind: 'flag', flag: 'NonJunk' });
});

test('unknown system flags, \\*, and keywords with atom-specials or 8-bit are refused', () => {
  for (const bad of ['\\Bogus', '\\*', '\\', 'a]b', 'a%b', 'a*b', 'a"b', 'a\\b', 'a{b', 'é', 'a b', '']) {
    assert.throws(() => parseFlag(bad), ParseError, bad);
  }
});

test('flag lists drop \\Recent and duplicates (case-insensitively, first spelling wins)', () => {
  const atom = (value: string) => ({ type: 'atom' as const, value });
  assert.deepEqual(flagsFromTokens([atom('\\Seen'), atom('\\Recent'), atom('$A'), atom('\\SEEN'), atom('$a')]), ['\\Seen', '$A']);
  assert.throws(() => flagsFromTokens([{ type: 'string', value: Buffer.from('x'), literal: false }]), ParseError);
  assert.throws(() => flagsFromTokens([{ type: 'list', items: [] }]), ParseError);
  assert.deepEqual(uniqueFlags(['x', 'X', 'y']), ['x', 'y']);
});
