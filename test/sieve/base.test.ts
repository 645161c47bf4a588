/**
 * The base language (RFC 5228) run against the RFC's own messages A and B (§2.x): control,
 * actions, tests, comparators, match types, address parts, implicit keep (§2.10.2), duplicate
 * actions (§2.10.3) and runtime errors keeping the message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSieve } from '../../src/sieve/index.js';
import { compile, env, run, type EnvOptions } from './helpers.js';

const A: EnvOptions = {
  from: 'coyote@desert.example.org',
  to: 'roadrunner@acme.example.com',
  headers: ['Date: Tue, 1 Apr 1997 09:06:31 -0800 (PST)', 'From: coyote@desert.example.org', 'To: roadrunner@acme.example.com', 'Subject: I have a present for you'],
  body: "Look, I'm sorry about the whole anvil thing\r\n",
};
const B: EnvOptions = {
  from: 'b1ff@de.res.example.com',
  to: 'rube@landru.example.com',
  headers: [
    'From: youcouldberich!@reply-by-postal-mail.invalid',
    'Sender: b1ff@de.res.example.com',
    'To: rube@landru.example.com',
    'Date:  Mon, 31 Mar 1997 18:26:10 -0800',
    'Subject: $$$ YOU, TOO, CAN BE A MILLIONAIRE! $$$',
  ],
  body: 'YOU MAY HAVE ALREADY WON TEN MILLION DOLLARS\r\n',
};

test('RFC 5228 §3.1: if/elsif/else — A goes to acm, B to postmaster, others to field', async () => {
  const script = `if header :contains ["From"] ["coyote"] {
     redirect "acm@example.com";
  } elsif header :contains "Subject" "$$$" {
     redirect "postmaster@example.com";
  } else {
     redirect "field@example.com";
  }`;
  assert.deepEqual((await run(script, A)).actions, [{ type: 'redirect', address: 'acm@example.com', copy: false }]);
  assert.deepEqual((await run(script, B)).actions, [{ type: 'redirect', address: 'postmaster@example.com', copy: false }]);
  assert.deepEqual((await run(script)).actions, [{ type: 'redirect', address: 'field@example.com', copy: false }]);
});

test('RFC 5228 §3.1: both A and B are discarded; others filed into INBOX (= keep)', async () => {
  const script = `require "fileinto";
    if header :contains "from" "coyote" { discard; }
    elsif header :contains ["subject"] ["$$$"] { discard; }
    else { fileinto "INBOX"; }`;
  assert.deepEqual((await run(script, A)).actions, [{ type: 'discard' }]);
  assert.deepEqual((await run(script, B)).actions, [{ type: 'discard' }]);
  assert.deepEqual((await run(script)).actions, [{ type: 'fileinto', mailbox: 'INBOX', copy: false, create: false }]);
});

test('RFC 5228 §9: the extended example files each message where the RFC says', async () => {
  const script = `require ["fileinto"];
    if header :is "Sender" "owner-ietf-mta-filters@imc.org" { fileinto "filter"; }
    elsif address :DOMAIN :is ["From", "To"] "example.com" { keep; }
    elsif anyof (NOT address :all :contains ["To", "Cc", "Bcc"] "me@example.com",
                 header :matches "subject" ["*make*money*fast*", "*university*dipl*mas*"]) { fileinto "spam"; }
    else { fileinto "personal"; }`;
  const list = await run(script, { headers: ['Sender: owner-ietf-mta-filters@imc.org', 'To: me@example.com'] });
  assert.deepEqual(list.actions, [{ type: 'fileinto', mailbox: 'filter', copy: false, create: false }]);
  const company = await run(script, { headers: ['From: Boss <boss@EXAMPLE.com>', 'To: me@example.com'] });
  assert.deepEqual(company.actions, [{ type: 'keep' }]);
  const notToMe = await run(script, { headers: ['From: x@other.example', 'To: you@other.example'] });
  assert.deepEqual(notToMe.actions, [{ type: 'fileinto', mailbox: 'spam', copy: false, create: false }]);
  const spam = await run(script, { headers: ['From: x@other.example', 'To: list@other.example', 'Cc: me@example.com', 'Subject: Make MONEY very fast'] });
  assert.deepEqual(spam.actions, [{ type: 'fileinto', mailbox: 'spam', copy: false, create: false }]);
  const personal = await run(script, { headers: ['From: x@other.example', 'Cc: "Me" <me@example.com>', 'Subject: lunch'] });
  assert.deepEqual(personal.actions, [{ type: 'fileinto', mailbox: 'personal', copy: false, create: false }]);
});

test('RFC 5228 §5.4 envelope, §5.5 exists, §5.9 size, §5.1 address :is :all', async () => {
  assert.deepEqual((await run('require "envelope"; if envelope :all :is "from" "tim@example.com" { discard; }', { from: 'tim@example.com' })).actions, [{ type: 'discard' }]);
  assert.deepEqual((await run('require "envelope"; if envelope :domain :is "to" "ACME.example.com" { discard; }', A)).actions, [{ type: 'discard' }]);
  assert.deepEqual((await run('require "envelope"; if envelope :is "from" "" { discard; }', { from: '' })).actions, [{ type: 'discard' }]);
  assert.deepEqual((await run('if not exists ["From","Date"] { discard; }', A)).actions, [{ type: 'keep' }]);
  assert.deepEqual((await run('if not exists ["From","Date"] { discard; }')).actions, [{ type: 'discard' }]);
  assert.deepEqual((await run('if size :over 500K { discard; }', A)).actions, [{ type: 'keep' }]);
  assert.deepEqual((await run('if size :under 1M { keep; } else { discard; }', A)).actions, [{ type: 'keep' }]);
  assert.deepEqual((await run('if address :is :all "from" "tim@example.com" { discard; }', { headers: ['From: "Tim" <tim@example.com>'] })).actions, [{ type: 'discard' }]);
  assert.deepEqual((await run('if address :localpart :is "to" "roadrunner" { discard; }', A)).actions, [{ type: 'discard' }]);
});

test('RFC 5228 §2.7.3 and RFC 4790: comparators', async () => {
  const subj = { headers: ['Subject: MoNeY 042'] };
  assert.deepEqual((await run('if header :contains :comparator "i;octet" "Subject" "MAKE MONEY FAST" { discard; }', subj)).actions, [{ type: 'keep' }]);
  assert.deepEqual((await run('if header :contains "Subject" "money" { discard; }', subj)).actions, [{ type: 'discard' }]);
  assert.deepEqual((await run('if header :contains :comparator "i;octet" "Subject" "money" { discard; }', subj)).actions, [{ type: 'keep' }]);
  const numeric = 'require ["comparator-i;ascii-numeric"]; if header :is :comparator "i;ascii-numeric" "X-N" "42" { discard; }';
  assert.deepEqual((await run(numeric, { headers: ['X-N: 0042abc'] })).actions, [{ type: 'discard' }]);
  assert.deepEqual((await run(numeric, { headers: ['X-N: 43'] })).actions, [{ type: 'keep' }]);
  // Strings not starting with a digit are all equal ("positive infinity", RFC 4790 §9.1.1).
  const inf = 'require ["comparator-i;ascii-numeric"]; if header :is :comparator "i;ascii-numeric" "X-N" "abc" { discard; }';
  assert.deepEqual((await run(inf, { headers: ['X-N: xyz'] })).actions, [{ type: 'discard' }]);
});

test(':matches wildcards: "*" any run, "?" one character, "\\" quotes (RFC 5228 §2.7.1)', async () => {
  const m = async (subject: string, pattern: string): Promise<boolean> =>
    (await run(`if header :matches "Subject" ${JSON.stringify(pattern)} { discard; }`, { headers: [`Subject: ${subject}`] })).actions[0]!.type === 'discard';
  assert.equal(await m('hello world', 'hello*'), true);
  assert.equal(await m('hello world', '*WORLD'), true);
  assert.equal(await m('hello world', 'h?llo*'), true);
  assert.equal(await m('hello world', 'h?llo'), false);
  assert.equal(await m('a*b', 'a\\*b'), true);
  assert.equal(await m('axb', 'a\\*b'), false);
  assert.equal(await m('what?', 'what\\?'), true);
  assert.equal(await m('whatx', 'what\\?'), false);
  assert.equal(await m('Grüße', 'Gr??e'), true);
  assert.equal(await m('', '*'), true);
  assert.equal(await m('abc', '*a*b*c*'), true);
  assert.equal(await m('abcabd', '*a*d'), true);
  assert.equal(await m('ab', 'a*b*c'), false);
});

test('header test decodes RFC 2047 encoded words (RFC 5228 §2.7.2) and unfolds', async () => {
  const e = { headers: ['Subject: =?UTF-8?B?R3LDvMOfZQ==?= und', ' mehr'] };
  assert.deepEqual((await run('if header :is "subject" "Grüße und mehr" { discard; }', e)).actions, [{ type: 'discard' }]);
  const addr = { headers: ['From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>, "Group": a@b.example, c@d.example;'] };
  assert.deepEqual((await run('if address :domain :is "from" "d.example" { discard; }', addr)).actions, [{ type: 'discard' }]);
});

test('implicit keep (§2.10.2): cancelled by discard, fileinto, redirect; not by keep alone', async () => {
  assert.deepEqual((await run('require "fileinto"; fileinto "a";')).actions, [{ type: 'fileinto', mailbox: 'a', copy: false, create: false }]);
  assert.deepEqual((await run('redirect "x@example.net";')).actions, [{ type: 'redirect', address: 'x@example.net', copy: false }]);
  assert.deepEqual((await run('discard; keep;')).actions, [{ type: 'discard' }, { type: 'keep' }]);
  assert.deepEqual((await run('if false { discard; }')).actions, [{ type: 'keep' }]);
  assert.deepEqual((await run('discard; stop; keep;')).actions, [{ type: 'discard' }]);
});

test('duplicate actions are collapsed (§2.10.3)', async () => {
  const out = await run('require "fileinto"; fileinto "a"; fileinto "b"; fileinto "a"; redirect "x@EXAMPLE.net"; redirect "x@example.net"; keep; fileinto "INBOX"; keep;');
  assert.deepEqual(out.actions, [
    { type: 'fileinto', mailbox: 'a', copy: false, create: false },
    { type: 'fileinto', mailbox: 'b', copy: false, create: false },
    { type: 'redirect', address: 'x@EXAMPLE.net', copy: false },
    { type: 'keep' },
  ]);
});

test('limits at run time keep the message and say why', async () => {
  const many = Array.from({ length: 40 }, (_, i) => `fileinto "f${i}";`).join('\n');
  const out = await run(`require "fileinto";\n${many}`);
  assert.deepEqual(out.actions, [{ type: 'keep' }]);
  assert.match(out.error ?? '', /^line 34: more than 32 actions \(maxActions\)/);
  const redirects = await run('redirect "a@x.example"; redirect "b@x.example"; redirect "c@x.example";', {}, { maxRedirects: 2 });
  assert.deepEqual(redirects.actions, [{ type: 'keep' }]);
  assert.match(redirects.error ?? '', /line 1: more than 2 redirects \(maxRedirects\)/);
  const slow = await run('if header :matches "subject" "*" { discard; }', {}, { maxRunMilliseconds: -1 });
  assert.deepEqual(slow.actions, [{ type: 'keep' }]);
  assert.match(slow.error ?? '', /maxRunMilliseconds/);
});

test('a script not made by compileSieve is refused with keep, not a crash', async () => {
  const out = await runSieve({ requires: [] }, env());
  assert.deepEqual(out.actions, [{ type: 'keep' }]);
  assert.ok(out.error);
  compile('keep;');
});
