/**
 * `tsx bench/append-flag-cost.ts [--messages N] [--rounds R] [--concurrency C] [--side S] [--cpu-prof FILE]`:
 * what storing a message WITH a flag costs the SQLite store over storing it without — the
 * append a delivery makes (UserMailbox.append with `{ content, flags }` and no options, as
 * src/delivery/pipeline.ts calls it), in process, without the pipeline or Sieve. Sides: `none`
 * (no flags), `keyword` (`$Bench`, the 50-rule script's usual outcome), `system` (`\Flagged`);
 * `imap-keyword` (`$Bench` with IMAP APPEND's maxKeywords check, not in the default sides).
 * Each side has its own store and the same messages (bench/sieve/fifty-rules.ts's ~10 KB ones),
 * so the mailboxes grow alike. CPU per append: process.cpuUsage (every thread: the store's sync
 * thread too) and the main thread's (/proc/thread-self, 10 ms ticks), in alternating batches.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { Flag, UserMailbox } from '../src/store/types.js';
import { BENCH_TMP } from './servers/common.js';
import { benchMessage } from './sieve/fifty-rules.js';
import { alternateRounds, median, threadCpuUs } from './sieve/alternate.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '10' },
    // Messages without flags appended to each user's INBOX before measuring (the keyword then new
    // to the mailbox's older messages, as a client's first $Junk or $Forwarded in an old mailbox).
    prefill: { type: 'string', default: '0' },
    side: { type: 'string' },
    // A V8 CPU profile of the measured batches only, written to FILE: run one side at a time.
    'cpu-prof': { type: 'string' },
    // Under `valgrind --tool=callgrind`: counting zeroed after the warm-up batch and dumped after
    // the measured ones (callgrind_control -z / -d on this process), so the dump holds only them.
    callgrind: { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const USERS = Array.from({ length: 10 }, (_, i) => `user${i + 1}`);

const dir = join(BENCH_TMP, `append-flag-cost-${process.pid}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

interface Side {
  store: SqliteStore;
  users: Array<{ mail: UserMailbox; inbox: string }>;
  flags: Flag[] | undefined;
  /** IMAP APPEND's options (maxKeywordsPerMailbox's default); delivery passes none. */
  options?: { maxKeywords: number };
}
const SIDES: Array<[string, Flag[] | undefined, number?]> = [
  ['none', undefined],
  ['keyword', ['$Bench']],
  ['system', ['\\Flagged']],
  ['imap-keyword', ['$Bench'], 256],
];
const wanted = values.side?.split(',') ?? ['none', 'keyword', 'system'];
const PREFILL = Number(values.prefill);
const sides: Array<[string, Side]> = [];
for (const [name, flags, maxKeywords] of SIDES) {
  if (!wanted.includes(name)) continue;
  const store = await SqliteStore.open({ directory: join(dir, name) });
  const users = [];
  for (const u of USERS) {
    const mail = await store.open(u);
    const inbox = (await mail.get('INBOX')).id;
    for (let i = 0; i < PREFILL; i++) await mail.append(inbox, { content: benchMessage('prefill', i) });
    users.push({ mail, inbox });
  }
  sides.push([name, { store, users, flags, ...(maxKeywords !== undefined ? { options: { maxKeywords } } : {}) }]);
}

let seqAll = 0;
async function batch(side: Side, tag: string): Promise<{ total: number; main: number }> {
  const start = process.cpuUsage();
  const main0 = threadCpuUs();
  let next = 0;
  const base = seqAll;
  const worker = async (): Promise<void> => {
    while (next < MESSAGES) {
      const seq = next++;
      const { mail, inbox } = side.users[seq % side.users.length]!;
      const content = benchMessage(tag, base + seq);
      // As the pipeline's append: the flags key only when the filter gave flags, a fresh array.
      await mail.append(inbox, { content, ...(side.flags ? { flags: [...side.flags] } : {}) }, side.options);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  seqAll += MESSAGES;
  const used = process.cpuUsage(start);
  return { total: (used.user + used.system) / MESSAGES, main: (threadCpuUs() - main0) / MESSAGES };
}

process.stdout.write(`appends in process (SQLite), ${MESSAGES} per batch, ${CONCURRENCY} at a time; CPU µs per append (all threads / main thread), ${ROUNDS} rounds alternating\n`);
const profiler = values['cpu-prof'] ? new Session() : null;
let warmed = 0;
let zeroed = 0;
const figures = await alternateRounds(sides, ROUNDS, async (side, tag) => {
  if (profiler && ++warmed === sides.length + 1) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
    await profiler.post('Profiler.start');
  }
  if (values.callgrind && tag === 'r0' && ++zeroed === 1) execFileSync('callgrind_control', ['-z', String(process.pid)], { stdio: 'ignore' });
  return batch(side, tag);
});
if (values.callgrind) execFileSync('callgrind_control', ['-d', String(process.pid)], { stdio: 'ignore' });
if (profiler) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(values['cpu-prof']!, JSON.stringify(profile));
  profiler.disconnect();
}
for (const [i, [name]] of sides.entries()) {
  const f = figures[i]!;
  process.stdout.write(
    `${median(f.map((x) => x.total)).toFixed(1).padStart(7)} / ${median(f.map((x) => x.main)).toFixed(0).padStart(5)} CPU  ${name}  (rounds: ${f.map((x) => `${x.total.toFixed(0)}/${x.main.toFixed(0)}`).join(' ')})\n`,
  );
}
// Paired by round: the side's batch against `none`'s batch of the same round.
const base = sides.findIndex(([n]) => n === 'none');
if (base >= 0) {
  for (const [i, [name]] of sides.entries()) {
    if (i === base) continue;
    const diffs = figures[i]!.map((x, r) => x.total - figures[base]![r]!.total);
    process.stdout.write(`${name} − none, paired rounds: median ${median(diffs).toFixed(1)} µs (${diffs.map((d) => d.toFixed(0)).join(' ')})\n`);
  }
}
for (const [, side] of sides) {
  for (const u of side.users) await u.mail.close();
  await side.store.close();
}
rmSync(dir, { recursive: true, force: true });
