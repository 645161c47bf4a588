/**
 * What the interpreter keeps between tests and between runs (src/sieve/state.ts, tests.ts,
 * message.ts: a single string's list, keys folded per test, field values per run, :matches values
 * per run) must never carry one message's answer into another's: one compiled script run over
 * many messages in turn answers each exactly as a fresh compile of it does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSieve } from '../../src/sieve/index.js';
import { compile, env, type EnvOptions } from './helpers.js';

const SCRIPT = `require ["fileinto", "imap4flags", "envelope", "variables"];
if header :contains "list-id" "<news.example.org>" { fileinto "News"; stop; }
if address :is :domain "from" "Partner.example.com" { addflag "$Partner"; }
if address :localpart :is "to" "alerts" { addflag "\\\\Flagged"; }
if header :matches "subject" "*[ticket #*]*" { set "ticket" "\${2}"; fileinto "Tickets/\${ticket}"; }
if envelope :is :domain "from" "SPAM.example.net" { discard; stop; }
if header :matches "subject" "*" { set "s" "\${1}"; }
addflag "seen-\${s}";
if hasflag :is "SEEN-\${s}" { addflag "$Echo"; }
if allof (header :contains "subject" "INVOICE", address :is :domain "from" "billing.example.com") { fileinto "Invoices"; }
`;

const messages: EnvOptions[] = [
  { headers: ['From: a@partner.example.com', 'To: alerts@example.com', 'Subject: Re: [ticket #7] printer'] },
  { headers: ['From: b@example.org', 'To: x@example.com', 'List-Id: News <news.example.org>', 'Subject: n'] },
  { from: 'bad@spam.example.net', headers: ['From: c@example.org', 'To: y@example.com', 'Subject: buy'] },
  { headers: ['From: Billing <d@BILLING.example.com>', 'To: alerts@example.com', 'Subject: Your Invoice'] },
  { headers: ['From: e@example.org', 'To: z@example.com', 'Subject: [ticket #12] again'] },
  { headers: ['From: f@example.org', 'To: z@example.com'] },
];

test('one compiled script over many messages in turn answers each as a fresh compile does', async () => {
  const shared = compile(SCRIPT);
  const fresh = await Promise.all(messages.map(async (m) => runSieve(compile(SCRIPT), env(m))));
  // Sanity: the messages take different ways through the script.
  assert.deepEqual(
    fresh.map((o) => o.actions.map((a) => (a.type === 'fileinto' ? `fileinto ${a.mailbox}` : a.type)).join()),
    ['fileinto Tickets/7', 'fileinto News', 'discard', 'fileinto Invoices', 'fileinto Tickets/12', 'keep'],
  );
  assert.deepEqual(
    fresh.map((o) => o.actions.map((a) => ('flags' in a ? (a.flags ?? null) : null))),
    // Flags as set when each action ran; "seen-${s}" is split at the space (RFC 5232 §3), and
    // hasflag's keys, built from variables, differ from message to message.
    [[['$Partner', '\\Flagged']], [null], [null], [['\\Flagged', 'seen-Your', 'Invoice', '$Echo']], [null], [['seen-', '$Echo']]],
  );
  for (let round = 0; round < 3; round++) {
    const order = round % 2 === 0 ? messages.map((_, i) => i) : messages.map((_, i) => messages.length - 1 - i);
    for (const i of order) assert.deepEqual(await runSieve(shared, env(messages[i]!)), fresh[i], `message ${i}, round ${round}`);
  }
});
