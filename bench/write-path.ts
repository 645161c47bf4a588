/**
 * `npx tsx bench/write-path.ts [--ops N] [--rounds R] [--kinds store,delete,expunge,append,append1,select] [--no-sync]`
 *
 * CPU per write of each kind in process, on the SQLite store alone (no IMAP, no sockets): what
 * imaptest's mix sends a persistent session's writes through — STORE ±FLAGS of random system flags
 * and keywords on a range of up to 50 messages, STORE +FLAGS \Deleted of a few, EXPUNGE, MULTIAPPEND
 * of 1–3 messages or a single APPEND (`append1`; the mailbox kept near 400), and the snapshot a
 * SELECT reads. One user of 400
 * messages, seeded once per run into a temporary folder; kinds run interleaved, one op at a time
 * awaited (as one client), and each op's process CPU (all threads: the fsync thread too) and wall
 * time are summed per kind. CPU, not wall time, is what a loaded machine leaves comparable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { FlagOperation } from '../src/store/types.js';
import { benchMessage } from './load/messages.js';
import { seedMail } from './servers/postroom.js';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    kinds: { type: 'string', default: 'store,delete,expunge,append,select' },
    keep: { type: 'boolean', default: false },
    'no-sync': { type: 'boolean', default: false },
  },
});
const OPS = Number(values.ops);
// imaptest takes its messages from an mbox of 200 (bench/imaptest/mbox.ts), round and round.
const MBOX = Array.from({ length: 200 }, (_, i) => benchMessage(4_000_000_000 + i, 'imaptest'));
const KINDS = values.kinds.split(',');
const FLAGS = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '$Label1', '$Label2', 'Junk', 'NonJunk'];

// A fixed pseudo-random sequence, so two builds get the same ops.
let state = 12345;
const rand = (n: number): number => {
  state = (state * 1103515245 + 12345) & 0x7fffffff;
  return state % n;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-write-path-'));
  try {
    // --no-sync: the WAL's fdatasync replaced by nothing, to tell the sync's CPU from the rest.
    const syncless = values['no-sync'] ? { walSyncer: async (): Promise<void> => {} } : {};
    let store = await SqliteStore.open({ directory: dir });
    await seedMail(store, { users: { user1: 400 } });
    await store.close();
    store = await SqliteStore.open({ directory: dir, ...syncless });
    const mail = await store.open('user1');
    const inbox = await mail.get('INBOX');
    const totals = new Map<string, { n: number; cpu: number; wall: number; msgs: number }>();
    let uids = (await mail.snapshot(inbox.id)).messages.map((m) => m.uid);
    let appendSeed = 0;
    const one = async (kind: string): Promise<number> => {
      switch (kind) {
        case 'store': {
          const start = rand(uids.length);
          const range = uids.slice(start, start + 1 + rand(50));
          const flags = FLAGS.filter(() => rand(3) === 0);
          if (flags.length === 0) flags.push(FLAGS[rand(FLAGS.length)]!);
          const op: FlagOperation = rand(2) === 0 ? 'add' : 'remove';
          await mail.updateFlags(inbox.id, range, op, flags, { maxKeywords: 100 });
          return range.length;
        }
        case 'delete': {
          // Keeps the mailbox near 400: what imaptest's msgs=400 does.
          const count = uids.length > 400 ? 1 + rand(5) : rand(3);
          const picked = new Set<number>();
          for (let i = 0; i < count; i++) picked.add(uids[rand(uids.length)]!);
          if (picked.size === 0) return 0;
          await mail.updateFlags(inbox.id, [...picked], 'add', ['\\Deleted'], { maxKeywords: 100 });
          return picked.size;
        }
        case 'expunge': {
          const gone = await mail.expunge(inbox.id, uids);
          const set = new Set(gone);
          uids = uids.filter((u) => !set.has(u));
          return gone.length;
        }
        case 'append': {
          const n = 1 + rand(3);
          // imaptest takes its messages from an mbox of 200, round and round: some bytes are stored already.
          const inputs = Array.from({ length: n }, () => ({ content: MBOX[appendSeed++ % 200]!, flags: rand(2) ? ['\\Seen'] : [] }));
          const results = mail.appendMany ? await mail.appendMany(inbox.id, inputs, { maxKeywords: 100 }) : [];
          for (const r of results) uids.push(r.uid);
          return n;
        }
        case 'append1': {
          // A single APPEND (the path most of imaptest's APPENDs take): append(), not appendMany().
          const r = await mail.append(inbox.id, { content: MBOX[appendSeed++ % 200]!, flags: rand(2) ? ['\\Seen'] : [] }, { maxKeywords: 100 });
          uids.push(r.uid);
          return 1;
        }
        case 'select': {
          const s = await mail.snapshot(inbox.id);
          return s.messages.length;
        }
      }
      throw new Error(`unknown kind ${kind}`);
    };
    // Warm-up: every kind a few times.
    for (let i = 0; i < 50; i++) for (const k of KINDS) await one(k);
    for (let round = 0; round < Number(values.rounds); round++) {
      for (let i = 0; i < OPS; i++) {
        for (const kind of KINDS) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const msgs = await one(kind);
          const wall = performance.now() - t0;
          const c = process.cpuUsage(c0);
          const t = totals.get(kind) ?? { n: 0, cpu: 0, wall: 0, msgs: 0 };
          t.n++;
          t.cpu += (c.user + c.system) / 1000;
          t.wall += wall;
          t.msgs += msgs;
          totals.set(kind, t);
        }
      }
    }
    process.stdout.write('| kind | ops | CPU µs/op | wall µs/op | messages/op | CPU µs/message |\n| --- | ---: | ---: | ---: | ---: | ---: |\n');
    for (const [kind, t] of totals)
      process.stdout.write(`| ${kind} | ${t.n} | ${((t.cpu * 1000) / t.n).toFixed(0)} | ${((t.wall * 1000) / t.n).toFixed(0)} | ${(t.msgs / t.n).toFixed(1)} | ${t.msgs ? ((t.cpu * 1000) / t.msgs).toFixed(1) : '–'} |\n`);
    await mail.close();
    await store.close();
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/write-path.ts failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
