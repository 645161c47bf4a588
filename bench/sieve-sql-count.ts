/**
 * `tsx bench/sieve-sql-count.ts [--messages N] [--side none,flag,sieve]`: the SQL statements a
 * delivery runs, counted by text, without and with the 50-rule script (bench/sieve/fifty-rules.ts),
 * on the path `bench:lmtp` takes (DeliveryPipeline.startLive, as in bench/sieve-live-steps.ts). Every
 * better-sqlite3 statement execution (run/get/all/iterate) and Database.exec of the process is
 * counted while the side's N deliveries run one at a time, after a warm-up of 100 (the script's
 * folders exist by then), the sides taking turns in batches of 100. Prints statements per delivery per side, and each text's count per
 * delivery where the sides differ — what to cut when the scripted delivery costs more than the plain one.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Authenticator } from '../src/auth/types.js';
import type { DeliveryAction, DeliveryFilter } from '../src/delivery/types.js';
import { DeliveryPipeline } from '../src/delivery/pipeline.js';
import { createSieveFilter } from '../src/delivery/sieve-filter.js';
import { sqliteDatabase } from '../src/store/sqlite/native.js';
import { BENCH_TMP } from './servers/common.js';
import { benchMessage, deliverLive, FIFTY_RULE_SCRIPT, replaying, sieveStore } from './sieve/fifty-rules.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '500' }, side: { type: 'string', default: 'none,flag,sieve' } } });
const MESSAGES = Number(values.messages);
const USERS = Array.from({ length: 10 }, (_, i) => `user${i + 1}`);

// Count every execution, by SQL text.
let counting = false;
const counts = new Map<string, number>();
/** Time spent in each text's executions, ns. */
const times = new Map<string, number>();
const note = (sql: string, ns: number): void => {
  if (!counting) return;
  counts.set(sql, (counts.get(sql) ?? 0) + 1);
  times.set(sql, (times.get(sql) ?? 0) + ns);
};
const timed = <T>(sql: string, fn: () => T): T => {
  const t0 = process.hrtime.bigint();
  try {
    return fn();
  } finally {
    note(sql.replace(/\s+/g, ' ').trim(), Number(process.hrtime.bigint() - t0));
  }
};
const Db = sqliteDatabase();
const probe = new Db(':memory:');
const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
probe.close();
for (const method of ['run', 'get', 'all', 'iterate'] as const) {
  const original = statementProto[method]!;
  statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
    return timed(this.source, () => original.apply(this, args));
  };
}
const dbProto = Db.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
const exec = dbProto.exec!;
dbProto.exec = function (this: unknown, sql: unknown) {
  return timed(`exec: ${String(sql)}`, () => exec.call(this, sql));
};

const dir = join(BENCH_TMP, 'sieve-sql-count');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const auth = { authenticate: async () => null } as unknown as Authenticator;

type Kind = 'none' | 'flag' | 'inbox' | 'replay' | 'sieve';
async function side(kind: Kind): Promise<{ pipeline: DeliveryPipeline; close: () => Promise<void> }> {
  const store = await sieveStore(join(dir, kind), USERS, kind === 'none' || kind === 'flag' ? null : FIFTY_RULE_SCRIPT);
  let filter: DeliveryFilter = createSieveFilter({ scriptChanges: store });
  if (kind === 'flag') filter = Object.assign(async () => [{ kind: 'keep', flags: ['$Bench'] }] as DeliveryAction[], { appliesTo: async () => true, needsMessage: async () => false });
  if (kind === 'replay' || kind === 'inbox') {
    // The script's decisions without running it; 'inbox': with every fileinto made a keep.
    const replay = replaying(createSieveFilter({ scriptChanges: store }));
    filter = kind === 'replay' ? replay : Object.assign(async (input: Parameters<DeliveryFilter>[0]) => (await replay(input)).map((a): DeliveryAction => (a.kind === 'fileinto' ? { kind: 'keep', ...(a.flags ? { flags: a.flags } : {}) } : a)), { appliesTo: replay.appliesTo, needsMessage: replay.needsMessage });
  }
  // As serve builds it: the mailboxes kept by name, fed by the store's change feed.
  return { pipeline: new DeliveryPipeline({ store, auth, filter, mailboxChanges: store }), close: () => store.close() };
}

let seqAll = 0;
async function deliver(pipeline: DeliveryPipeline, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const seq = seqAll++;
    const user = USERS[seq % USERS.length]!;
    const outcome = await deliverLive(pipeline, user, benchMessage('count', seq));
  }
}

const perSide = new Map<string, Map<string, number>>();
const timeSide = new Map<string, Map<string, number>>();
// The sides take turns in batches (the timings of a loaded machine then move every side alike).
const kinds = values.side.split(',') as Kind[];
const made = new Map<Kind, Awaited<ReturnType<typeof side>>>();
for (const kind of kinds) {
  const s = await side(kind);
  made.set(kind, s);
  await deliver(s.pipeline, 100);
  perSide.set(kind, new Map());
  timeSide.set(kind, new Map());
}
const BATCH = 100;
for (let done = 0; done < MESSAGES; done += BATCH) {
  for (const kind of done % (2 * BATCH) === 0 ? kinds : [...kinds].reverse()) {
    counts.clear();
    times.clear();
    counting = true;
    await deliver(made.get(kind)!.pipeline, BATCH);
    counting = false;
    for (const [t, n] of counts) perSide.get(kind)!.set(t, (perSide.get(kind)!.get(t) ?? 0) + n);
    for (const [t, n] of times) timeSide.get(kind)!.set(t, (timeSide.get(kind)!.get(t) ?? 0) + n);
  }
}
for (const s of made.values()) await s.close();
const names = [...perSide.keys()];
process.stdout.write(`SQL statements per delivery (${MESSAGES} deliveries, one at a time): ${names.map((n) => `${n} ${([...perSide.get(n)!.values()].reduce((a, b) => a + b, 0) / MESSAGES).toFixed(2)}`).join(', ')}\n\n`);
const texts = new Set(names.flatMap((n) => [...perSide.get(n)!.keys()]));
const rows = [...texts]
  .map((t) => ({ t, per: names.map((n) => (perSide.get(n)!.get(t) ?? 0) / MESSAGES), us: names.map((n) => (timeSide.get(n)!.get(t) ?? 0) / 1000 / MESSAGES) }))
  .sort((a, b) => b.us[b.us.length - 1]! - a.us[a.us.length - 1]!);
const sum = (n: string): number => [...timeSide.get(n)!.values()].reduce((a, b) => a + b, 0) / 1000 / MESSAGES;
process.stdout.write(`µs in SQL per delivery (wall time of the calls, NOISY on a loaded machine): ${names.map((n) => `${n} ${sum(n).toFixed(1)}`).join(', ')}\n\n`);
process.stdout.write(`${names.map((n) => `${n} n`.padStart(9)).join(' ')} ${names.map((n) => `${n} µs`.padStart(9)).join(' ')}  statement\n`);
for (const { t, per, us } of rows) process.stdout.write(`${per.map((x) => x.toFixed(2).padStart(9)).join(' ')} ${us.map((x) => x.toFixed(1).padStart(9)).join(' ')}  ${t.slice(0, 120)}\n`);
rmSync(dir, { recursive: true, force: true });
