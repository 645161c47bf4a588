/**
 * `npm run bench:store`: builds a mailbox of 100,000 varied messages in a SqliteStore and times the
 * IMAP commands that matter on large mailboxes, over a real connection to createImapServer:
 *   SELECT, UID FETCH 1:* (UID FLAGS), FETCH 1:100 (ENVELOPE BODYSTRUCTURE), UID SEARCH FROM "x",
 *   SEARCH BODY "y" over 10,000 messages, STORE +FLAGS over 10,000, APPEND throughput,
 * and the size on disk against the raw message bytes.
 * Then SORT and THREAD on the same mailbox, side by side with Dovecot serving the same messages
 * (bench/store-sort.ts; Dovecot is installed from Debian when missing).
 * Options: --messages N (default 100000), --dir PATH (default: a temp folder, removed afterwards),
 * --reuse (with --dir: time the commands on a folder an earlier run built, skipping the build),
 * --skip-dovecot (Postroom's SORT/THREAD rows only), --only-sort (with --reuse: only the SORT/THREAD
 * rows, for iterating on them; e.g. --messages 20000 --dir .bench-tmp/s20k --only-sort --skip-dovecot
 * once to build, then again with --reuse).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { ImapFlow } from 'imapflow';
import { createImapServer } from '../src/imap/server.js';
import { StaticAuthenticator } from '../src/auth/static-users.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { benchMessage, rng } from './store-messages.js';
import { RawImap } from './store-raw-client.js';
import { SORT_COMMANDS, sortBench } from './store-sort.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    dir: { type: 'string' },
    reuse: { type: 'boolean', default: false },
    'skip-dovecot': { type: 'boolean', default: false },
    'only-sort': { type: 'boolean', default: false },
  },
});
const TOTAL = Number(values.messages);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'postroom-bench-'));
const removeAfter = values.dir === undefined;

const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
const row = (label: string, value: string): void => void process.stdout.write(`${label.padEnd(46)} ${value}\n`);

function diskBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    total += entry.isDirectory() ? diskBytes(p) : statSync(p).size;
  }
  return total;
}

async function build(store: SqliteStore): Promise<{ bytes: number; ms: number }> {
  const u = await store.open('alice');
  const inbox = await u.get('INBOX');
  const r = rng(42);
  let bytes = 0;
  let next = 0;
  const started = performance.now();
  // 32 appends in flight, as many IMAP clients would have: group commit batches their fsyncs.
  const worker = async (): Promise<void> => {
    while (next < TOTAL) {
      const i = next++;
      const raw = benchMessage(r, i);
      bytes += raw.length;
      await u.append(inbox.id, { content: raw, flags: i % 3 === 0 ? ['\\Seen'] : [], internalDate: new Date(Date.UTC(2024, 0, 1) + i * 60_000) });
      if ((i + 1) % 10_000 === 0) process.stderr.write(`  built ${i + 1} / ${TOTAL}\n`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return { bytes, ms: performance.now() - started };
}

async function imapAppend(port: number, clients: number, perClient: number): Promise<{ count: number; bytes: number; ms: number }> {
  const r = rng(7);
  const batches = Array.from({ length: clients }, (_, c) => Array.from({ length: perClient }, (_, i) => benchMessage(r, TOTAL + c * perClient + i)));
  const conns = await Promise.all(
    batches.map(async () => {
      const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
      await c.connect();
      return c;
    }),
  );
  const started = performance.now();
  await Promise.all(conns.map(async (c, i) => {
    for (const raw of batches[i]!) await c.append('Appended', raw);
  }));
  const ms = performance.now() - started;
  await Promise.all(conns.map((c) => c.logout()));
  return { count: clients * perClient, bytes: batches.flat().reduce((n, b) => n + b.length, 0), ms };
}

/** Opens the store and a server, times one SELECT INBOX on a fresh connection, and closes both. */
async function firstSelect(): Promise<number> {
  const store = await SqliteStore.open({ directory: dir });
  const server = createImapServer({ host: '127.0.0.1', port: 0, tlsPort: null, allowInsecureAuth: true, store, auth: new StaticAuthenticator({ alice: 'secret' }) });
  const { port } = await server.listen();
  try {
    const c = await RawImap.connect(port!);
    await c.command('LOGIN alice secret');
    const { ms } = await c.command('SELECT INBOX');
    await c.command('LOGOUT').catch(() => undefined);
    c.close();
    return ms;
  } finally {
    await server.close();
    await store.close();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`postroom bench:store — ${TOTAL} messages in ${dir}\n`);
  const reuse = values.reuse && values.dir !== undefined && existsSync(join(dir, 'mail.sqlite'));
  let store = await SqliteStore.open({ directory: dir });
  if (reuse) {
    process.stdout.write('(reusing the mailbox an earlier run built; no APPEND or size figures)\n');
    // Drop what an earlier run's timed commands added, so every run starts from the same mailbox.
    const u = await store.open('alice');
    if ((await u.list()).some((m) => m.name === 'Appended')) await u.delete('Appended');
    const inbox = await u.get('INBOX');
    const first = Array.from({ length: Math.min(10_000, TOTAL) }, (_, i) => i + 1);
    await u.updateFlags(inbox.id, first, 'remove', ['\\Flagged', '$Bench']);
  } else {
    const built = await build(store);
    if (values['only-sort']) {
      await store.close();
      return sortRows();
    }
    row('APPEND (store API, 32 in flight)', `${((TOTAL / built.ms) * 1000).toFixed(0)} msg/s, ${((built.bytes / 1048576 / built.ms) * 1000).toFixed(1)} MB/s`);
    await store.close(); // checkpoints the WAL, so the sizes below are the steady state
    const dbBytes = diskBytes(dir);
    row('raw message bytes', `${mb(built.bytes)} MB`);
    row('on disk (database + blob files)', `${mb(dbBytes)} MB (${(((dbBytes - built.bytes) / built.bytes) * 100).toFixed(1)}% overhead)`);
  }
  await store.close();
  if (values['only-sort']) return sortRows();

  // The first SELECT after a start, twice: without a saved snapshot (every message row is read),
  // and after a restart, from the snapshot the previous close saved (saved-snapshots.ts).
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
  db.exec('DELETE FROM mailbox_snapshots');
  db.close();
  const cold = await firstSelect();
  row(`SELECT INBOX (${TOTAL}), first after start, nothing saved`, `${cold.toFixed(1)} ms  (reads every message row)`);
  store = await SqliteStore.open({ directory: dir });
  const server = createImapServer({ host: '127.0.0.1', port: 0, tlsPort: null, allowInsecureAuth: true, store, auth: new StaticAuthenticator({ alice: 'secret' }) });
  const { port } = await server.listen();
  try {
    const c = await RawImap.connect(port!);
    await c.command('LOGIN alice secret');
    const time = async (label: string, command: string, note?: (r: Awaited<ReturnType<RawImap['command']>>) => string): Promise<void> => {
      const res = await c.command(command);
      row(label, `${res.ms.toFixed(1)} ms${note ? `  (${note(res)})` : ''}`);
    };
    await time(`SELECT INBOX (${TOTAL}), first after a restart`, 'SELECT INBOX', () => 'from the snapshot saved at the last close');
    await time('UID FETCH 1:* (UID FLAGS)', 'UID FETCH 1:* (UID FLAGS)', (r) => `${mb(r.bytes)} MB of responses`);
    await time('FETCH 1:100 (ENVELOPE BODYSTRUCTURE)', 'FETCH 1:100 (ENVELOPE BODYSTRUCTURE)');
    const hits = (r: { untagged: string[] }): string => `${Math.max(0, (r.untagged.find((l) => l.startsWith('* SEARCH')) ?? '* SEARCH').split(' ').length - 2)} hits`;
    await time('UID SEARCH FROM "x"', 'UID SEARCH FROM "x"', hits);
    await time('UID SEARCH SUBJECT "invoice"', 'UID SEARCH SUBJECT "invoice"', hits);
    const tenK = Math.min(10_000, TOTAL);
    await time(`SEARCH 1:${tenK} BODY "y" (first run)`, `SEARCH 1:${tenK} BODY "y"`, hits);
    await time(`SEARCH 1:${tenK} BODY "y" (again)`, `SEARCH 1:${tenK} BODY "y"`, hits);
    await time(`STORE 1:${tenK} +FLAGS (\\Flagged)`, `STORE 1:${tenK} +FLAGS (\\Flagged)`);
    await time(`STORE 1:${tenK} +FLAGS.SILENT ($Bench)`, `STORE 1:${tenK} +FLAGS.SILENT ($Bench)`);
    await time('SELECT INBOX again (after the STOREs)', 'SELECT INBOX');
    await c.command('CREATE Appended');
    await c.command('LOGOUT').catch(() => undefined);
    c.close();

    const appended = await imapAppend(port!, 20, 100);
    row(`APPEND over IMAP (20 clients, ${appended.count} msgs)`, `${((appended.count / appended.ms) * 1000).toFixed(0)} msg/s, ${((appended.bytes / 1048576 / appended.ms) * 1000).toFixed(1)} MB/s`);
  } finally {
    await server.close();
    await store.close();
  }
  try {
    await sortRows();
  } finally {
    if (removeAfter) rmSync(dir, { recursive: true, force: true });
  }
}

/** SORT and THREAD, first and repeated, Postroom next to Dovecot on the same messages. */
async function sortRows(): Promise<void> {
  const r = await sortBench(dir, TOTAL, values['skip-dovecot']);
  const f = (ms: number): string => ms.toFixed(1).padStart(8);
  const d = r.dovecot;
  process.stdout.write(
    `\nSORT and THREAD, ${TOTAL} messages (ms)${' '.repeat(9)}Postroom: first repeated` +
      (d ? ` | Dovecot ${d.version.split(' ')[0]}: first-ever  after-restart  repeated | repeated Dovecot/Postroom` : '') +
      '\n',
  );
  row('SELECT INBOX (before the rows below)', `${f(r.postroom.select)}${d ? ` | ${f(d.cold.select)}  ${f(d.restarted.select)}` : ''}`);
  for (const command of SORT_COMMANDS) {
    const p = r.postroom.timings.get(command)!;
    let text = `${f(p.first)} ${f(p.repeated)}`;
    if (d) {
      const cold = d.cold.timings.get(command)!;
      const warm = d.restarted.timings.get(command)!;
      text += ` | ${f(cold.first)} ${f(warm.first)} ${f(warm.repeated)} | ${(warm.repeated / p.repeated).toFixed(2)}x`;
      if (cold.count !== p.count) text += `  (answers differ: ${p.count} vs ${cold.count} numbers)`;
    }
    row(command, text);
  }
  row('THREAD REFERENCES UTF-8 ALL, first command after start', `${f(r.threadAlone)}  (Postroom; reads the UIDs and dates too)`);
}

await main();
