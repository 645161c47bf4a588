/**
 * `tsx bench/sieve-steps.ts [--messages N] [--rounds R] [--concurrency C]`: what the 50-rule Sieve
 * script (bench/sieve/fifty-rules.ts) adds to one delivery, in process, without LMTP or sockets:
 * the delivery pipeline over a SQLite store without a filter and with the Sieve filter, in
 * alternating batches of the same messages, as CPU µs per delivery (process.cpuUsage: user +
 * system of this process, so other processes' load moves it less than wall time); then each step
 * of the filter alone (reading the active script, finding the compiled one, running it, the
 * flagged append, the lookup of a fileinto target).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeliveryPipeline } from '../src/delivery/pipeline.js';
import { createSieveFilter } from '../src/delivery/sieve-filter.js';
import { MessageSpool } from '../src/delivery/spool.js';
import type { Authenticator } from '../src/auth/types.js';
import type { DeliveryFilter } from '../src/delivery/types.js';
import { compileSieve, runSieve } from '../src/sieve/index.js';
import type { SqliteStore } from '../src/store/sqlite/index.js';
import { BENCH_TMP } from './servers/common.js';
import { benchMessage, FIFTY_RULE_SCRIPT, replaying, sieveStore } from './sieve/fifty-rules.js';
import { alternateRounds, median } from './sieve/alternate.js';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '400' }, rounds: { type: 'string', default: '6' }, concurrency: { type: 'string', default: '10' } },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const USERS = Array.from({ length: 10 }, (_, i) => `user${i + 1}`);

const message = benchMessage;
async function spoolOf(bytes: Buffer): Promise<MessageSpool> {
  const spool = new MessageSpool({ memoryMax: 1 << 20, maxSize: 50 << 20, directory: BENCH_TMP });
  await spool.write(bytes);
  return spool;
}

const dir = join(BENCH_TMP, 'sieve-steps');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const auth = {} as Authenticator;
const stores = new Map<string, SqliteStore>();
async function storeFor(name: string, script: boolean): Promise<SqliteStore> {
  const store = await sieveStore(join(dir, name), USERS, script ? FIFTY_RULE_SCRIPT : null);
  stores.set(name, store);
  return store;
}
const scripted = await storeFor('sieve', true);
// scriptChanges: the server's setting (src/cli/delivery.ts) — each user's active script kept compiled.
const sieve = createSieveFilter({ scriptChanges: scripted });
const replay = replaying(sieve);
const flagOnly: DeliveryFilter = async () => [{ kind: 'keep', flags: ['$Bench'] }];
const sides: Array<[string, DeliveryPipeline]> = [
  ['no filter', new DeliveryPipeline({ store: await storeFor('none', false), auth })],
  ['keep with $Bench, no Sieve', new DeliveryPipeline({ store: await storeFor('flag', false), auth, filter: flagOnly })],
  ['the script\'s actions, no Sieve', new DeliveryPipeline({ store: await storeFor('replay', true), auth, filter: replay })],
  ['Sieve, 50 rules', new DeliveryPipeline({ store: scripted, auth, filter: sieve })],
];
const withScript = stores.get('sieve')!;

let seqAll = 0;
async function batch(pipeline: DeliveryPipeline, tag: string): Promise<number> {
  const start = process.cpuUsage();
  let next = 0;
  const base = seqAll;
  const worker = async (): Promise<void> => {
    while (next < MESSAGES) {
      const seq = next++;
      const spool = await spoolOf(message(tag, base + seq));
      const user = USERS[seq % USERS.length]!;
      const [outcome] = await pipeline.deliver('bench@bench.test', [{ address: `${user}@bench.test`, user }], spool);
      if (!outcome?.ok) throw new Error(`delivery failed: ${JSON.stringify(outcome)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  seqAll += MESSAGES;
  const used = process.cpuUsage(start);
  return (used.user + used.system) / MESSAGES;
}

process.stdout.write(`deliveries in process, ${MESSAGES} per batch, ${CONCURRENCY} at a time; CPU µs per delivery, each side in turn, ${ROUNDS} rounds\n`);
const figures = await alternateRounds(sides, ROUNDS, batch);
for (const [i, [name]] of sides.entries()) {
  process.stdout.write(`${median(figures[i]!).toFixed(0).padStart(6)}  ${name}  (rounds: ${figures[i]!.map((x) => x.toFixed(0)).join(' ')})\n`);
}
process.stdout.write('\nsteps (CPU µs each, median of 5 runs):\n');

async function step(name: string, fn: (i: number) => unknown, n = 2000): Promise<void> {
  const runs: number[] = [];
  for (let k = 0; k < 5; k++) {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) await fn(i);
    const used = process.cpuUsage(start);
    runs.push((used.user + used.system) / n);
  }
  runs.sort((x, y) => x - y);
  process.stdout.write(`${runs[2]!.toFixed(1).padStart(8)}  ${name}\n`);
}
const mail = await withScript.open('user1');
if (!(await mail.list()).some((b) => b.name === 'Tickets')) await mail.create('Tickets');
const compiled = compileSieve(FIFTY_RULE_SCRIPT);
if (!compiled.ok) throw new Error('the bench script does not compile');
const headers = [0, 1, 5].map((seq) => message('step', seq).subarray(0, message('step', seq).indexOf('\r\n\r\n') + 2));
const env = (header: Buffer) => ({
  envelope: { from: 'bench@bench.test', to: 'user1@bench.test' },
  header,
  body: async () => Buffer.alloc(0),
  size: 10240,
  mailboxExists: async () => true,
  now: new Date(),
  userAddresses: ['user1@bench.test'],
});
const { createHash } = await import('node:crypto');
await step('sieveActive() (the active script read from the store)', () => mail.sieveActive!());
await step('SHA-256 of the script text (the compiled-script cache key)', () => createHash('sha256').update(FIFTY_RULE_SCRIPT).digest('hex'));
await step('runSieve, message kept after all 50 rules', () => runSieve(compiled.script, env(headers[1]!)));
await step('runSieve, a list message (filed at rule 1-10)', () => runSieve(compiled.script, env(headers[0]!)));
await step('runSieve, a ticket message (filed at rule 21-30)', () => runSieve(compiled.script, env(headers[2]!)));
await step('mail.get("Tickets") (a fileinto target)', () => mail.get('Tickets'));
await step('mail.get("INBOX")', () => mail.get('INBOX'));
await step('open + close of the user (per delivery)', async () => (await withScript.open('user1')).close());
const filter = createSieveFilter({ scriptChanges: withScript });
const kept = message('step', 1);
await step('the whole filter step, message kept after all 50 rules', () =>
  filter({ from: 'bench@bench.test', recipient: { address: 'user1@bench.test', user: 'user1' }, mailbox: 'INBOX', header: headers[1]!, size: kept.length, mail, headerComplete: true }),
);

await mail.close();
for (const store of stores.values()) await store.close();
rmSync(dir, { recursive: true, force: true });
