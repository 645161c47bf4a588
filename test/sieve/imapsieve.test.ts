/**
 * RFC 6785 in the interpreter: a run for an IMAP event (SieveEnvironment.imap) — its environment
 * items (§4), the flags it starts from (§3.8), the tests and actions it refuses (§3.11, §4.6), and
 * what keep means there (the message's own mailbox). The IMAP side is test/e2e/imapsieve.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSieve, type SieveImapEvent } from '../../src/sieve/index.js';
import { compile, env } from './helpers.js';

const event = (o: Partial<SieveImapEvent> = {}): SieveImapEvent => ({
  cause: 'APPEND',
  mailbox: 'Junk',
  user: 'alice',
  email: 'alice@example.com',
  changedFlags: [],
  flags: [],
  ...o,
});

const boxes = (actions: readonly { type: string; mailbox?: string }[]): Array<string | undefined> => actions.map((a) => a.mailbox ?? a.type);

test('RFC 6785 §4: imap.* items, location MS and phase post at an IMAP event', async () => {
  const script = compile(`require ["imapsieve", "environment", "fileinto", "variables"];
    if environment :matches "imap.user" "*" { fileinto "user-\${1}"; }
    if environment :matches "imap.email" "*" { fileinto "email-\${1}"; }
    if environment :matches "imap.cause" "*" { fileinto "cause-\${1}"; }
    if environment :matches "imap.mailbox" "*" { fileinto "box-\${1}"; }
    if environment :matches "imap.changedflags" "*" { fileinto "changed-\${1}"; }
    if environment :is "location" "MS" { fileinto "ms"; }
    if environment :is "phase" "post" { fileinto "post"; }`);
  const out = await runSieve(script, { ...env(), imap: event({ cause: 'FLAG', changedFlags: ['\\Flagged', '$Work'] }) });
  assert.equal(out.error, undefined);
  assert.deepEqual(boxes(out.actions), [
    'user-alice',
    'email-alice@example.com',
    'cause-FLAG',
    'box-Junk',
    'changed-\\Flagged $Work',
    'ms',
    'post',
  ]);
});

test('RFC 6785 §4.2, §4.5: at delivery the imap.* items are empty; without require "imapsieve" they do not exist', async () => {
  const delivery = compile(`require ["imapsieve", "environment", "fileinto"];
    if environment :is "imap.user" "" { fileinto "empty-user"; }
    if environment :is "imap.cause" "" { fileinto "empty-cause"; }
    if environment :is "location" "MDA" { fileinto "mda"; }`);
  assert.deepEqual(boxes((await runSieve(delivery, env())).actions), ['empty-user', 'empty-cause', 'mda']);
  const without = compile(`require ["environment", "fileinto"];
    if environment :contains "imap.user" "" { fileinto "never"; }`);
  assert.deepEqual(boxes((await runSieve(without, { ...env(), imap: event() })).actions), ['keep']);
});

test('RFC 6785 §3.8: imap4flags starts from the message flags; keep carries the result, an empty list too', async () => {
  const add = compile(`require ["imap4flags"]; if hasflag "\\\\Flagged" { addflag "$Important"; }`);
  const out = await runSieve(add, { ...env(), imap: event({ flags: ['\\Seen', '\\Flagged'] }) });
  assert.deepEqual(out.actions, [{ type: 'keep', flags: ['\\Seen', '\\Flagged', '$Important'] }]);
  const remove = compile(`require ["imap4flags"]; removeflag "\\\\Seen";`);
  assert.deepEqual((await runSieve(remove, { ...env(), imap: event({ flags: ['\\Seen'] }) })).actions, [{ type: 'keep', flags: [] }]);
  // Without imap4flags keep says nothing of flags: the message keeps its own.
  assert.deepEqual((await runSieve(compile('keep;'), { ...env(), imap: event({ flags: ['\\Seen'] }) })).actions, [{ type: 'keep' }]);
});

test('RFC 6785 §3: keep is the message mailbox — fileinto it is the same keep, fileinto INBOX from Junk is not', async () => {
  const script = compile(`require ["fileinto", "imap4flags"]; fileinto :flags "\\\\Seen" "Junk"; fileinto "INBOX"; keep;`);
  const out = await runSieve(script, { ...env(), imap: event({ mailbox: 'Junk' }) });
  // The fileinto of the message's own mailbox and the keep are one keep (RFC 5228 §2.10.3), with its flags.
  assert.deepEqual(out.actions, [{ type: 'keep', flags: ['\\Seen'] }, { type: 'fileinto', mailbox: 'INBOX', copy: false, create: false, flags: [] }]);
});

test('RFC 6785 §4.6 and §3.11: envelope, reject, ereject and vacation end the run with an error at an IMAP event', async () => {
  const envelope = await runSieve(compile('require "envelope"; if envelope :is "from" "a@b.example" { discard; }'), { ...env(), imap: event() });
  assert.match(envelope.error ?? '', /envelope test cannot be used for an IMAP event/);
  for (const [ext, use] of [['reject', 'reject "no";'], ['ereject', 'ereject "no";'], ['vacation', 'vacation "away";']] as const) {
    const out = await runSieve(compile(`require "${ext}"; if false { ${use} }`), { ...env(), imap: event() });
    assert.match(out.error ?? '', new RegExp(`"${ext}" cannot be used for an IMAP event`));
    assert.deepEqual(out.actions, [{ type: 'keep' }]);
    // At delivery the same script runs.
    assert.equal((await runSieve(compile(`require "${ext}"; if false { ${use} }`), env())).error, undefined);
  }
});
