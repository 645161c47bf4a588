/**
 * Hostile and careless input: huge scripts, deep nesting, :matches patterns that make a
 * backtracking matcher take exponential time, huge headers, and a fuzz of garbled scripts. Each
 * must end in a clear error or a result, never a crash, a stack overflow or a hung delivery.
 * Time bounds are generous (the defects they catch take minutes or forever).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileSieve, runSieve, DEFAULT_SIEVE_LIMITS } from '../../src/sieve/index.js';
import { compile, compileError, env, run } from './helpers.js';
import { servedClock } from '../helpers/served-time.js';

test('a script over maxScriptBytes (1 MiB) is refused with a clear error', () => {
  const big = `# ${'x'.repeat(DEFAULT_SIEVE_LIMITS.maxScriptBytes)}\nkeep;`;
  const e = compileError(big);
  assert.deepEqual([e.line, e.column], [1, 1]);
  assert.match(e.message, /more than the limit of 1048576 \(maxScriptBytes\)/);
  assert.match(compileError('keep; keep;', { limits: { maxScriptBytes: 5 } }).message, /script is 11 bytes/);
});

test('a script just under the limit, with 40,000 rules, compiles and runs', async () => {
  const rule = 'if header :contains "subject" "spam" { discard; }\n';
  const source = rule.repeat(Math.floor((DEFAULT_SIEVE_LIMITS.maxScriptBytes - 100) / rule.length));
  const clock = servedClock(); // served time: less other processes' load (served-time.ts)
  const script = compile(source);
  const out = await runSieve(script, env({ headers: ['Subject: ham'] }));
  assert.deepEqual(out.actions, [{ type: 'keep' }]);
  assert.ok(clock.served() < 20_000, 'compiles and runs in bounded time');
});

test('10,000 nested blocks, tests and test lists: an error at the first level too deep, not a stack overflow', () => {
  const depth = 10_000;
  const blocks = compileError('if true {'.repeat(depth) + '}'.repeat(depth));
  assert.match(blocks.message, /nested too deeply \(more than 32 levels/);
  assert.deepEqual([blocks.line, blocks.column], [1, 9 * 32 + 4]); // the test of the 33rd "if"
  const nots = compileError(`if ${'not '.repeat(depth)}true { keep; }`);
  assert.match(nots.message, /nested too deeply/);
  const lists = compileError(`if ${'anyof('.repeat(depth)}true${')'.repeat(depth)} { keep; }`);
  assert.match(lists.message, /nested too deeply/);
  const lists2 = compileError(`if header "a" ${'[ "a", '.repeat(depth)}`);
  assert.match(lists2.message, /expected a string in the string list/);
  // A configured limit above the hard bound is held to it (1000), still an error, not a crash.
  const huge = compileSieve('if true {'.repeat(depth) + '}'.repeat(depth), { limits: { maxNestingDepth: 1_000_000 } });
  assert.equal(huge.ok, false);
  if (!huge.ok) assert.match(huge.errors[0]!.message, /more than 1000 levels/);
  // Within the limit, deep nesting runs.
  const ok = compile('if true {'.repeat(30) + 'discard;' + '}'.repeat(30));
  assert.ok(ok);
});

test('at the hard nesting bound (1000) parse, validation and run do not overflow the stack', async () => {
  // 500 blocks, then a test nested 500 deep: depth exactly 1000; one "not" more is 1001.
  const script = (nots: number): string => `${'if true {'.repeat(500)} if ${'not '.repeat(nots)}false { discard; } ${'}'.repeat(500)}`;
  const ok = compileSieve(script(499), { limits: { maxNestingDepth: 1000 } });
  assert.equal(ok.ok, true, JSON.stringify(!ok.ok && ok.errors));
  if (ok.ok) assert.deepEqual((await runSieve(ok.script, env())).actions, [{ type: 'discard' }]);
  const deeper = compileSieve(script(500), { limits: { maxNestingDepth: 1000 } });
  assert.equal(deeper.ok, false);
});

test(':matches "*a*a*a…" and long segments on a 100 KB header finish fast; over budget is no match', async () => {
  const value = 'a'.repeat(100_000);
  const clock = servedClock(); // served time: less other processes' load (served-time.ts)
  // Thousands of stars: the classic exponential case for a backtracking matcher.
  const stars = `${'*a'.repeat(2000)}*b`;
  const r1 = await run(`if header :matches "X-Big" "${stars}" { discard; }`, { headers: [`X-Big: ${value}`] });
  assert.deepEqual(r1.actions, [{ type: 'keep' }]);
  const r2 = await run(`if header :matches "X-Big" "${'*a'.repeat(2000)}*" { discard; }`, { headers: [`X-Big: ${value}`] });
  assert.deepEqual(r2.actions, [{ type: 'discard' }]);
  // A long middle segment that almost fits everywhere: 100,000 × 1,000 steps, past maxMatchSteps.
  const r3 = await run(`if header :matches "X-Big" "*${'a'.repeat(1000)}b*" { discard; }`, { headers: [`X-Big: ${value}`] });
  assert.deepEqual(r3.actions, [{ type: 'keep' }]);
  assert.equal(r3.error, undefined);
  // With a budget large enough, the same comparison is decided exactly (it does not match).
  const r4 = await run(`if header :matches "X-Big" "*${'a'.repeat(100)}b*" { discard; }`, { headers: [`X-Big: ${value}b`] }, { maxMatchSteps: 20_000_000 });
  assert.deepEqual(r4.actions, [{ type: 'discard' }]);
  assert.ok(clock.served() < 20_000, `took ${clock.served()} ms`);
});

test('many keys against a huge header are stopped by maxRunMilliseconds, keeping the message', async () => {
  const keys = Array.from({ length: 2000 }, (_, i) => `"*${'a'.repeat(300)}${i}*"`).join(',');
  const clock = servedClock(); // served time: less other processes' load (served-time.ts)
  const out = await run(`if header :matches "X-Big" [${keys}] { discard; }`, { headers: [`X-Big: ${'a'.repeat(100_000)}`] }, { maxRunMilliseconds: 300 });
  assert.deepEqual(out.actions, [{ type: 'keep' }]);
  assert.match(out.error ?? '', /maxRunMilliseconds/);
  assert.ok(clock.served() < 20_000);
});

test('variable expansion is bounded per run: a short script cannot build gigabytes of strings', async () => {
  const refs = '${a}'.repeat(5000);
  const out = await run(`require "variables"; set "a" "${'x'.repeat(4000)}"; if string :is ["${refs}", "${refs}"] "" { discard; }`);
  assert.deepEqual(out.actions, [{ type: 'keep' }]);
  assert.match(out.error ?? '', /variables expanded to more than 16777216 characters/);
  // A value longer than maxVariableBytes is cut, not refused.
  const cut = await run(`require ["variables", "fileinto"]; set "a" "${'y'.repeat(50)}"; set :length "n" "\${a}"; fileinto "\${n}";`, {}, { maxVariableBytes: 10 });
  assert.deepEqual(cut.actions, [{ type: 'fileinto', mailbox: '10', copy: false, create: false }]);
});

test(':contains over thousands of fields and keys is stopped by maxRunMilliseconds too', async () => {
  const headers = Array.from({ length: 2000 }, (_, i) => `X-A: ${String(i).padStart(5, '0')}${'b'.repeat(2000)}`);
  const keys = Array.from({ length: 20_000 }, (_, i) => `"needle-${i}-not-there"`).join(',');
  const script = compile(`if header :contains "X-A" [${keys}] { discard; }`);
  const clock = servedClock(); // served time: less other processes' load (served-time.ts)
  const out = await runSieve(script, env({ headers }), { maxRunMilliseconds: 300 });
  assert.deepEqual(out.actions, [{ type: 'keep' }]);
  assert.match(out.error ?? '', /maxRunMilliseconds/);
  assert.ok(clock.served() < 10_000, `took ${clock.served()} ms`);
});

/** A small deterministic generator (xorshift), so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const FRAGMENTS = [
  'require', '["fileinto","variables","imap4flags","relational","body","vacation","date","copy","mailbox"]', ';', 'if', 'elsif', 'else', '{', '}', '(', ')',
  '[', ']', ',', 'header', 'address', 'envelope', 'exists', 'size', ':over', ':under', '1K', '10', 'allof', 'anyof', 'not', 'true',
  'false', ':is', ':contains', ':matches', ':count', ':value', '"gt"', ':comparator', '"i;octet"', '"subject"', '"from"', '"*a?b*"',
  '"${1}"', '"x\\"y"', 'text:\r\nline\r\n..dot\r\n.\r\n', 'fileinto', 'keep', 'discard', 'stop', 'redirect', '"a@b.example"',
  'setflag', 'addflag', 'hasflag', 'set', '"v"', 'string', 'body', ':raw', ':text', 'vacation', ':days', 'date', 'currentdate',
  '"date"', '"hour"', ':copy', ':create', 'mailboxexists', '/* c */', '# c\n', '"', ':', '\u00e9', '99999999999999999999', '${hex:41}',
];

test('fuzz: 3,000 garbled scripts never throw from compile or run', async () => {
  const random = rng(20261204);
  const e = env({ headers: ['From: a@b.example', 'To: user@example.com', 'Subject: a?b xyz', 'Date: Tue, 1 Apr 1997 09:06:31 -0800'] });
  let compiled = 0;
  const clock = servedClock(); // served time: less other processes' load (served-time.ts)
  for (let i = 0; i < 3000; i++) {
    const n = 1 + Math.floor(random() * 30);
    const parts: string[] = [];
    for (let j = 0; j < n; j++) parts.push(FRAGMENTS[Math.floor(random() * FRAGMENTS.length)]!);
    let source = parts.join(random() < 0.8 ? ' ' : '');
    if (random() < 0.2) {
      // Truncate or splice raw characters to reach the lexer's corners.
      const cut = Math.floor(random() * source.length);
      source = source.slice(0, cut) + String.fromCharCode(Math.floor(random() * 128)) + source.slice(cut + 1);
    }
    const r = compileSieve(source);
    if (!r.ok) {
      for (const d of r.errors) {
        assert.ok(d.line >= 1 && d.column >= 1 && d.message.length > 0, `bad diagnostic for ${JSON.stringify(source)}`);
      }
      continue;
    }
    compiled++;
    const out = await runSieve(r.script, e);
    assert.ok(Array.isArray(out.actions), JSON.stringify(source));
    if (out.error) assert.deepEqual(out.actions.map((a) => a.type), ['keep']);
  }
  assert.ok(compiled > 0, 'some garbled scripts are valid and were run');
  assert.ok(clock.served() < 60_000);
});

test('fuzz: 3,000 mutations of the valid scripts of these tests never throw; failures keep the message', async () => {
  const dir = new URL('.', import.meta.url);
  const text = ['base', 'extensions', 'vacation', 'editheader'].map((f) => readFileSync(new URL(`${f}.test.ts`, dir), 'utf8')).join('\n');
  const seeds = [...text.matchAll(/`(require[^`]*)`/g)].map((m) => m[1]!.replace(/\\\$/g, '$'));
  assert.ok(seeds.length > 10, `seed scripts found (${seeds.length})`);
  const random = rng(5463);
  const e = env({
    headers: ['From: "A" <a@b.example>', 'To: user@example.com, x+y@z.example', 'Subject: =?UTF-8?B?w6k=?= x', 'Date: Tue, 1 Apr 1997 09:06:31 -0800', 'List-Id: <l.example>'],
  });
  let ran = 0;
  for (let i = 0; i < 3000; i++) {
    let s = seeds[Math.floor(random() * seeds.length)]!;
    for (let j = 1 + Math.floor(random() * 4); j > 0; j--) {
      const p = Math.floor(random() * (s.length + 1));
      const k = random();
      if (k < 0.3) s = s.slice(0, p) + s.slice(p + 1 + Math.floor(random() * 5));
      else if (k < 0.6) {
        const q = Math.floor(random() * s.length);
        s = s.slice(0, p) + s.slice(q, q + Math.floor(random() * 20)) + s.slice(p);
      } else {
        s = s.slice(0, p) + '"*?${1}\\;{}()[],:#/*'[Math.floor(random() * 20)] + s.slice(p);
      }
    }
    const c = compileSieve(s);
    if (!c.ok) continue;
    ran++;
    const out = await runSieve(c.script, e);
    if (out.error) {
      assert.deepEqual(out.actions.map((a) => a.type), ['keep'], s);
      assert.doesNotMatch(out.error, /runtime error|internal/, `an unexpected exception for ${JSON.stringify(s)}`);
    }
  }
  assert.ok(ran > 50, `some mutants were valid and ran (${ran})`);
});
