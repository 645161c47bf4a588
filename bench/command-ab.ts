/**
 * `node --import tsx bench/command-ab.ts --trees A,B [--batches 30] [--n 200] [--commands 'CMD|CMD…']`
 *
 * CPU per command of two source trees in ONE process, batches alternated (A B B A A B …): each
 * tree's own src/ (SqliteStore, createImapServer) serves its own copy of the bench's seeded data
 * (20 users × 1,000 messages) on its own port, and a bare socket client sends `--n` of one command
 * at a time to one server, then to the other. process.cpuUsage() around each batch (server and
 * client, every thread — the client's part is the same for both) gives µs per command; whatever
 * the machine's load does, it does to both trees' batches alike, a few milliseconds apart. Per
 * command and tree it prints the median and the quartiles over the batches, and how many batches
 * a GC ran in (those still count). Before measuring: LOGIN, SELECT INBOX, `LIST "" "*"` (so a
 * lookup by name is answered from the kept list, as in the persistent-1 mix) and one unmeasured
 * batch of each command. Default commands: the persistent-1 mix's STATUS, FETCH FLAGS and NOOP.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import { seededPostroomData } from './servers/postroom.js';
import { BENCH_TMP, PASSWORD, mixedUsers } from './servers/common.js';
import { RawImapClient } from './load/raw-imap-client.js';

const { values } = parseArgs({
  options: {
    trees: { type: 'string' },
    batches: { type: 'string', default: '30' },
    n: { type: 'string', default: '200' },
    commands: { type: 'string', default: 'STATUS Archive (MESSAGES UIDNEXT UNSEEN)|UID FETCH 800:* (FLAGS)|NOOP' },
  },
});
if (!values.trees) throw new Error('--trees A,B');
const trees = values.trees.split(',').map((t) => resolve(t));
const BATCHES = Number(values.batches);
const N = Number(values.n);
const COMMANDS = values.commands.split('|');

interface Side {
  tree: string;
  client: RawImapClient;
  close: () => Promise<void>;
}
const sides: Side[] = [];
for (const [i, tree] of trees.entries()) {
  const dir = join(BENCH_TMP, 'run', `command-ab-${process.pid}-${i}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const data = await seededPostroomData(dir, mixedUsers(20, 1_000));
  const src = (p: string): string => pathToFileURL(join(tree, 'src', p)).href;
  const { SqliteStore } = (await import(src('store/sqlite/index.ts'))) as typeof import('../src/store/sqlite/index.js');
  const { UserFile, UserFileAuthenticator } = (await import(src('auth/user-file.ts'))) as typeof import('../src/auth/user-file.js');
  const { createImapServer } = (await import(src('imap/server.ts'))) as typeof import('../src/imap/server.js');
  const store = await SqliteStore.open({ directory: data });
  const server = createImapServer({ store, auth: new UserFileAuthenticator(UserFile.inDataDir(data)), host: '127.0.0.1', port: 0, tlsPort: null, allowInsecureAuth: true });
  const { port } = (await server.listen()) as { port: number };
  const client = await RawImapClient.open(port);
  await client.command(`LOGIN user1 ${PASSWORD}`);
  await client.command('SELECT INBOX');
  await client.command('LIST "" "*"');
  sides.push({
    tree,
    client,
    close: async () => {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

let gcs = 0;
new PerformanceObserver((l) => (gcs += l.getEntries().length)).observe({ entryTypes: ['gc'] });

async function batch(side: Side, command: string): Promise<{ us: number; gc: boolean }> {
  await new Promise((r) => setImmediate(r));
  const gc0 = gcs;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await side.client.command(command);
  const spent = process.cpuUsage(cpu0);
  return { us: (spent.user + spent.system) / N, gc: gcs !== gc0 };
}

const load0 = loadavg()[0]!;
const results = new Map<string, { us: number[]; gc: number }[]>();
for (const command of COMMANDS) {
  for (const side of sides) await batch(side, command); // warm-up, unmeasured
  const per = sides.map(() => ({ us: [] as number[], gc: 0 }));
  for (let b = 0; b < BATCHES; b++) {
    const order = sides.map((_, i) => i);
    if (b % 2 === 1) order.reverse();
    for (const i of order) {
      const r = await batch(sides[i]!, command);
      per[i]!.us.push(r.us);
      if (r.gc) per[i]!.gc++;
    }
  }
  results.set(command, per);
}
const load1 = loadavg()[0]!;
const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
process.stdout.write(
  `CPU µs per command (process, server + client), ${BATCHES} alternated batches of ${N} per tree, load ${load0.toFixed(1)} → ${load1.toFixed(1)}: median [p25–p75] (batches with a GC)\n\n` +
    `| command | ${sides.map((s) => s.tree).join(' | ')} |\n| --- |${sides.map(() => ' ---: |').join('')}\n`,
);
for (const [command, per] of results) {
  process.stdout.write(`| ${command} | ${per.map((p) => `${q(p.us, 0.5).toFixed(1)} [${q(p.us, 0.25).toFixed(1)}–${q(p.us, 0.75).toFixed(1)}] (${p.gc})`).join(' | ')} |\n`);
}
for (const side of sides) await side.close();
process.exit(0);
