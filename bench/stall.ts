/**
 * How long one big command holds the event loop (issue 13: no single command may hold it for more
 * than a few milliseconds). An in-process server on each store, a mailbox seeded through the store,
 * then each command over a real socket while a 1 ms timer records the longest stall (wall and CPU
 * time, test/helpers/loop-stall.ts). Prints one table row per command.
 *
 *   npx tsx bench/stall.ts [--messages 20000] [--stores memory,sqlite,postgres] [--children 2000] [--pop3-messages 100000]
 *
 * postgres starts a throwaway cluster (PostgreSQL must be installed); the default is memory,sqlite.
 */
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createImapServer } from '../src/imap/server.js';
import { createPop3Server } from '../src/pop3/server.js';
import { StaticAuthenticator } from '../src/auth/static-users.js';
import { MemoryStore } from '../src/store/memory/index.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { PostgresStore } from '../src/store/postgres/index.js';
import { testDatabaseUrl } from '../test/helpers/postgres.js';
import type { MailStore } from '../src/store/types.js';
import { meterLoopStalls } from '../test/helpers/loop-stall.js';
import { Pop3WireClient, oneLine, multiLine } from '../test/helpers/pop3-wire-client.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}
const MESSAGES = Number(arg('messages', '20000'));
const STORES = arg('stores', 'memory,sqlite').split(',');
const CHILDREN = Number(arg('children', '2000'));
/** Messages in the POP3 maildrop (0: no POP3 rows). */
const POP3_MESSAGES = Number(arg('pop3-messages', '100000'));

/** A client that only looks for its tagged reply at the end of what arrived, so it costs the loop little. */
class Client {
  private buf = '';
  private waiting: { tag: string; resolve: (s: string) => void } | null = null;
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      if (this.buf.length > 1 << 20) this.buf = this.buf.slice(-4096);
      const w = this.waiting;
      if (!w) return;
      const at = this.buf.lastIndexOf(`\r\n${w.tag} `) >= 0 ? this.buf.lastIndexOf(`\r\n${w.tag} `) + 2 : this.buf.startsWith(`${w.tag} `) ? 0 : -1;
      if (at >= 0 && this.buf.indexOf('\r\n', at) > 0) {
        const line = this.buf.slice(at, this.buf.indexOf('\r\n', at));
        this.buf = '';
        this.waiting = null;
        w.resolve(line);
      }
    });
  }
  static async connect(port: number): Promise<Client> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const c = new Client(socket);
    await new Promise((r) => setTimeout(r, 50));
    c.buf = '';
    return c;
  }
  run(tag: string, command: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = { tag, resolve };
      this.socket.write(`${tag} ${command}\r\n`);
    });
  }
  close(): void {
    this.socket.destroy();
  }
}

const line = oneLine;

async function makeStore(kind: string): Promise<{ store: MailStore; cleanup: () => Promise<void> }> {
  if (kind === 'memory') {
    const store = new MemoryStore();
    return { store, cleanup: () => store.close() };
  }
  if (kind === 'postgres') {
    // A throwaway cluster of its own (test/helpers/pg-cluster.ts), stopped at exit.
    const store = await PostgresStore.open({ connectionString: await testDatabaseUrl(), poolSize: 6 });
    return { store, cleanup: () => store.close() };
  }
  const directory = await mkdtemp(join(tmpdir(), 'postroom-stall-'));
  const store = await SqliteStore.open({ directory });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

async function seed(store: MailStore, mailbox: string, n: number, user = 'alice'): Promise<void> {
  const mail = await store.open(user);
  const box = await mail.get(mailbox).catch(async () => mail.create(mailbox));
  // PostgreSQL's pool of 6 connections times out waiters when 1,000 writes queue at once.
  const step = store instanceof PostgresStore ? 50 : 1000;
  for (let i = 0; i < n; i += step) {
    const batch: Array<Promise<unknown>> = [];
    for (let j = i; j < Math.min(n, i + step); j++) {
      batch.push(mail.append(box.id, { content: Buffer.from(`From: a${j}@example.org\r\nSubject: message ${j}\r\n\r\nbody ${j}\r\n`) }));
    }
    await Promise.all(batch);
  }
  await mail.close();
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const kind of STORES) {
    const { store, cleanup } = await makeStore(kind);
    const t0 = performance.now();
    await seed(store, 'INBOX', MESSAGES);
    console.error(`# ${kind}: seeded ${MESSAGES} in ${(performance.now() - t0).toFixed(0)} ms`);
    const server = createImapServer({
      host: '127.0.0.1',
      port: 0,
      store,
      auth: new StaticAuthenticator({ alice: 'secret' }),
      allowInsecureAuth: true,
    });
    const { port } = await server.listen();
    const c = await Client.connect(port!);
    await c.run('L', 'LOGIN alice secret');
    await c.run('c', 'CREATE Other');
    await c.run('c2', 'CREATE Third');
    /** `settle`: work the command leaves running after its reply, measured too (DELETE's purge on SQLite). */
    const measure = async (label: string, command: string, settle?: () => Promise<void>): Promise<void> => {
      await new Promise((r) => setTimeout(r, 50));
      const meter = meterLoopStalls();
      const started = performance.now();
      const reply = await c.run('t', command);
      await settle?.();
      const took = performance.now() - started;
      const stall = meter.stop();
      const row = `| ${kind} | ${MESSAGES} | ${label} | ${took.toFixed(0)} | ${stall.maxWallMs.toFixed(0)} | ${stall.maxCpuMs.toFixed(0)} |`;
      rows.push(row);
      console.error(`${row} ${reply.slice(0, 60)}`);
    };
    await measure('STATUS (MESSAGES UNSEEN SIZE)', 'STATUS INBOX (MESSAGES UNSEEN SIZE)');
    await measure('SELECT', 'SELECT INBOX');
    await measure('FETCH 1:* (UID FLAGS)', 'FETCH 1:* (UID FLAGS)');
    await measure('UID SEARCH ALL', 'UID SEARCH ALL');
    // SORT and THREAD the first time read their keys in pages and sort or thread in slices (issue
    // 13); again, from the store's key cache and the cached order or threads: measured both.
    await measure('SORT (DATE), first', 'SORT (DATE) UTF-8 ALL');
    await measure('SORT (SUBJECT), first', 'SORT (SUBJECT) UTF-8 ALL');
    await measure('SORT (DATE), again', 'SORT (DATE) UTF-8 ALL');
    await measure('THREAD REFERENCES, first', 'THREAD REFERENCES UTF-8 ALL');
    await measure('THREAD ORDEREDSUBJECT, first', 'THREAD ORDEREDSUBJECT UTF-8 ALL');
    await measure('THREAD REFERENCES, again', 'THREAD REFERENCES UTF-8 ALL');
    await measure('STORE +FLAGS (\\Seen)', 'STORE 1:* +FLAGS (\\Seen)');
    await measure('STORE +FLAGS ($Kw)', 'STORE 1:* +FLAGS ($Kw)');
    await measure('UID COPY 1:* Other', 'UID COPY 1:* Other');
    // DELETE of a mailbox holding every message (a copy, while INBOX is still full).
    await c.run('c4', 'CREATE Fourth');
    await c.run('p4', 'UID COPY 1:* Fourth');
    // On SQLite DELETE answers once the mailbox is out of view; its messages are purged after, in
    // slices (mailbox-purge.ts): the row's times include the purge.
    const purged = store instanceof SqliteStore ? () => store.purged() : undefined;
    await measure('DELETE (mailbox of all messages, with its purge)', 'DELETE Fourth', purged);
    await measure('UID MOVE 1:* Third', 'UID MOVE 1:* Third');
    await measure('SELECT Other', 'SELECT Other');
    await measure('STORE +FLAGS (\\Deleted)', 'STORE 1:* +FLAGS.SILENT (\\Deleted)');
    await measure('EXPUNGE', 'EXPUNGE');
    await measure('SELECT Third', 'SELECT Third');
    await measure('STORE +FLAGS (\\Deleted) (2)', 'STORE 1:* +FLAGS.SILENT (\\Deleted)');
    await measure('UID EXPUNGE 1:*', 'UID EXPUNGE 1:*');
    await measure('UNSELECT', 'UNSELECT');
    // RENAME of a mailbox with many children, LIST of many mailboxes.
    const mail = await store.open('alice');
    for (let i = 0; i < CHILDREN; i++) await mail.create(`Parent/child${i}`);
    await mail.close();
    await measure(`RENAME (${CHILDREN} children)`, 'RENAME Parent Renamed');
    await measure(`LIST (${CHILDREN + 4} mailboxes)`, 'LIST "" "*"');
    c.close();
    await server.close();
    if (POP3_MESSAGES > 0) {
      // POP3 on a large maildrop: login reads every record, LIST/UIDL answer for all, QUIT deletes all.
      const t0p = performance.now();
      await seed(store, 'INBOX', POP3_MESSAGES, 'carol');
      console.error(`# ${kind}: seeded carol's ${POP3_MESSAGES} in ${(performance.now() - t0p).toFixed(0)} ms`);
      const pop3 = createPop3Server({ host: '127.0.0.1', port: 0, tlsPort: null, store, auth: new StaticAuthenticator({ carol: 'secret' }), allowInsecureAuth: true });
      const { port: pop3Port } = await pop3.listen();
      const { client: p } = await Pop3WireClient.connect(pop3Port!);
      await p.send('USER carol\r\n', line);
      const measurePop3 = async (label: string, text: string, done: (b: string) => boolean): Promise<void> => {
        await new Promise((r) => setTimeout(r, 50));
        const meter = meterLoopStalls();
        const started = performance.now();
        const reply = await p.send(text, done);
        const took = performance.now() - started;
        const stall = meter.stop();
        const row = `| ${kind} | ${POP3_MESSAGES} | POP3 ${label} | ${took.toFixed(0)} | ${stall.maxWallMs.toFixed(0)} | ${stall.maxCpuMs.toFixed(0)} |`;
        rows.push(row);
        console.error(`${row} ${reply.split('\r\n')[0]}`);
      };
      await measurePop3('PASS (opens the maildrop)', 'PASS secret\r\n', line);
      await measurePop3('STAT', 'STAT\r\n', line);
      await measurePop3('LIST', 'LIST\r\n', multiLine);
      await measurePop3('UIDL', 'UIDL\r\n', multiLine);
      const deles = Array.from({ length: POP3_MESSAGES }, (_, i) => `DELE ${i + 1}\r\n`).join('');
      await measurePop3(`DELE x${POP3_MESSAGES} (pipelined) + STAT`, `${deles}STAT\r\n`, (b) => /\+OK 0 0\r\n$/.test(b));
      await measurePop3('QUIT (deletes them all)', 'QUIT\r\n', (b) => b.includes('\r\n'));
      p.close();
      await pop3.close();
    }
    await cleanup();
  }
  console.log('| store | messages | command | took ms | longest stall, wall ms | longest stall, CPU ms |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
