/**
 * The setup the Sieve filter-step benches share (sieve-filter-alloc.ts, sieve-alloc-sites.ts): a
 * fresh SQLite user under BENCH_TMP/<name> with the 50-rule script active and the folders it files
 * into, the filter as delivery builds it, and one delivery's filter call over a header that differs
 * per call (as deliveries' do).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSieveFilter } from '../../src/delivery/sieve-filter.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { BENCH_TMP } from '../servers/common.js';
import { FIFTY_RULE_SCRIPT, sieveVariant } from './fifty-rules.js';

const HEAD = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n';

/** The header of delivery number `seq`: one of the script's variants, and a field unique to it. */
export function benchHeader(seq: number): Buffer {
  const variant = sieveVariant(seq);
  return Buffer.from(`Return-Path: <bench@bench.test>\r\nX-Bench: alloc-${seq}\r\n${variant}${variant.startsWith('Subject:') ? HEAD.replace(/^Subject: .*\r\n/m, '') : HEAD}`);
}

export interface FilterBench {
  /** Runs the filter step for one delivery with this header. */
  run(header: Buffer): unknown;
  /** Closes the store and removes its folder. */
  close(): Promise<void>;
}

export async function openFilterBench(name: string): Promise<FilterBench> {
  const dir = join(BENCH_TMP, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = await SqliteStore.open({ directory: dir });
  const mail = await store.open('user1');
  await mail.sievePut!('bench', FIFTY_RULE_SCRIPT);
  await mail.sieveSetActive!('bench');
  for (const folder of ['Tickets', 'Lists', ...Array.from({ length: 7 }, (_, i) => `Lists/list${i + 1}`)]) await mail.create(folder);
  const filter = createSieveFilter({ scriptChanges: store });
  return {
    run: (header) =>
      filter({ from: 'bench@bench.test', recipient: { address: 'user1@bench.test', user: 'user1' }, mailbox: 'INBOX', header, mail, headerComplete: true, defer: () => undefined }),
    close: async () => {
      await mail.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
