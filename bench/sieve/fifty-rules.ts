/**
 * The 50-rule Sieve script of `bench:lmtp`'s Sieve rows, the same text for Postroom and for
 * Dovecot's Pigeonhole, and the message variants that exercise it. Rules of the kinds people
 * write: mailing lists by List-Id, partners by sender domain (address tests), tickets by subject
 * (:matches), alerts by recipient local part, spam senders by envelope, invoices (allof), with
 * fileinto :create, flags and stop. Most messages run through all 50 rules and are kept with a
 * flag; one in ten is filed to a list folder early, one in ten to Tickets half-way.
 */
const rules: string[] = [];
for (let n = 1; n <= 10; n++) rules.push(`if header :contains "list-id" "<list${n}.lists.example.org>" { fileinto :create "Lists/list${n}"; stop; }`);
for (let n = 1; n <= 10; n++) rules.push(`if address :is :domain "from" "partner${n}.example.com" { addflag "$Partner"; }`);
for (let n = 1; n <= 10; n++) rules.push(`if header :matches "subject" "*[ticket #${n}]*" { fileinto :create "Tickets"; stop; }`);
for (let n = 1; n <= 10; n++) rules.push(`if address :localpart :is "to" "alerts${n}" { addflag "\\\\Flagged"; }`);
for (let n = 1; n <= 5; n++) rules.push(`if envelope :is :domain "from" "spam${n}.example.net" { discard; stop; }`);
for (let n = 1; n <= 4; n++) rules.push(`if allof (header :contains "subject" "invoice", address :is :domain "from" "billing${n}.example.com") { fileinto :create :flags "$Invoice" "Invoices"; stop; }`);
rules.push('if header :matches "from" "*@bench.test*" { addflag "$Bench"; }');

export const FIFTY_RULE_SCRIPT = `require ["fileinto", "mailbox", "imap4flags", "envelope"];\r\n${rules.join('\r\n')}\r\n`;

if (rules.length !== 50) throw new Error(`the benchmark script has ${rules.length} rules, not 50`);

import type { DeliveryAction, DeliveryFilter, DeliveryOutcome } from '../../src/delivery/types.js';
import { ChunkChannel } from '../../src/delivery/channel.js';
import type { DeliveryPipeline } from '../../src/delivery/pipeline.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MailStore } from '../../src/store/types.js';

/** Extra header fields of message `seq` (before the common header). */
export function sieveVariant(seq: number): string {
  if (seq % 10 === 0) return `List-Id: Announcements <list${1 + (seq % 7)}.lists.example.org>\r\n`;
  if (seq % 10 === 5) return `Subject: Re: [ticket #${1 + (seq % 9)}] the printer again\r\n`;
  return '';
}

const HEAD = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
const BODY = 'The quick brown fox jumps over the lazy dog. 0123456789\r\n'.repeat(Math.ceil((10 * 1024 - HEAD.length) / 58));

/** Message `seq` of the in-process Sieve benches: about 10 KB, a unique first field, the variant's fields. */
export function benchMessage(tag: string, seq: number): Buffer {
  const variant = sieveVariant(seq);
  const head = variant.startsWith('Subject:') ? HEAD.replace(/^Subject: .*\r\n/m, '') : HEAD;
  return Buffer.from(`X-Bench: ${tag}-${seq}\r\n${variant}${head}${BODY}`);
}

/** The script's decisions without running it: `sieve`'s actions, remembered per message kind (the header without X-Bench). */
export function replaying(sieve: DeliveryFilter): DeliveryFilter {
  const decided = new Map<string, readonly DeliveryAction[]>();
  const replay: DeliveryFilter = async (input) => {
    const kind = input.header.toString('latin1').replace(/^X-Bench: .*\r\n/, '');
    const known = decided.get(kind);
    if (known) return known;
    const actions = await sieve(input);
    decided.set(kind, actions);
    return actions;
  };
  if (sieve.appliesTo) replay.appliesTo = sieve.appliesTo;
  if (sieve.needsMessage) replay.needsMessage = sieve.needsMessage;
  return replay;
}

/** A SQLite store in `directory` where each of `users` exists and, unless `script` is null, has it as the active script (as ManageSieve would store it). */
export async function sieveStore(directory: string, users: readonly string[], script: string | null): Promise<SqliteStore> {
  return withUsers(await SqliteStore.open({ directory }), users, script);
}

/** `store` once each of `users` exists in it and, unless `script` is null, has it as the active script. */
export async function withUsers<S extends MailStore>(store: S, users: readonly string[], script: string | null): Promise<S> {
  for (const u of users) {
    const mail = await store.open(u);
    if (script !== null) {
      await mail.sievePut!('bench', script);
      await mail.sieveSetActive!('bench');
    }
    await mail.close();
  }
  return store;
}

/**
 * One delivery of `bytes` to `user` through the pipeline as the LMTP server's receiveLive does
 * (resolve, startLive, the body pushed through a ChunkChannel); throws unless it was stored.
 */
export async function deliverLive(pipeline: DeliveryPipeline, user: string, bytes: Buffer): Promise<Extract<DeliveryOutcome, { ok: true }>> {
  const recipient = await pipeline.resolve(`${user}@bench.test`, { user });
  const live = await pipeline.startLive('bench@bench.test', [recipient]);
  if (!live) throw new Error('not a live delivery');
  const channel = new ChunkChannel();
  const storing = live.store(channel, () => bytes.length);
  await channel.push(bytes);
  channel.end();
  const outcome = await storing;
  if (!outcome.ok) throw new Error(`delivery failed: ${JSON.stringify(outcome)}`);
  return outcome;
}
