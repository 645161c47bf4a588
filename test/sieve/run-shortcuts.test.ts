/**
 * The run's shortcuts for its fixed cost (bench/RESULTS.md, "Sieve: fixed cost of a run") answer as
 * the code they replaced: foldAscii and the surrogate check of :matches without regular
 * expressions, the envelope address's brackets dropped without one, the script's flag lists'
 * deliverable form kept with them (and never shared into a list a run changes), the implicit keep
 * built without spreads, command names compared as the spec table's strings, the fields a script
 * reads found and read without a call into C++ per line or a Buffer per value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldAscii, matchValue, matchable, StepBudget } from '../../src/sieve/match.js';
import { MessageView, splitEnvelopeAddress } from '../../src/sieve/message.js';
import { fieldValue, scanFields } from '../../src/mime/header.js';
import type { FieldSlots } from '../../src/sieve/program.js';
import { compileSieve, runSieve } from '../../src/sieve/index.js';
import { programOf } from '../../src/sieve/compile.js';
import { compile, env, rng } from './helpers.js';

/** What foldAscii was: a regular expression test and a replace. */
const foldByRegex = (s: string): string => (/[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s);

/** Characters that fall on every side of the loop's tests: A–Z, a–z, the ASCII edges, Latin-1, other BMP letters whose toLowerCase differs, surrogates. */
const ALPHABET = ['A', 'Z', 'M', 'a', 'z', '@', '[', '`', '{', ' ', '0', '\x7f', '\x80', 'À', 'É', 'İ', 'Σ', 'K', 'ſ', '€', '\ud83d', '\ude00', '😀', 'Ǆ'];

function randomString(next: () => number): string {
  const n = Math.floor(next() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)]!;
  return s;
}

test('foldAscii folds A–Z only, as the regular expression did, on 20,000 random strings (non-ASCII kept as is)', () => {
  const next = rng(17);
  for (const s of ['', 'abc', 'ABC', 'Re: [Ticket #3]', 'İSTANBUL', 'ÀB', 'KELVIN K', 'x😀Y']) assert.equal(foldAscii(s), foldByRegex(s), s);
  for (let i = 0; i < 20_000; i++) {
    const s = randomString(next);
    assert.equal(foldAscii(s), foldByRegex(s), JSON.stringify(s));
  }
  // The non-ASCII capitals are not folded (toLowerCase would have): i;ascii-casemap (RFC 4790 §9.2).
  assert.equal(foldAscii('ÀİΣ'), 'ÀİΣ');
  assert.equal(foldAscii('AÀ'), 'aÀ');
});

test(':matches over values with and without surrogate pairs captures whole characters (the surrogate check without a regular expression)', () => {
  const budget = new StepBudget(100_000);
  assert.deepEqual(matchValue(matchable('a😀b', false), 'a?b', budget), ['a😀b', '😀']);
  assert.deepEqual(matchValue(matchable('aXb', false), 'a?b', budget), ['aXb', 'X']);
  assert.equal(matchValue(matchable('a😀😀b', false), 'a?b', budget), null);
  assert.deepEqual(matchValue(matchable('ABC😀', true), 'a*?', budget), ['ABC😀', 'BC', '😀']);
});

test('the envelope address loses one "<" in front and one ">" at the end, as /^<|>$/g did', () => {
  for (const a of ['', '<', '>', '<>', '<a@b>', 'a@b', '<a@b', 'a@b>', '<<a@b>>', '<x>y>', 'a>b@c']) {
    const plain = a.replace(/^<|>$/g, '');
    const at = plain.lastIndexOf('@');
    const expected = at < 0 ? { all: plain, localpart: plain, domain: '' } : { all: plain, localpart: plain.slice(0, at), domain: plain.slice(at + 1) };
    assert.deepEqual(splitEnvelopeAddress(a), expected, a);
  }
});

test('the implicit keep carries the flags a script set, the same list from run to run, and a run that changes them does not change the next run\'s', async () => {
  const script = compile('require "imap4flags";\r\nif header :contains "subject" "more" { addflag "$More"; }\r\naddflag ["$Bench", "\\\\seen", "bad(flag"];\r\n');
  const plain = ['Subject: hello'];
  const more = ['Subject: more please'];
  const run = (headers: string[]) => runSieve(script, env({ headers }));
  const first = await run(plain);
  // Only the deliverable flags: \Seen spelled as IMAP does, the keyword that is not an atom dropped (RFC 5232 §2).
  assert.deepEqual(first.actions, [{ type: 'keep', flags: ['$Bench', '\\Seen'] }]);
  const second = await run(more);
  assert.deepEqual(second.actions, [{ type: 'keep', flags: ['$More', '$Bench', '\\Seen'] }]);
  const third = await run(plain);
  assert.deepEqual(third.actions, [{ type: 'keep', flags: ['$Bench', '\\Seen'] }]);
  assert.deepEqual(first.actions, [{ type: 'keep', flags: ['$Bench', '\\Seen'] }], 'an earlier outcome is not changed by a later run');
  // Without imap4flags no flags; with an empty flag set, none either.
  assert.deepEqual((await runSieve(compile('keep;'), env())).actions, [{ type: 'keep' }]);
  assert.deepEqual((await runSieve(compile('require "imap4flags";\r\naddflag "x";\r\nremoveflag "x";\r\n'), env())).actions, [{ type: 'keep' }]);
  // An explicit keep after flags were set, and a fileinto with :flags of its own.
  const explicit = await runSieve(compile('require ["imap4flags", "fileinto"];\r\naddflag "$A";\r\nkeep;\r\nfileinto :flags "$B" "Other";\r\n'), env());
  assert.deepEqual(explicit.actions, [{ type: 'keep', flags: ['$A'] }, { type: 'fileinto', mailbox: 'Other', copy: false, create: false, flags: ['$B'] }]);
});

test('command and test names are the spec table\'s strings, whatever case the script wrote them in', () => {
  const c = compileSieve('REQUIRE "fileinto";\r\nIf HEADER :contains "subject" "x" { FileInto "A"; STOP; }\r\nKeep;\r\n');
  assert.ok(c.ok);
  const program = programOf(c.script)!;
  assert.deepEqual(
    program.commands.map((i) => i.name),
    ['if', 'keep'],
  );
  assert.equal(program.commands[0]!.tests[0]!.name, 'header');
  assert.deepEqual(program.commands[0]!.block!.map((i) => i.name), ['fileinto', 'stop']);
});

test('the fields a script reads are found and read as mime\'s scanFields and fieldValue read them, on 3,000 random headers (folded, LF-only, 8-bit, malformed lines)', () => {
  const next = rng(5);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const names = ['Subject', 'SUBJECT', 'from', 'To', 'X-Other', 'List-Id', 'subject ', 'Sub ject', ''];
  const values = ['hello', ' spaced  ', 'Ünïcode', 'caf\xe9 latin1', '=?utf-8?q?x?=', '', 'a\r\n continued', 'b\n\tfolded', '[ticket #3] x'];
  const slots: FieldSlots = { names: ['subject', 'to', 'list-id'], slots: new Map([['subject', 0], ['to', 1], ['list-id', 2]]) };
  for (let n = 0; n < 3000; n++) {
    const lines: Buffer[] = [];
    const count = 1 + Math.floor(next() * 8);
    for (let i = 0; i < count; i++) {
      const eol = next() < 0.8 ? '\r\n' : '\n';
      const r = next();
      if (r < 0.1) lines.push(Buffer.from(` continuation${eol}`, 'latin1'));
      else if (r < 0.15) lines.push(Buffer.from(`no colon here${eol}`, 'latin1'));
      else {
        const v = pick(values);
        // Some values as UTF-8, some as latin1 bytes: both readings are tried by headerText.
        lines.push(Buffer.concat([Buffer.from(`${pick(names)}:`), Buffer.from(v, next() < 0.5 ? 'utf8' : 'latin1'), Buffer.from(eol)]));
      }
    }
    if (next() < 0.7) lines.push(Buffer.from('\r\n'));
    const header = Buffer.concat(lines);
    const view = new MessageView(header, slots);
    const all = scanFields(header, 0, header.length);
    for (const name of ['subject', 'to', 'list-id', 'x-other', 'from']) {
      const expected = all.filter((f) => f.name.toLowerCase() === name).map((f) => fieldValue(header, f));
      assert.deepEqual(view.raw(name), expected, `${name} in ${JSON.stringify(header.toString('latin1'))}`);
    }
  }
});
