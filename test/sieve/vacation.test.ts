/**
 * vacation (RFC 5230): the RFC's examples, the default subject (§5.4) and handle (§4.2), and the
 * rules that keep it from answering robots, lists and mail not addressed to the user (§4.5,
 * §4.6, RFC 3834). Remembering whom it answered is the delivery side's work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SieveAction } from '../../src/sieve/index.js';
import { compileError, run, type EnvOptions } from './helpers.js';

type Vacation = Extract<SieveAction, { type: 'vacation' }>;

const base = (headers: string[], extra: EnvOptions = {}): EnvOptions => ({
  from: 'tweety@cage.example.org',
  to: 'user@example.com',
  headers: ['From: Tweety <tweety@cage.example.org>', 'To: user@example.com', 'Message-ID: <m1@cage.example.org>', ...headers],
  ...extra,
});

async function vacation(script: string, o: EnvOptions): Promise<Vacation | undefined> {
  const out = await run(script, o);
  assert.equal(out.error, undefined);
  return out.actions.find((a): a is Vacation => a.type === 'vacation');
}

test('RFC 5230 §4: vacation by subject; the default subject is "Auto: " + the original (§5.4)', async () => {
  const script = `require "vacation";
    if header :contains "subject" "cyrus" { vacation "I'm out -- send mail to cyrus-bugs"; }
    else { vacation "I'm out -- call me at +1 304 555 0123"; }`;
  const out = await run(script, base(['Subject: cyrus problem']));
  const v = out.actions[0] as Vacation;
  assert.equal(v.type, 'vacation');
  assert.equal(v.reason, "I'm out -- send mail to cyrus-bugs");
  assert.equal(v.to, 'tweety@cage.example.org');
  assert.equal(v.subject, 'Auto: cyrus problem');
  assert.equal(v.seconds, 7 * 86400);
  assert.equal(v.inReplyTo, '<m1@cage.example.org>');
  assert.equal(v.mime, false);
  // vacation does not cancel the implicit keep (§4.7).
  assert.deepEqual(out.actions[1], { type: 'keep' });
  const other = await vacation(script, base([]));
  assert.equal(other?.reason, "I'm out -- call me at +1 304 555 0123");
  assert.equal(other?.subject, 'Automated reply');
  // §4.2: without :handle, different replies have different handles, the same reply the same one.
  assert.notEqual(other?.handle, v.handle);
  assert.equal((await vacation(script, base(['Subject: more cyrus'])))?.handle, v.handle);
});

test('RFC 5230 §4.2: :handle and :subject with variables', async () => {
  const lunch = `require "vacation";
    if header :contains "subject" "lunch" { vacation :handle "ran-away" "I'm out and can't meet for lunch"; }
    else { vacation :handle "ran-away" "I'm out"; }`;
  assert.equal((await vacation(lunch, base(['Subject: lunch?'])))?.handle, 'ran-away');
  assert.equal((await vacation(lunch, base([])))?.handle, 'ran-away');
  const subj = `require ["vacation", "variables"];
    if header :matches "subject" "*" { vacation :subject "Automatic response to: \${1}" "I'm away -- send mail to foo in my absence"; }`;
  assert.equal((await vacation(subj, base(['Subject: =?UTF-8?Q?caf=C3=A9?='])))?.subject, 'Automatic response to: café');
});

test('RFC 5230 §4.5: :days, :addresses, :from, :mime; answered only when addressed to the user', async () => {
  const script = `require "vacation";
    vacation :days 23 :addresses ["tjs@example.edu", "ts4z@landru.example.edu"] :from "Tim <tjs@example.edu>" :mime
    "I'm away until October 19.
If it's an emergency, call 911, I guess." ;`;
  const v = await vacation(script, base([], { to: 'tjs@example.edu', headers: ['From: a@x.example', 'Cc: TS4Z@landru.example.edu'] }));
  assert.equal(v?.seconds, 23 * 86400);
  assert.equal(v?.from, 'Tim <tjs@example.edu>');
  assert.equal(v?.mime, true);
  assert.equal(v?.reason, "I'm away until October 19.\r\nIf it's an emergency, call 911, I guess.");
  // Not addressed to any of the user's addresses (Bcc'd or via a list): no answer.
  assert.equal(await vacation(script, { from: 'a@x.example', to: 'tjs@example.edu', headers: ['From: a@x.example', 'To: someone@else.example'] }), undefined);
  // The user's configured addresses count, and so does the recipient with a detail removed.
  const plain = 'require "vacation"; vacation "away";';
  assert.ok(await vacation(plain, { from: 'a@x.example', to: 'me+tag@example.com', headers: ['To: Me <ME@example.com>'] }));
  assert.ok(await vacation(plain, { from: 'a@x.example', to: 'box@example.com', userAddresses: ['alias@example.com'], headers: ['To: alias@example.com'] }));
  // :days 0 is raised to the minimum of one day (§4.1); vacation-seconds allows :seconds.
  assert.equal((await vacation('require "vacation"; vacation :days 0 "x";', base([])))?.seconds, 86400);
  assert.equal((await vacation('require "vacation-seconds"; vacation :seconds 60 "x";', base([])))?.seconds, 60);
  assert.match(compileError('require "vacation"; vacation :seconds 60 "x";').message, /":seconds" needs require "vacation-seconds"/);
  assert.match(compileError('require "vacation"; vacation :from "not an address" "x";').message, /":from" is not a valid address/);
});

test('RFC 5230 §4.6 and RFC 3834: no answer to robots, lists, bulk or auto-submitted mail', async () => {
  const script = 'require "vacation"; vacation "away";';
  const refused: Array<[string, EnvOptions]> = [
    ['null sender', base([], { from: '' })],
    ['MAILER-DAEMON', base([], { from: 'MAILER-DAEMON@example.org' })],
    ['owner-*', base([], { from: 'owner-list@example.org' })],
    ['*-request', base([], { from: 'list-request@example.org' })],
    ['LISTSERV', base([], { from: 'listserv@example.org' })],
    ['List-Id', base(['List-Id: <list.example.org>'])],
    ['List-Unsubscribe', base(['List-Unsubscribe: <mailto:leave@example.org>'])],
    ['Precedence: bulk', base(['Precedence: bulk'])],
    ['Precedence: junk', base(['Precedence: Junk'])],
    ['Precedence: list', base(['Precedence: list'])],
    ['Auto-Submitted: auto-replied', base(['Auto-Submitted: auto-replied'])],
    ['Auto-Submitted: auto-generated', base(['Auto-Submitted: auto-generated; type=x'])],
    ['from the user', base([], { from: 'user@example.com' })],
  ];
  for (const [name, o] of refused) {
    const out = await run(script, o);
    assert.deepEqual(out.actions, [{ type: 'keep' }], name);
  }
  assert.ok(await vacation(script, base(['Auto-Submitted: no'])), 'Auto-Submitted: no is answered');
  assert.ok(await vacation(script, base([], { from: 'postmaster@example.org' })), 'postmaster is a person (§4.6)');
});

test('RFC 5230 §4.7: vacation with redirect; a second vacation is an error', async () => {
  const script = `require "vacation";
    if header :contains "from" "boss@example.edu" { redirect "pleeb@isp.example.org"; }
    else { vacation "Sorry, I'm away, I'll read your message when I get around to it."; }`;
  assert.deepEqual((await run(script, base([], { headers: ['From: boss@example.edu', 'To: user@example.com'] }))).actions, [
    { type: 'redirect', address: 'pleeb@isp.example.org', copy: false },
  ]);
  const twice = await run('require "vacation"; vacation "a"; vacation "b";', base([]));
  assert.deepEqual(twice.actions, [{ type: 'keep' }]);
  assert.match(twice.error ?? '', /only one vacation/);
});
