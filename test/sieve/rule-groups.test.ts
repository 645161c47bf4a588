/**
 * Rule groups (src/sieve/groups.ts): consecutive `if` commands whose prepared tests read the same
 * values are answered together — values read once, :is members by one lookup, :contains/:matches
 * members skipped together when no value has the string they all need — and must act exactly as
 * the commands one by one: the same actions in the same order, stop and errors where they were,
 * blocks that wait (mailboxexists, body) continuing the group, editheader and variables (which
 * can change what a later test reads) never grouped. Random scripts are compared with the same
 * script requiring "variables", which prepares and groups nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSieve, type SieveScript } from '../../src/sieve/index.js';
import { programOf } from '../../src/sieve/compile.js';
import type { Instruction } from '../../src/sieve/program.js';
import { compile, env, rng, run } from './helpers.js';

/** Every group of the script: [size, …] in the order they come. */
function groups(script: SieveScript): number[] {
  const out: number[] = [];
  const visit = (list: readonly Instruction[]): void => {
    for (const c of list) {
      if (c.group) out.push(c.group.count);
      if (c.block) visit(c.block);
    }
  };
  visit(programOf(script)!.commands);
  return out;
}

const REQUIRE = 'require ["fileinto", "imap4flags", "envelope", "subaddress", "mailbox", "copy"];';

test('rules on one field are grouped; different fields, comparators, address parts and elsif break a group', () => {
  const script = compile(`${REQUIRE}
if address :is :domain "from" "a.example" { addflag "$A"; }
if address :is :domain "from" "b.example" { addflag "$B"; }
if address :matches :domain "from" "*.c.example" { addflag "$C"; }
if address :is :localpart "from" "x" { addflag "$X"; }
if address :is :localpart "from" "y" { addflag "$Y"; }
if header :comparator "i;octet" :is "subject" "S" { addflag "$S1"; }
if header :is "subject" "S" { addflag "$S2"; }
if header :contains "subject" "one" { addflag "$1"; }
if header :contains "subject" "two" { addflag "$2"; } elsif header :contains "subject" "three" { addflag "$3"; }
if envelope :is :domain "from" "e.example" { addflag "$E1"; }
if envelope :is :domain "from" "f.example" { if header :is "x-a" "1" { addflag "$N1"; } if header :is "x-a" "2" { addflag "$N2"; } }
`);
  // from's domain ×3, from's local part ×2, (subject under i;octet alone), subject under
  // i;ascii-casemap ×2 ("two" is followed by elsif), envelope ×2, and the two nested rules.
  assert.deepEqual(groups(script), [3, 2, 2, 2, 2]);
});

test('members act in order: a stop in one member ends the run before the later members', async () => {
  const script = `${REQUIRE}
if address :is :domain "from" "a.example" { addflag "$A"; }
if address :is :domain "from" "a.example" { fileinto "First"; stop; }
if address :is :domain "from" "a.example" { fileinto "Second"; }
addflag "$End";`;
  assert.deepEqual(groups(compile(script)), [3]);
  const hit = await run(script, { headers: ['From: x@A.example', 'Subject: s'] });
  assert.deepEqual(hit, { actions: [{ type: 'fileinto', mailbox: 'First', copy: false, create: false, flags: ['$A'] }] });
  const miss = await run(script, { headers: ['From: x@b.example', 'Subject: s'] });
  assert.deepEqual(miss, { actions: [{ type: 'keep', flags: ['$End'] }] });
});

test('a runtime error in a member keeps the message and names its line; the members after it do nothing', async () => {
  const script = `require ["imap4flags", "ihave", "fileinto"];
if header :contains "subject" "alpha" { addflag "$Alpha"; }
if header :contains "subject" "al" { error "stopped here"; }
if header :contains "subject" "alp" { fileinto "Never"; }
`;
  assert.deepEqual(groups(compile(script)), [3]);
  const out = await run(script, { headers: ['Subject: ALPHA beta'] });
  assert.deepEqual(out.actions, [{ type: 'keep', flags: ['$Alpha'] }]);
  assert.match(out.error ?? '', /^line 3: error: stopped here/);
});

test('flags set by one member are what a later member adds to', async () => {
  const out = await run(`${REQUIRE}
if address :localpart :is "to" "alerts" { setflag "\\\\Flagged"; }
if address :localpart :is "to" ["other", "alerts"] { addflag "$Alert"; }
if address :localpart :is "to" "alerts" { removeflag "\\\\Flagged"; }
`, { headers: ['To: someone@example.com, alerts@example.com'] });
  assert.deepEqual(out.actions, [{ type: 'keep', flags: ['$Alert'] }]);
});

test(':comparator decides per group: i;octet and i;ascii-casemap rules on one field are answered apart', async () => {
  const script = `${REQUIRE}
if header :comparator "i;octet" :is "subject" "Hello" { addflag "$Octet"; }
if header :comparator "i;octet" :is "subject" "HELLO" { addflag "$OctetUpper"; }
if header :is "subject" "Hello" { addflag "$Fold"; }
if header :is "subject" "HELLO" { addflag "$FoldUpper"; }
if header :contains "subject" "ELL" { addflag "$FoldContains"; }
if header :comparator "i;octet" :contains "subject" "ELL" { addflag "$OctetContains"; }
`;
  assert.deepEqual(groups(compile(script)), [2, 3]);
  assert.deepEqual((await run(script, { headers: ['Subject: HELLO'] })).actions, [{ type: 'keep', flags: ['$OctetUpper', '$Fold', '$FoldUpper', '$FoldContains', '$OctetContains'] }]);
  assert.deepEqual((await run(script, { headers: ['Subject: Hello'] })).actions, [{ type: 'keep', flags: ['$Octet', '$Fold', '$FoldUpper', '$FoldContains'] }]);
});

test('a member whose block waits (mailboxexists, body) continues the group and the commands after it', async () => {
  const script = `require ["fileinto", "imap4flags", "mailbox", "body", "copy"];
if header :is "subject" "x" { if mailboxexists "Foo" { fileinto :copy "Foo"; } addflag "$One"; }
if header :is "subject" "x" { if body :contains "needle" { addflag "$Body"; } }
if header :is "subject" ["y", "x"] { addflag "$Three"; }
addflag "$End";`;
  assert.deepEqual(groups(compile(script)), [3]);
  const out = await run(script, { headers: ['Subject: x'], body: 'a needle here\r\n', mailboxes: ['INBOX', 'Foo'] });
  assert.deepEqual(out.actions, [
    { type: 'fileinto', mailbox: 'Foo', copy: true, create: false },
    { type: 'keep', flags: ['$One', '$Body', '$Three', '$End'] },
  ]);
});

test('with editheader nothing is grouped: a later test reads the header as an earlier block left it', async () => {
  const script = `require ["editheader", "imap4flags"];
if header :is "x-state" "a" { deleteheader "x-state"; addheader "X-State" "b"; addflag "$WasA"; }
if header :is "x-state" "b" { addflag "$NowB"; }
`;
  assert.deepEqual(groups(compile(script)), []);
  const out = await run(script, { headers: ['X-State: a', 'Subject: s'] });
  assert.deepEqual(out.actions.map((a) => (a.type === 'keep' ? a.flags : a.type)), [['$WasA', '$NowB']]);
});

test('with variables nothing is grouped: a key that changes between two tests is read when each test runs', async () => {
  const script = `require ["variables", "imap4flags"];
set "k" "a";
if header :is "subject" "\${k}" { set "k" "b"; addflag "$First"; }
if header :is "subject" "\${k}" { addflag "$Second"; }
if header :is "subject" "b" { addflag "$PlainB"; }
`;
  assert.deepEqual(groups(compile(script)), []);
  assert.deepEqual((await run(script, { headers: ['Subject: a'] })).actions, [{ type: 'keep', flags: ['$First'] }]);
  assert.deepEqual((await run(script, { headers: ['Subject: b'] })).actions, [{ type: 'keep', flags: ['$PlainB'] }]);
});

test('more members than one group holds are split, and each answers', async () => {
  const rules = Array.from({ length: 65 }, (_, n) => `if header :is "x-n" "${n}" { addflag "$N${n}"; }`);
  const script = `${REQUIRE}\n${rules.join('\n')}\n`;
  assert.deepEqual(groups(compile(script)), [30, 30, 5]);
  for (const n of [0, 29, 30, 31, 59, 60, 64]) {
    assert.deepEqual((await run(script, { headers: [`X-N: ${n}`] })).actions, [{ type: 'keep', flags: [`$N${n}`] }], `x-n ${n}`);
  }
  assert.deepEqual((await run(script, { headers: ['X-N: 3', 'X-N: 44'] })).actions, [{ type: 'keep', flags: ['$N3', '$N44'] }]);
});

/* Random scripts over a few fields, grouped, against the same script requiring "variables". */

const VALUES = ['<list1.lists.example.org>', '<list2.lists.example.org>', 'Re: [ticket #1] printer', '[ticket #12] x', 'Invoice 4', 'hello', 'HELLO World', '', 'a+b@partner1.example.com', 'Bench <bench@Partner2.example.com>', 'x@y.example, alerts1@z.example', '"Q, N" <alerts2@bench.test>', 'undisclosed-recipients:;'];
const FIELDS = ['subject', 'list-id', 'from', 'to'];
const KEYS = ['<list1.lists.example.org>', '<list', 'list2', '[ticket #1]', '[ticket #', 'invoice', 'hello', 'HELLO', 'partner1.example.com', 'partner2.example.com', 'alerts1', 'alerts2', 'bench.test', '', 'a', 'b'];
const PATTERNS = ['*[ticket #1]*', '*[ticket #?]*', '[ticket*', '*@bench.test*', '*list?.*', '*', '', 'hello', '*\\**', '*o*l*'];
const ACTIONS = ['addflag "$F{n}";', 'fileinto "Box{n}";', 'stop;', 'discard;', 'keep;', 'removeflag "$F1";', 'fileinto :copy "Copy{n}";'];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function randomTest(random: () => number): string {
  const field = pick(random, FIELDS);
  const comparator = random() < 0.2 ? ':comparator "i;octet" ' : '';
  const kind = pick(random, [':is', ':contains', ':matches']);
  const keyList = (): string => {
    const source = kind === ':matches' ? PATTERNS : KEYS;
    const n = random() < 0.7 ? 1 : 2;
    const keys = Array.from({ length: n }, () => JSON.stringify(pick(random, source)));
    return n === 1 ? keys[0]! : `[${keys.join(', ')}]`;
  };
  const r = random();
  if (r < 0.45 || field === 'subject' || field === 'list-id') return `header ${comparator}${kind} "${field}" ${keyList()}`;
  if (r < 0.85) return `address ${pick(random, [':all', ':domain', ':localpart', ':user', ':detail'])} ${comparator}${kind} "${field}" ${keyList()}`;
  return `envelope ${pick(random, [':domain', ':localpart'])} ${comparator}${kind} "${pick(random, ['from', 'to'])}" ${keyList()}`;
}

function randomScript(random: () => number): string {
  const lines: string[] = [];
  // Runs of rules on one field, as people write them, with now and then another rule between.
  const runs = 2 + Math.floor(random() * 4);
  let n = 0;
  for (let r = 0; r < runs; r++) {
    const test = randomTest(random);
    const len = 1 + Math.floor(random() * 6);
    for (let i = 0; i < len; i++) {
      // The same field and kind as the run's first rule, with a key of its own.
      let t = random() < 0.8 ? test.replace(/ ("[^"]*"|\[[^\]]*\])$/, () => ` ${JSON.stringify(pick(random, test.includes(':matches') ? PATTERNS : KEYS))}`) : randomTest(random);
      // Now and then an allof whose first test is the rule's (a member too: groups.ts keyTest),
      // its other tests of any kind — hasflag sees what the members before it did.
      if (random() < 0.25) t = `allof (${t}, ${random() < 0.3 ? 'hasflag "$F1"' : randomTest(random)}${random() < 0.3 ? `, ${randomTest(random)}` : ''})`;
      const action = pick(random, ACTIONS).replace('{n}', String(n++));
      const nested = random() < 0.15 ? ` if ${randomTest(random)} { addflag "$Nested${n}"; }` : '';
      lines.push(`if ${t} { ${action}${nested} }${random() < 0.1 ? ` elsif ${randomTest(random)} { addflag "$Elsif${n}"; }` : ''}`);
    }
    if (random() < 0.3) lines.push(`addflag "$Between${r}";`);
  }
  return `${REQUIRE}\n${lines.join('\n')}\n`;
}

test('random grouped scripts act as the same scripts run rule by rule', async () => {
  const random = rng(23);
  let grouped = 0;
  let outcomes = 0;
  const seen = new Set<string>();
  let allofMembers = 0;
  for (let s = 0; s < 200; s++) {
    const source = randomScript(random);
    const fast = compile(source);
    const slow = compile(source.replace('"copy"]', '"copy", "variables"]'));
    assert.deepEqual(groups(slow), []);
    if (groups(fast).length > 0) grouped++;
    if (programOf(fast)!.commands.some((c) => c.group !== null && c.group.rest !== 0)) allofMembers++;
    for (let m = 0; m < 12; m++) {
      const headers = FIELDS.filter(() => random() < 0.7).flatMap((f) => Array.from({ length: random() < 0.15 ? 2 : 1 }, () => `${f}: ${pick(random, VALUES)}`));
      const o = { headers, from: pick(random, ['x@spam1.example.net', 'a+b@partner1.example.com', '', 'bench@bench.test']), to: pick(random, ['user+alerts1@example.com', 'alerts2@bench.test']) };
      const a = await runSieve(fast, env(o));
      const b = await runSieve(slow, env(o));
      assert.deepEqual(a, b, `differ for ${JSON.stringify(o)} in\n${source}`);
      const key = JSON.stringify(a);
      if (!seen.has(key)) outcomes++;
      seen.add(key);
    }
  }
  // Sanity: most scripts had groups, and the messages took many ways through them.
  assert.ok(grouped >= 130, `only ${grouped} of 200 scripts had a group`);
  assert.ok(allofMembers >= 50, `only ${allofMembers} of 200 scripts had an allof member in a group`);
  assert.ok(outcomes >= 300, `only ${outcomes} different outcomes`);
});

test('allof rules whose first tests read the same values are one group; their other tests are asked in their turn', async () => {
  const script = `${REQUIRE}
if allof (header :contains "subject" "invoice", address :is :domain "from" "billing1.example.com") { fileinto "One"; stop; }
if allof (header :contains "subject" "invoice", hasflag "$Seen1") { addflag "$Second"; }
if header :contains "subject" "invoice" { addflag "$Seen1"; }
if allof (header :contains "subject" "invoice", hasflag "$Seen1", true) { addflag "$Fourth"; }
if allof (header :matches "subject" "*inv*", anyof (false, address :is :domain "from" "billing2.example.com")) { fileinto "Five"; }
addflag "$End";`;
  assert.deepEqual(groups(compile(script)), [5]);
  // The hasflag of the second rule is asked before the third set the flag, of the fourth after.
  assert.deepEqual((await run(script, { headers: ['Subject: An Invoice', 'From: b@billing2.example.com'] })).actions, [
    { type: 'fileinto', mailbox: 'Five', copy: false, create: false, flags: ['$Seen1', '$Fourth'] },
  ]);
  assert.deepEqual((await run(script, { headers: ['Subject: invoice', 'From: b@billing1.example.com'] })).actions, [{ type: 'fileinto', mailbox: 'One', copy: false, create: false }]);
  assert.deepEqual((await run(script, { headers: ['Subject: hello', 'From: b@billing1.example.com'] })).actions, [{ type: 'keep', flags: ['$End'] }]);
  // The bench's four invoice rules (bench/sieve/fifty-rules.ts) are one group.
  const bench = Array.from({ length: 4 }, (_, n) => `if allof (header :contains "subject" "invoice", address :is :domain "from" "billing${n + 1}.example.com") { fileinto :create :flags "$Invoice" "Invoices"; stop; }`);
  assert.deepEqual(groups(compile(`require ["fileinto", "mailbox", "imap4flags"];\n${bench.join('\n')}\n`)), [4]);
});

test('an allof member whose other test waits (body) continues the group and the commands after it', async () => {
  const script = `require ["fileinto", "imap4flags", "body"];
if allof (header :is "subject" "x", body :contains "needle") { addflag "$Body"; }
if allof (header :is "subject" "x", body :contains "absent") { addflag "$Absent"; }
if header :is "subject" "x" { addflag "$Third"; }
addflag "$End";`;
  assert.deepEqual(groups(compile(script)), [3]);
  const out = await run(script, { headers: ['Subject: x'], body: 'a needle here\r\n' });
  assert.deepEqual(out.actions, [{ type: 'keep', flags: ['$Body', '$Third', '$End'] }]);
});

test('a test written more than once is answered once per run, and again after editheader changes the header', async () => {
  const invoices = `${REQUIRE}
if allof (header :contains "subject" "invoice", address :is :domain "from" "billing1.example.com") { fileinto "One"; stop; }
if allof (header :contains "subject" "invoice", address :is :domain "from" "billing2.example.com") { fileinto "Two"; stop; }
if not header :contains "subject" "invoice" { addflag "$NoInvoice"; }
`;
  assert.equal(programOf(compile(invoices))!.memos, 1);
  assert.deepEqual((await run(invoices, { headers: ['Subject: Your INVOICE', 'From: b@billing2.example.com'] })).actions, [{ type: 'fileinto', mailbox: 'Two', copy: false, create: false }]);
  assert.deepEqual((await run(invoices, { headers: ['Subject: hello', 'From: b@billing2.example.com'] })).actions, [{ type: 'keep', flags: ['$NoInvoice'] }]);
  const edited = `require ["editheader", "imap4flags"];
if header :contains "subject" "invoice" { addflag "$First"; deleteheader "subject"; addheader "Subject" "paid"; }
if header :contains "subject" "invoice" { addflag "$Second"; }
if not header :contains "subject" "invoice" { addflag "$NotAnyMore"; }
`;
  assert.equal(programOf(compile(edited))!.memos, 1);
  const out = await run(edited, { headers: ['Subject: invoice 7'] });
  assert.deepEqual(out.actions.map((a) => (a.type === 'keep' ? a.flags : a.type)), [['$First', '$NotAnyMore']]);
});

test('a flag list shared by runs is not changed by one of them', async () => {
  const script = compile(`${REQUIRE}
if header :is "subject" "a" { addflag "$X"; }
if header :is "subject" "b" { removeflag "$X"; addflag ["$Y", "$x"]; }
addflag ["$Z", "$X"];
`);
  const first = await runSieve(script, env({ headers: ['Subject: a'] }));
  assert.deepEqual(first.actions, [{ type: 'keep', flags: ['$X', '$Z'] }]);
  const second = await runSieve(script, env({ headers: ['Subject: b'] }));
  assert.deepEqual(second.actions, [{ type: 'keep', flags: ['$Y', '$x', '$Z'] }]);
  assert.deepEqual((await runSieve(script, env({ headers: ['Subject: a'] }))).actions, first.actions);
});

test('more tests written twice than a run has memo bits: the rest are asked each time, all answer', async () => {
  const rules = Array.from({ length: 35 }, (_, n) => `if allof (header :contains "x-n" "<${n}>", true) { addflag "$A${n}"; }\nif anyof (false, header :contains "x-n" "<${n}>") { addflag "$B${n}"; }`);
  const script = `${REQUIRE}\n${rules.join('\n')}\n`;
  assert.equal(programOf(compile(script))!.memos, 30);
  for (const n of [0, 29, 30, 34]) {
    assert.deepEqual((await run(script, { headers: [`X-N: <${n}> <7>`] })).actions, [{ type: 'keep', flags: n === 7 ? [`$A7`, `$B7`] : [`$A${Math.min(n, 7)}`, `$B${Math.min(n, 7)}`, `$A${Math.max(n, 7)}`, `$B${Math.max(n, 7)}`] }], `x-n ${n}`);
  }
});

test('a group of envelope rules at an IMAP event fails at its first rule, as the rules one by one do', async () => {
  const script = compile(`require ["imapsieve", "envelope", "imap4flags"];
addflag "$Before";
if envelope :is :domain "from" "a.example" { addflag "$A"; }
if envelope :is :domain "from" "b.example" { addflag "$B"; }
`);
  assert.deepEqual(groups(script), [2]);
  const out = await runSieve(script, { ...env(), imap: { cause: 'APPEND', mailbox: 'INBOX', user: 'u', email: 'u@example.com', flags: [], changedFlags: [] } });
  assert.match(out.error ?? '', /^line 3: the envelope test cannot be used for an IMAP event/);
  assert.deepEqual(out.actions, [{ type: 'keep', flags: ['$Before'] }]);
});
