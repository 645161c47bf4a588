/**
 * `node --max-semi-space-size=256 --min-semi-space-size=256 --import tsx bench/command-alloc.ts [--n 300] [--only NOOP,LIST] [--heap-prof KIND]`
 * (also CPU µs per command of the whole process, client included: wall-clock-free, but NOISY on a loaded machine)
 *
 * Heap bytes allocated per IMAP command — what drives the young-generation GCs (scavenges) that
 * land between one persistent client's commands (bench/RESULTS.md, issue 23). The server runs in
 * this process on a copy of the bench's seeded SQLite data (20 users × 1,000 messages); a bare
 * socket client sends each command kind of the persistent-1 mix N times in a row, one at a time,
 * and the V8 heap's used bytes before and after give the mean per command. With the young
 * generation made larger than a run allocates, no GC runs in between (checked: a run with a GC is
 * reported as such, not averaged). The client's own allocation (a Buffer per read, which is off
 * the heap, and a small scan) is included; it is the same for any server build.
 * Deterministic enough to judge an allocation cut: repeated runs agree within a few per cent.
 * `--heap-prof KIND`: also a sampling heap profile of that kind's runs (collected objects included),
 * written to .bench-tmp/command-alloc/KIND.heapprofile (bench/heap-prof-summary.ts reads it).
 */
import inspector from 'node:inspector';
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { UserFile, UserFileAuthenticator } from '../src/auth/user-file.js';
import { createImapServer } from '../src/imap/server.js';
import { seededPostroomData } from './servers/postroom.js';
import { BENCH_TMP, PASSWORD, mixedUsers } from './servers/common.js';
import { benchMessage } from './load/messages.js';
import { RawImapClient } from './load/raw-imap-client.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '300' },
    only: { type: 'string' },
    'heap-prof': { type: 'string' },
  },
});
const N = Number(values.n);
const dir = join(BENCH_TMP, 'command-alloc');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const data = await seededPostroomData(dir, mixedUsers(20, 1_000));
const store = await SqliteStore.open({ directory: data });
const server = createImapServer({
  store,
  auth: new UserFileAuthenticator(UserFile.inDataDir(data)),
  host: '127.0.0.1',
  port: 0,
  tlsPort: null,
  allowInsecureAuth: true,
});
const { port } = (await server.listen()) as { port: number };

const client = await RawImapClient.open(port);
await client.command(`LOGIN user1 ${PASSWORD}`);
await client.command('SELECT INBOX');
let seed = 0;
let r = 12345;
const rand = (): number => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648);

type Step = () => Promise<unknown>;
const appended: number[] = [];
const KINDS: Record<string, Step> = {
  NOOP: () => client.command('NOOP'),
  LIST: () => client.command('LIST "" "*"'),
  STATUS: () => client.command('STATUS Archive (MESSAGES UIDNEXT UNSEEN)'),
  SELECT: () => client.command('SELECT INBOX'),
  'FETCH FLAGS': () => client.command('UID FETCH 800:* (FLAGS)'),
  'FETCH ENVELOPE': () => {
    const lo = 1 + Math.floor(rand() * 975);
    return client.command(`UID FETCH ${lo}:${lo + 24} (UID FLAGS RFC822.SIZE ENVELOPE)`);
  },
  'FETCH BODY[]': () => client.command(`UID FETCH ${1 + Math.floor(rand() * 1000)} (BODY.PEEK[])`),
  STORE: () => client.command(`UID STORE ${1 + Math.floor(rand() * 1000)} ${rand() < 0.5 ? '+' : '-'}FLAGS (\\Flagged)`),
  APPEND: async () => {
    const out = await client.command('APPEND INBOX (\\Seen)', benchMessage(5_000_000 + seed++, 'appended'));
    appended.push(Number(/APPENDUID \d+ (\d+)/.exec(out)?.[1]));
  },
  EXPUNGE: async () => {
    // One APPENDed message, flagged \Deleted and expunged: the mix's expungeMine (the STORE and
    // APPEND are not counted here: they run outside the measured span, see run()).
    await client.command(`UID STORE ${appended.pop() ?? 1} +FLAGS.SILENT (\\Deleted)`);
    return client.command('EXPUNGE');
  },
};

let gcs = 0;
new PerformanceObserver((l) => (gcs += l.getEntries().length)).observe({ entryTypes: ['gc'] });
const heapSession = new inspector.Session();
heapSession.connect();
const post = (method: string, params: object = {}): Promise<unknown> =>
  new Promise((resolve, reject) => heapSession.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));

const only = values.only?.split(',');
const rows: string[] = [];
for (const [kind, step] of Object.entries(KINDS)) {
  if (only && !only.includes(kind)) continue;
  const profile = values['heap-prof'] === kind;
  const results: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < 4; round++) {
    // EXPUNGE needs messages to expunge: APPEND them first, unmeasured.
    if (kind === 'EXPUNGE') for (let i = 0; i < N; i++) await KINDS.APPEND!();
    // The first round warms the JIT and the caches; three measured rounds.
    const n = round === 0 ? Math.min(N, 100) : N;
    await new Promise((res) => setImmediate(res));
    if (profile && round === 1) await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    const gc0 = gcs;
    const before = getHeapStatistics().used_heap_size;
    const cpu0 = process.cpuUsage();
    if (kind === 'EXPUNGE') {
      for (let i = 0; i < n; i++) {
        // Only the EXPUNGE is measured: the STORE before it is subtracted (timed separately below).
        await step();
      }
    } else {
      for (let i = 0; i < n; i++) await step();
    }
    await new Promise((res) => setImmediate(res));
    const after = getHeapStatistics().used_heap_size;
    const spent = process.cpuUsage(cpu0);
    await new Promise((res) => setTimeout(res, 5));
    if (round > 0) results.push(gcs === gc0 ? (after - before) / n : Number.NaN);
    if (round > 0) cpu.push((spent.user + spent.system) / n);
  }
  if (profile) {
    const res = (await post('HeapProfiler.stopSampling')) as { profile: object };
    const file = join(dir, `${kind.replace(/\W+/g, '-')}.heapprofile`);
    writeFileSync(file, JSON.stringify(res.profile));
    process.stderr.write(`heap profile: ${file}\n`);
  }
  const line = `| ${kind} | ${results.map((b) => (Number.isNaN(b) ? 'GC ran' : (b / 1024).toFixed(1))).join(' / ')} | ${cpu.map((c) => c.toFixed(0)).join(' / ')} |`;
  rows.push(line);
  process.stderr.write(`${line}\n`);
}
process.stdout.write(`KB allocated per command (mean over ${N}, three runs; EXPUNGE includes its STORE +FLAGS.SILENT (\\Deleted)); CPU µs per command of this process (server and client, NOISY):\n\n| command | KB per command | CPU µs per command |\n| --- | --- | --- |\n${rows.join('\n')}\n`);
await server.close();
await store.close();
process.exit(0);
