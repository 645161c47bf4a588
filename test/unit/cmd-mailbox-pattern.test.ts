import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, anyPattern } from '../../src/imap/list/pattern.js';
import { servedClock } from '../helpers/served-time.js';

const cases: Array<[reference: string, pattern: string, name: string, expected: boolean]> = [
  ['', '*', 'a', true],
  ['', '*', 'a/b/c', true],
  ['', '%', 'a', true],
  ['', '%', 'a/b', false],
  ['', '%', '', true],
  ['', '', '', true],
  ['', '', 'a', false],
  ['', 'a/%', 'a/b', true],
  ['', 'a/%', 'a/b/c', false],
  ['', 'a/%', 'a', false],
  ['', 'a/*', 'a/b/c', true],
  ['', 'a*', 'a', true],
  ['', 'a*', 'ab/c', true],
  ['', 'a%', 'ab/c', false],
  ['', '%/%', 'a/b', true],
  ['', '%/%', 'a/b/c', false],
  ['', '*/%', 'a/b/c', true],
  ['', '%c', 'abc', true],
  ['', '%c', 'ab/c', false],
  ['', 'foo', 'Foo', false],
  ['', '*2', 'foo2/bar2', true],
  ['', '*2', 'foo2/bar1', false],
  ['', '%%*%', 'x/y', true],
  ['', '*%', 'x/y', true],
  ['', '%*', 'x/y', true],
  // The reference is prepended literally (RFC 3501 §6.3.8 "archive/" + "%" = "archive/%").
  ['archive/', '%', 'archive/2024', true],
  ['archive/', '%', 'archive/2024/jan', false],
  ['archive/', '%', 'other', false],
  ['archive', '/%', 'archive/x', true],
  // Wildcards in the reference are not wildcards.
  ['a*', '', 'a*', true],
  ['a*', '', 'ab', false],
  ['a%/', '%', 'a%/x', true],
  ['a%/', '%', 'ab/x', false],
  // INBOX is case-insensitive (RFC 3501 §5.1), only as the first level.
  ['', 'inbox', 'INBOX', true],
  ['', 'InBoX', 'INBOX', true],
  ['', 'inbox/%', 'INBOX/sub', true],
  ['inbox/', '%', 'INBOX/sub', true],
  ['', 'inbox', 'INBOXES', false],
  ['', 'inboxes', 'INBOXES', false],
  ['', 'in*', 'INBOX', true],
  ['', 'x/inbox', 'x/INBOX', false],
  ['', 'INBOX/SUB', 'INBOX/sub', false],
  // Dotless i must not fold onto I.
  ['', '\u0131nbox', 'INBOX', false],
  // Non-ASCII and surrogate pairs.
  ['', 'Caf%', 'Café', true],
  ['', '%é', 'Café', true],
  ['', '😀/%', '😀/x', true],
  ['', '*😀', 'a😀', true],
  ['', '%', '😀', true],
];

test('pattern matching table', () => {
  for (const [reference, pattern, name, expected] of cases) {
    const p = compilePattern(reference, pattern, '/');
    assert.equal(p.matches(name), expected, `${JSON.stringify(reference)} + ${JSON.stringify(pattern)} vs ${JSON.stringify(name)}`);
  }
});

test('source is reference + pattern', () => {
  assert.equal(compilePattern('a/', 'b%', '/').source, 'a/b%');
});

test('other delimiter: "%" stops at "."', () => {
  const p = compilePattern('', '%', '.');
  assert.equal(p.matches('foo'), true);
  assert.equal(p.matches('foo.bar'), false);
  assert.equal(p.matches('foo/bar'), true);
  assert.equal(compilePattern('', 'inbox.%', '.').matches('INBOX.x'), true);
});

test('anyPattern is a union', () => {
  const m = anyPattern([compilePattern('', 'INBOX', '/'), compilePattern('', 'Sent/%', '/')]);
  assert.equal(m('INBOX'), true);
  assert.equal(m('Sent/March'), true);
  assert.equal(m('Drafts'), false);
  assert.equal(anyPattern([])('x'), false);
});

test('pathological patterns stay fast (no backtracking blow-up)', () => {
  const name = 'a'.repeat(5000);
  const hostile = ['*a*a*a*a*a*a*a*a*a*a*b', '%a%a%a%a%a%a%a%a%a%a%b', '*'.repeat(50) + 'b', '*a'.repeat(200) + 'b'];
  // Served time: less what the machine's other load kept this process off the CPU (served-time.ts).
  const clock = servedClock();
  for (const pattern of hostile) {
    assert.equal(compilePattern('', pattern, '/').matches(name), false);
    assert.equal(compilePattern('', pattern, '/').matches(name + 'b'), true);
  }
  const ms = clock.served();
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms served (${clock.wall().toFixed(0)} ms as seen)`);
});

test('agrees with a reference backtracking matcher on random inputs', () => {
  // Small alphabet so wildcards and delimiters interact a lot; lengths small so the naive
  // exponential reference stays cheap.
  const alphabet = ['a', 'b', '/', '*', '%'];
  const nameAlphabet = ['a', 'b', '/'];
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = (chars: string[], len: number): string => Array.from({ length: len }, () => chars[rand(chars.length)]).join('');
  for (let i = 0; i < 3000; i++) {
    const pattern = pick(alphabet, rand(7));
    const name = pick(nameAlphabet, rand(8));
    assert.equal(compilePattern('', pattern, '/').matches(name), naive(pattern, name), `${pattern} vs ${name}`);
  }
});

function naive(pattern: string, name: string): boolean {
  if (pattern === '') return name === '';
  const [p, rest] = [pattern[0], pattern.slice(1)];
  if (p === '*' || p === '%') {
    for (let k = 0; k <= name.length; k++) {
      if (p === '%' && name.slice(0, k).includes('/')) break;
      if (naive(rest, name.slice(k))) return true;
    }
    return false;
  }
  return name.length > 0 && name[0] === p && naive(rest, name.slice(1));
}
