/**
 * `node --heap-prof --heap-prof-interval 256 --import tsx bench/sieve-filter-alloc.ts [N]`, or plain
 * `tsx` for the CPU figure: the Sieve filter step of one delivery (createSieveFilter, the 50-rule
 * script of bench/sieve/fifty-rules.ts, a SQLite user) run N times over headers that differ in
 * every call, as deliveries' do — what one run costs in CPU and allocates (the garbage the
 * collector then takes CPU to clear, part of it on V8's helper threads).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSieveFilter } from '../src/delivery/sieve-filter.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { BENCH_TMP } from './servers/common.js';
import { FIFTY_RULE_SCRIPT, sieveVariant } from './sieve/fifty-rules.js';

const N = Number(process.argv[2] ?? 20000);
const dir = join(BENCH_TMP, 'sieve-filter-alloc');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const store = await SqliteStore.open({ directory: dir });
const mail = await store.open('user1');
await mail.sievePut!('bench', FIFTY_RULE_SCRIPT);
await mail.sieveSetActive!('bench');
for (const name of ['Tickets', 'Lists', ...Array.from({ length: 7 }, (_, i) => `Lists/list${i + 1}`)]) await mail.create(name);
const filter = createSieveFilter({ scriptChanges: store });
const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n';
const header = (seq: number): Buffer => {
  const variant = sieveVariant(seq);
  return Buffer.from(`Return-Path: <bench@bench.test>\r\nX-Bench: alloc-${seq}\r\n${variant}${variant.startsWith('Subject:') ? head.replace(/^Subject: .*\r\n/m, '') : head}`);
};
const run = (seq: number) =>
  filter({ from: 'bench@bench.test', recipient: { address: 'user1@bench.test', user: 'user1' }, mailbox: 'INBOX', header: header(seq), mail, headerComplete: true, defer: () => undefined });
for (let i = 0; i < 2000; i++) await run(i);
for (let k = 0; k < 3; k++) {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) await run(i);
  const used = process.cpuUsage(start);
  process.stdout.write(`filter step: ${((used.user + used.system) / N).toFixed(1)} µs CPU per delivery (all threads)\n`);
}
await mail.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
