/**
 * The :matches matcher (src/sieve/match.ts) against a reference: the same pattern as a JavaScript
 * regular expression with lazy stars, whose leftmost-first search defines RFC 5229's non-greedy
 * match variables. Random short values and patterns over a small alphabet (with "?", "*", "\",
 * non-ASCII and astral characters) must agree on match, no match and every capture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepBudget, wildcardMatch } from '../../src/sieve/match.js';
import { rng } from './helpers.js';

function reference(value: string, pattern: string, fold: boolean): string[] | null {
  let re = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) re += escape(chars[++i]!);
    else if (c === '*') re += '(.*?)';
    else if (c === '?') re += '(.)';
    else re += escape(c);
  }
  const m = new RegExp(`^${re}$`, fold ? 'siu' : 'su').exec(value);
  return m ? [...m] : null;
}

const escape = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');


test(':matches agrees with a lazy regular expression on 5,000 random cases, captures included', () => {
  const random = rng(5228);
  const pick = (alphabet: string[]): string => alphabet[Math.floor(random() * alphabet.length)]!;
  const valueChars = ['a', 'b', 'A', '€', '😀', '*', '?', '\\'];
  const patternChars = ['a', 'b', 'B', '€', '😀', '?', '*', '*', '\\'];
  let matched = 0;
  for (let i = 0; i < 5000; i++) {
    const value = Array.from({ length: Math.floor(random() * 9) }, () => pick(valueChars)).join('');
    const pattern = Array.from({ length: Math.floor(random() * 7) }, () => pick(patternChars)).join('');
    for (const fold of [false, true]) {
      const got = wildcardMatch(value, pattern, fold, new StepBudget(1_000_000));
      const want = reference(value, pattern, fold);
      assert.deepEqual(got, want, `value ${JSON.stringify(value)} pattern ${JSON.stringify(pattern)} fold ${fold}`);
      if (got) matched++;
    }
  }
  assert.ok(matched > 500, `enough matching cases (${matched})`);
});

test('the step budget: a long near-miss segment is cut off, a generous budget decides it', () => {
  const value = 'a'.repeat(20_000);
  const pattern = `*${'a'.repeat(500)}b*`;
  const small = new StepBudget(100_000);
  assert.equal(wildcardMatch(value, pattern, false, small), null);
  assert.ok(small.used <= 100_000 + 500, `stopped near the budget (${small.used})`);
  const large = new StepBudget(50_000_000);
  assert.equal(wildcardMatch(`${value}b`, pattern, false, large)?.[0], `${value}b`);
});

test(':matches with long literal runs (searched with indexOf up to 16 characters, token by token beyond) agrees with the reference', () => {
  const random = rng(5229);
  const word = (n: number): string => Array.from({ length: n }, () => (random() < 0.7 ? 'a' : 'b')).join('');
  let matched = 0;
  for (let i = 0; i < 3000; i++) {
    const value = word(Math.floor(random() * 60));
    // Stars between runs of 0–24 letters: literal segments on both sides of the 16-character bound.
    const pattern = Array.from({ length: 1 + Math.floor(random() * 3) }, () => word(Math.floor(random() * 25))).join('*');
    const starred = random() < 0.5 ? `*${pattern}*` : pattern;
    const got = wildcardMatch(value, starred, false, new StepBudget(1_000_000));
    assert.deepEqual(got, reference(value, starred, false), `value ${value} pattern ${starred}`);
    if (got) matched++;
  }
  assert.ok(matched > 100, `enough matching cases (${matched})`);
});
