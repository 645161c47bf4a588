/**
 * editheader (RFC 5293): addheader (first, or :last), deleteheader (all, by value, by :index and
 * :last), later tests seeing the change, the changed header in the outcome, protected fields.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileError, run, type EnvOptions } from './helpers.js';

const msg: EnvOptions = {
  headers: [
    'Received: from a by b; Sat, 6 Dec 2025 12:00:00 +0000',
    'Delivered-To: bob@example.com',
    'From: a@b.example',
    'Subject: hello',
    'Delivered-To: alice@example.com',
    'X-Long: first line',
    '  continued',
  ],
};

test('addheader puts the field first, or last with :last; non-ASCII is encoded, long values folded', async () => {
  const out = await run('require "editheader"; addheader "X-Source" "mail.example.com"; addheader :last "X-Note" "Grüße aus Köln";', msg);
  const header = out.header?.toString() ?? '';
  assert.ok(header.startsWith('X-Source: mail.example.com\r\nReceived: from a'), header);
  assert.ok(header.endsWith('X-Long: first line\r\n  continued\r\nX-Note: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\r\n\r\n'), header);
  // The implicit keep stores the header as the script left it.
  assert.deepEqual(out.actions, [{ type: 'keep', header: out.header }]);
  const long = await run(`require "editheader"; addheader "X-Long-Value" "${'word '.repeat(40).trim()}";`, msg);
  const first = long.header!.toString().split('\r\n\r\n')[0]!.split('\r\n');
  assert.ok(first.every((l) => l.length <= 78), JSON.stringify(first));
  assert.ok(first[1]!.startsWith(' '));
});

test('RFC 5293: a filtered-marker added before redirect is seen by a later test', async () => {
  const script = `require "editheader";
    if not header :contains "X-Sieve-Filtered" ["<kim@job.example.com>", "<kim@home.example.com>"] {
      addheader "X-Sieve-Filtered" "<kim@job.example.com>";
      redirect "kim@home.example.com";
    }
    if header :contains "X-Sieve-Filtered" "<kim@job.example.com>" { addheader :last "X-Seen" "yes"; }`;
  const fresh = await run(script, msg);
  assert.equal(fresh.actions.length, 1);
  const redirect = fresh.actions[0]!;
  assert.ok(redirect.type === 'redirect' && redirect.address === 'kim@home.example.com' && !redirect.copy);
  assert.match(fresh.header!.toString(), /^X-Sieve-Filtered: <kim@job\.example\.com>\r\n[\s\S]*X-Seen: yes\r\n\r\n$/);
  // The redirect carries the header as it was when it ran: the marker, not the later X-Seen.
  assert.match(redirect.header!.toString(), /^X-Sieve-Filtered: <kim@job\.example\.com>\r\n/);
  assert.doesNotMatch(redirect.header!.toString(), /X-Seen/);
  const again = await run(script, { headers: ['X-Sieve-Filtered: <kim@home.example.com>', 'From: a@b.example'] });
  assert.deepEqual(again.actions, [{ type: 'keep' }]);
  assert.equal(again.header, undefined, 'the header is reported only when changed');
});

test('deleteheader: every field of a name, by value, by :index and :last; folded fields go whole', async () => {
  const lines = async (script: string): Promise<string[]> => {
    const out = await run(`require "editheader"; ${script}`, msg);
    assert.equal(out.error, undefined);
    return (out.header ?? Buffer.from(msg.headers!.join('\r\n'))).toString().split('\r\n').filter((l) => l !== '');
  };
  assert.ok(!(await lines('deleteheader "delivered-to";')).some((l) => l.startsWith('Delivered-To')));
  const byValue = await lines('deleteheader :contains "Delivered-To" "alice";');
  assert.deepEqual(byValue.filter((l) => l.startsWith('Delivered-To')), ['Delivered-To: bob@example.com']);
  const first = await lines('deleteheader :index 1 :is "Delivered-To" "bob@example.com";');
  assert.deepEqual(first.filter((l) => l.startsWith('Delivered-To')), ['Delivered-To: alice@example.com']);
  const notFirst = await lines('deleteheader :index 1 :is "Delivered-To" "alice@example.com";');
  assert.equal(notFirst.filter((l) => l.startsWith('Delivered-To')).length, 2);
  const last = await lines('deleteheader :index 1 :last "Delivered-To";');
  assert.deepEqual(last.filter((l) => l.startsWith('Delivered-To')), ['Delivered-To: bob@example.com']);
  const folded = await lines('deleteheader "x-long";');
  assert.ok(!folded.some((l) => l.includes('continued') || l.startsWith('X-Long')));
  const gone = await run('require "editheader"; deleteheader "subject"; if not exists "subject" { discard; }', msg);
  assert.deepEqual(gone.actions, [{ type: 'discard' }]);
});

test('Received and Auto-Submitted cannot be changed; field names and :last are checked', async () => {
  assert.match(compileError('require "editheader"; deleteheader "Received";').message, /"Received" header field cannot be changed/);
  assert.match(compileError('require "editheader"; addheader "auto-submitted" "no";').message, /cannot be changed/);
  assert.match(compileError('require "editheader"; addheader "Bad Name" "x";').message, /not a valid header field name/);
  assert.match(compileError('require "editheader"; deleteheader :last "X";').message, /":last" needs ":index"/);
  const viaVariable = await run('require ["editheader", "variables"]; set "f" "received"; deleteheader "${f}";', msg);
  assert.deepEqual(viaVariable.actions, [{ type: 'keep' }]);
  assert.match(viaVariable.error ?? '', /cannot be changed/);
  assert.equal(viaVariable.header, undefined, 'after an error the message is kept as received');
});

test('RFC 5293: an edit applies to the actions after it, not to those before; the implicit keep gets the final header', async () => {
  const out = await run(
    `require ["editheader", "fileinto", "copy"];
     fileinto :copy "Before";
     addheader "X-Step" "one";
     fileinto :copy "Middle";
     deleteheader "subject";`,
    msg,
  );
  const [before, middle, keep] = out.actions as Array<{ type: string; mailbox?: string; header?: Buffer }>;
  assert.equal(before!.mailbox, 'Before');
  assert.equal(before!.header, undefined, 'filed before any edit: as received');
  assert.equal(middle!.mailbox, 'Middle');
  assert.match(middle!.header!.toString(), /^X-Step: one\r\n[\s\S]*^Subject: /m);
  assert.equal(keep!.type, 'keep');
  assert.match(keep!.header!.toString(), /^X-Step: one\r\n/);
  assert.doesNotMatch(keep!.header!.toString(), /^Subject: /m);
});
