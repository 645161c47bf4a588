/**
 * MessageView reads `local@domain` and `Name <local@domain>` without the full RFC 5322 parser
 * (src/sieve/message.ts, simpleAddress): wherever that shortcut answers, the parser must give the
 * same single address — on hand-picked values and on thousands of random ones built to fall on
 * both sides of the shortcut's edge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddressList } from '../../src/mime/address.js';
import { simpleAddress, type SplitAddress } from '../../src/sieve/message.js';
import { rng } from './helpers.js';

/** What addressesByField makes of the parser's answer. */
function parsed(value: string): SplitAddress[] {
  const out: SplitAddress[] = [];
  for (const a of parseAddressList(value) ?? []) {
    if (a.host === null || a.mailbox === null) continue;
    out.push({ all: a.host === '' ? a.mailbox : `${a.mailbox}@${a.host}`, localpart: a.mailbox, domain: a.host });
  }
  return out;
}


test('the simple-address shortcut answers as the parser does, and leaves every other shape to it', () => {
  const hits = ['Bench <bench@bench.test>', 'users@bench.test', 'A.B@Ex.COM', '<a@b>', ' a@b ', 'Ann Lee <a.b@c.d>', "o'neil+x@ex-ample.org", '=?utf-8?q?A?= <a@b>'];
  for (const v of hits) {
    const simple = simpleAddress(v);
    assert.ok(simple, `${v}: the shortcut should answer`);
    assert.deepEqual([simple], parsed(v), v);
  }
  const misses = ['"q x"@ex.com', 'Bob <bob.x@ex.com> (c)', 'a @ b', 'Ann <a@b>, c@d', 'a..b@c', 'x@[1.2.3.4]', 'group: a@b;', 'a@b.', '.a@b', 'Ann <a@b'];
  for (const v of misses) assert.equal(simpleAddress(v), null, v);

  const random = rng(5322);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const atoms = ['a', 'Bo', 'x1', "o'n", 'a+b', 'z-z', '_', '~', '#'];
  const noise = ['.', '..', ' ', '"', '(', ')', ',', ';', ':', '\\', '[', ']', '<', '>', '@', '\t', '=?', ''];
  const word = (): string => (random() < 0.8 ? pick(atoms) : `${pick(atoms)}${pick(noise)}${pick(atoms)}`);
  const dotted = (): string => Array.from({ length: 1 + Math.floor(random() * 3) }, word).join('.');
  let answered = 0;
  for (let i = 0; i < 20_000; i++) {
    const addr = `${dotted()}@${dotted()}`;
    const shape = Math.floor(random() * 4);
    const name = Array.from({ length: 1 + Math.floor(random() * 3) }, word).join(pick([' ', '  ', '\t', '']));
    const value = shape === 0 ? addr : shape === 1 ? `${name} <${addr}>` : shape === 2 ? `<${addr}>` : `${pick(noise)}${name}${pick(noise)}<${addr}>${pick(noise)}`;
    const simple = simpleAddress(value);
    if (simple === null) continue;
    answered++;
    assert.deepEqual([simple], parsed(value), JSON.stringify(value));
  }
  assert.ok(answered > 5_000, `the shortcut answered only ${answered} of 20,000`);
});

/** The regular expression simpleAddress was before it became a loop (the reference it must agree with). */
const ATEXT = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+";
const DOT_ATOM = `${ATEXT}(?:\\.${ATEXT})*`;
const REFERENCE = new RegExp(`^[ \\t]*(?:(?:${ATEXT}[ \\t]+)*${ATEXT}[ \\t]*<(${DOT_ATOM})@(${DOT_ATOM})>|<(${DOT_ATOM})@(${DOT_ATOM})>|(${DOT_ATOM})@(${DOT_ATOM}))[ \\t]*$`);
function reference(value: string): SplitAddress | null {
  const m = REFERENCE.exec(value);
  if (!m) return null;
  const localpart = (m[1] ?? m[3] ?? m[5])!;
  const domain = (m[2] ?? m[4] ?? m[6])!;
  return { all: `${localpart}@${domain}`, localpart, domain };
}

test('the simple-address scan answers exactly as the regular expression it replaced, on random values', () => {
  const random = rng(2822);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  // Pieces that make the shapes and every way out of them: atext, dots, blanks, brackets, "@",
  // specials, line ends, non-ASCII.
  const pieces = ['a', 'Bo', 'x1', "o'n", '+', '-', '~', '.', '..', '@', '@', '<', '>', '<', '>', ' ', '  ', '\t', '"', '(', ')', ',', ';', ':', '\\', '[', ']', '\r\n', '\n', 'é', '\u{1F600}', '=?', ''];
  let answered = 0;
  for (let i = 0; i < 60_000; i++) {
    let value: string;
    const shape = Math.floor(random() * 3);
    if (shape === 0) value = Array.from({ length: Math.floor(random() * 12) }, () => pick(pieces)).join('');
    else {
      // Near the simple shapes, with now and then one piece changed.
      const word = (): string => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(['a', 'Bo', 'x1', "o'n", 'a+b'])).join(random() < 0.8 ? '.' : pick(pieces));
      const addr = `${word()}@${word()}`;
      const name = Array.from({ length: Math.floor(random() * 3) }, word).join(pick([' ', '\t', ' \t', '']));
      value = shape === 1 ? `${pick(['', ' ', '\t'])}${addr}${pick(['', ' ', '\t', '\r\n'])}` : `${pick(['', ' '])}${name}${pick(['', ' ', '\t'])}<${addr}>${pick(['', ' ', '\t', '>', pick(pieces)])}`;
    }
    const expected = reference(value);
    assert.deepEqual(simpleAddress(value), expected, JSON.stringify(value));
    if (expected) answered++;
  }
  assert.ok(answered > 15_000, `only ${answered} of 60,000 values were simple addresses`);
});
