/**
 * `tsx bench/sieve-live-steps.ts [--messages N] [--rounds R] [--concurrency C] [--side S] [--cpu-prof FILE]`: what the 50-rule
 * script (bench/sieve/fifty-rules.ts) adds to a delivery on the path `bench:lmtp` takes — the
 * message stored while it arrives (DeliveryPipeline.startLive, a header-only script runs once the
 * header is in) — in process, without sockets: RCPT's resolve(), startLive, the message pushed
 * through a ChunkChannel as receiveLive (src/lmtp/server.ts) does, into a SqliteStore with the
 * Sieve filter installed as `postroom serve` installs it (so "no script" is the filter asking for
 * a script the user does not have). CPU per delivery: process.cpuUsage (every thread: the store's
 * sync thread too) and the main thread's (/proc/thread-self, 10 ms ticks), in alternating batches.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Authenticator } from '../src/auth/types.js';
import type { DeliveryAction, DeliveryFilter } from '../src/delivery/types.js';
import { DeliveryPipeline } from '../src/delivery/pipeline.js';
import { createSieveFilter } from '../src/delivery/sieve-filter.js';
import type { SqliteStore } from '../src/store/sqlite/index.js';
import { BENCH_TMP } from './servers/common.js';
import { benchMessage, deliverLive, FIFTY_RULE_SCRIPT, replaying, sieveStore } from './sieve/fifty-rules.js';
import { alternateRounds, median, threadCpuUs } from './sieve/alternate.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '10' },
    side: { type: 'string' },
    // A V8 CPU profile of the measured batches only (the warm-up's compiling and the start-up left
    // out), written to FILE: run one side at a time and compare with bench/profile-diff.ts.
    'cpu-prof': { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const USERS = Array.from({ length: 10 }, (_, i) => `user${i + 1}`);

const message = benchMessage;
const dir = join(BENCH_TMP, 'sieve-live-steps');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const auth = { authenticate: async () => null } as unknown as Authenticator;
const stores: SqliteStore[] = [];
type Kind = 'none' | 'keep' | 'flag' | 'replay' | 'inbox' | 'sieve';
async function side(name: Kind, script: boolean): Promise<DeliveryPipeline> {
  const store = await sieveStore(join(dir, name), USERS, script ? FIFTY_RULE_SCRIPT : null);
  stores.push(store);
  const sieve = createSieveFilter({ scriptChanges: store });
  let filter: DeliveryFilter = sieve;
  if (name === 'keep') {
    // Every message kept without flags, on the scripted path: against 'flag', what the flag costs; against 'none', the path.
    filter = Object.assign(async () => [{ kind: 'keep' }] as DeliveryAction[], { appliesTo: async () => true, needsMessage: async () => false });
  } else if (name === 'flag') {
    // Every message kept with a flag: what the store does for most of the script's messages.
    filter = Object.assign(async () => [{ kind: 'keep', flags: ['$Bench'] }] as DeliveryAction[], { appliesTo: async () => true, needsMessage: async () => false });
  } else if (name === 'replay') filter = replaying(sieve);
  else if (name === 'inbox') {
    // The script's decisions with every fileinto made a keep: 'replay' against this is the cost of the other folders.
    const replay = replaying(sieve);
    filter = Object.assign(async (input: Parameters<DeliveryFilter>[0]) => (await replay(input)).map((a): DeliveryAction => (a.kind === 'fileinto' ? { kind: 'keep', ...(a.flags ? { flags: a.flags } : {}) } : a)), {
      appliesTo: replay.appliesTo,
      needsMessage: replay.needsMessage,
    });
  }
  return new DeliveryPipeline({ store, auth, filter, mailboxChanges: store }); // as serve builds it
}
/** `--side none,flag,replay,sieve` (default none,sieve): the sides to run (one alone: to count its system calls with strace -c, say). */
const SIDES: Array<[Kind, string, boolean]> = [
  ['none', 'no script (filter installed)', false],
  ['keep', 'keep without flags on the scripted path, no Sieve', false],
  ['flag', 'keep with $Bench, no Sieve', false],
  ['replay', 'the script\'s actions, no Sieve', true],
  ['inbox', 'the script\'s actions with fileinto made keep, no Sieve', true],
  ['sieve', 'Sieve, 50 rules', true],
];
const wanted = values.side?.split(',') ?? ['none', 'sieve'];
const sides: Array<[string, DeliveryPipeline]> = [];
for (const [kind, label, script] of SIDES) if (wanted.includes(kind)) sides.push([label, await side(kind, script)]);

let seqAll = 0;

/** Copies stored outside INBOX, per side: the script must have run. */
const filed = new Map<DeliveryPipeline, number>();
async function batch(pipeline: DeliveryPipeline, tag: string): Promise<{ total: number; main: number; wall: number }> {
  const start = process.cpuUsage();
  const wall0 = performance.now();
  const main0 = threadCpuUs();
  let next = 0;
  const base = seqAll;
  const worker = async (): Promise<void> => {
    while (next < MESSAGES) {
      const seq = next++;
      const user = USERS[seq % USERS.length]!;
      const outcome = await deliverLive(pipeline, user, message(tag, base + seq));
      for (const copy of outcome.stored) if (copy.mailbox !== 'INBOX') filed.set(pipeline, (filed.get(pipeline) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  seqAll += MESSAGES;
  const used = process.cpuUsage(start);
  return { total: (used.user + used.system) / MESSAGES, main: (threadCpuUs() - main0) / MESSAGES, wall: ((performance.now() - wall0) * 1000) / MESSAGES };
}

process.stdout.write(`live deliveries in process, ${MESSAGES} per batch, ${CONCURRENCY} at a time; CPU µs per delivery (all threads / main thread), wall µs per delivery, ${ROUNDS} rounds alternating\n`);
const profiler = values['cpu-prof'] ? new Session() : null;
let warmed = 0;
const figures = await alternateRounds(sides, ROUNDS, async (pipeline, tag) => {
  if (profiler && ++warmed === sides.length + 1) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
    await profiler.post('Profiler.start');
  }
  return batch(pipeline, tag);
});
if (profiler) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(values['cpu-prof']!, JSON.stringify(profile));
  profiler.disconnect();
  process.stdout.write(`profile of ${ROUNDS * MESSAGES * sides.length} deliveries in ${values['cpu-prof']}\n`);
}
for (const [i, [name]] of sides.entries()) {
  const f = figures[i]!;
  process.stdout.write(
    `${median(f.map((x) => x.total)).toFixed(0).padStart(6)} / ${median(f.map((x) => x.main)).toFixed(0).padStart(5)} CPU, ${median(f.map((x) => x.wall)).toFixed(0).padStart(5)} wall  ${name}  (rounds: ${f.map((x) => `${x.total.toFixed(0)}/${x.main.toFixed(0)}/${x.wall.toFixed(0)}`).join(' ')})\n`,
  );
}
for (const [name, p] of sides) process.stdout.write(`${name}: ${filed.get(p) ?? 0} copies filed outside INBOX\n`);
if (wanted.includes('sieve') && !filed.get(sides[sides.length - 1]![1])) throw new Error('the script filed nothing: it did not run');
for (const store of stores) await store.close();
rmSync(dir, { recursive: true, force: true });
