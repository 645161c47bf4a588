/**
 * bench:store's SORT and THREAD rows: the same mailbox served by Postroom (SqliteStore, in this
 * process) and by Dovecot (Maildir, the same messages exported from the store with their flags and
 * internal dates), in the same run, over the same raw client.
 *
 * For each command: the first run after the server started (Postroom: the keys are in the database
 * since APPEND, nothing in memory; Dovecot: first ever, when it builds its cache of the header
 * fields, and first again after a restart, with that cache on disk), then the median of repeats.
 */
import { join } from 'node:path';
import { createImapServer } from '../src/imap/server.js';
import { StaticAuthenticator } from '../src/auth/static-users.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { exportMaildir } from '../src/store/import/exporter.js';
import { RawImap } from './store-raw-client.js';
import { BENCH_TMP, PASSWORD } from './servers/common.js';
import { chownMail, dovecotVersion, ensureDovecot, startDovecot } from './servers/dovecot.js';

export const SORT_COMMANDS = [
  'SORT (DATE) UTF-8 ALL',
  'SORT (SUBJECT) UTF-8 ALL',
  'SORT (FROM) UTF-8 ALL',
  'SORT (REVERSE ARRIVAL) UTF-8 ALL',
  'THREAD REFERENCES UTF-8 ALL',
  'THREAD ORDEREDSUBJECT UTF-8 ALL',
];
const REPEATS = 5;

export interface Timing {
  first: number;
  repeated: number;
  /** Numbers in the answer, to check both servers answered for every message. */
  count: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Every command once, then each REPEATS more times (median); the answer's size as a sanity check. */
async function timeCommands(port: number, user: string, password: string): Promise<{ select: number; timings: Map<string, Timing> }> {
  const c = await RawImap.connect(port);
  try {
    await c.command(`LOGIN ${user} ${password}`);
    const select = (await c.command('SELECT INBOX')).ms;
    const timings = new Map<string, Timing>();
    for (const command of SORT_COMMANDS) {
      const first = await c.command(command);
      const line = first.untagged.find((l) => /^\* (SORT|THREAD)/.test(l)) ?? '';
      const count = line.replace(/[()]/g, ' ').split(/\s+/).filter((w) => /^\d+$/.test(w)).length;
      timings.set(command, { first: first.ms, repeated: 0, count });
    }
    for (const command of SORT_COMMANDS) {
      const runs: number[] = [];
      for (let i = 0; i < REPEATS; i++) runs.push((await c.command(command)).ms);
      timings.get(command)!.repeated = median(runs);
    }
    await c.command('LOGOUT').catch(() => undefined);
    return { select, timings };
  } finally {
    c.close();
  }
}

/** One command as the very first of a fresh server and session, after SELECT: nothing of the mailbox in memory. */
async function timeAlone(port: number, user: string, password: string, command: string): Promise<number> {
  const c = await RawImap.connect(port);
  try {
    await c.command(`LOGIN ${user} ${password}`);
    await c.command('SELECT INBOX');
    const { ms } = await c.command(command);
    await c.command('LOGOUT').catch(() => undefined);
    return ms;
  } finally {
    c.close();
  }
}

/** Opens the store and a server on `dir`, runs `body` with its port, closes both. */
async function withPostroom<T>(dir: string, body: (port: number) => Promise<T>): Promise<T> {
  const store = await SqliteStore.open({ directory: dir });
  const server = createImapServer({ host: '127.0.0.1', port: 0, tlsPort: null, allowInsecureAuth: true, store, auth: new StaticAuthenticator({ alice: 'secret' }) });
  const { port } = await server.listen();
  try {
    return await body(port!);
  } finally {
    await server.close();
    await store.close();
  }
}

export interface SortBenchResult {
  postroom: { select: number; timings: Map<string, Timing> };
  /** `THREAD REFERENCES UTF-8 ALL` as the first command after a start (the rows above run it after the SORTs). */
  threadAlone: number;
  dovecot?: {
    version: string;
    cold: { select: number; timings: Map<string, Timing> };
    restarted: { select: number; timings: Map<string, Timing> };
  };
}

/** Runs the rows on the store in `dir` (closed, as bench:store leaves it) and on Dovecot unless `skipDovecot`. */
export async function sortBench(dir: string, total: number, skipDovecot: boolean): Promise<SortBenchResult> {
  const postroom = await withPostroom(dir, (port) => timeCommands(port, 'alice', 'secret'));
  const threadAlone = await withPostroom(dir, (port) => timeAlone(port, 'alice', 'secret', 'THREAD REFERENCES UTF-8 ALL'));
  if (skipDovecot) return { postroom, threadAlone };

  ensureDovecot();
  const version = dovecotVersion();
  // The same messages: exported from the store this run built (Maildir, flags in the names,
  // internal dates as file times), cached between runs for the same message count.
  const seed = {
    name: `dovecot-bench-store-${total}-v2`,
    build: async (folder: string): Promise<void> => {
      const source = await SqliteStore.open({ directory: dir });
      try {
        process.stderr.write(`exporting ${total} messages as a Maildir for Dovecot…\n`);
        await exportMaildir({ store: source, user: 'alice', path: join(folder, 'alice') });
      } finally {
        await source.close();
      }
      chownMail(folder);
    },
  };
  const runDir = join(BENCH_TMP, 'store-dovecot');
  const options = { runDir, spec: { users: { alice: total } }, highPerformanceLogin: false, hibernateSeconds: 0, maxConnections: 10, seed };
  let dovecot = await startDovecot(options);
  let cold;
  try {
    cold = await timeCommands(dovecot.port, 'alice', PASSWORD);
  } finally {
    await dovecot.stop();
  }
  // Restarted on the same folder, its index and cache files kept.
  dovecot = await startDovecot({ ...options, keepMail: true });
  let restarted;
  try {
    restarted = await timeCommands(dovecot.port, 'alice', PASSWORD);
  } finally {
    await dovecot.stop();
  }
  return { postroom, threadAlone, dovecot: { version, cold, restarted } };
}
