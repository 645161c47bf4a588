/**
 * `npx tsx bench/wal-frames.ts [--kb 10] [--count 300] [--plain]`: how many WAL frames (pages) one
 * message commit writes, and which tables they belong to. A fresh SQLite store, checkpoints off;
 * `--count` messages of `--kb` KB appended one at a time (the path LMTP delivery and IMAP APPEND
 * share: UserMailbox.append, one transaction each); each commit's frames are read back from
 * mail.sqlite-wal. Printed: frames per commit over the last 100 (mean, min, max), the CPU per
 * append, and — named with `dbstat` after the store is closed — the pages of the last commit.
 *
 * Messages are delivery-like: a unique Message-ID and, every other one, an In-Reply-To naming the
 * one before (what mail from an MTA carries); `--plain` leaves both out (the LMTP bench's body).
 * Frame counts do not depend on the machine's load; the CPU figure does (it is noisy).
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { BENCH_TMP } from './servers/common.js';

const { values } = parseArgs({
  options: {
    kb: { type: 'string', default: '10' },
    count: { type: 'string', default: '300' },
    plain: { type: 'boolean', default: false },
    // Every Nth message into one of seven other folders (Lists/list1..7) instead of INBOX, as Sieve
    // files the LMTP bench's messages: the frames of those commits are reported apart.
    other: { type: 'string', default: '0' },
  },
});
const OTHER = Number(values.other);
const SIZE = Number(values.kb) * 1024;
const COUNT = Number(values.count);
const MEASURED = Math.min(100, COUNT - 1);

const dir = join(BENCH_TMP, 'wal-frames');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const data = join(dir, 'data');
const walPath = join(data, 'mail.sqlite-wal');

/** Page numbers of the frames in the WAL from byte `from` to its end, and the WAL's page size. */
function framesFrom(from: number): { pages: number[]; end: number } {
  const size = statSync(walPath).size;
  const fd = openSync(walPath, 'r');
  try {
    const header = Buffer.alloc(32);
    readSync(fd, header, 0, 32, 0);
    const pageSize = header.readUInt32BE(8);
    const frame = 24 + pageSize;
    const pages: number[] = [];
    const start = Math.max(from, 32);
    const head = Buffer.alloc(24);
    for (let at = start; at + frame <= size; at += frame) {
      readSync(fd, head, 0, 24, at);
      pages.push(head.readUInt32BE(0));
    }
    return { pages, end: start + Math.floor((size - start) / frame) * frame };
  } finally {
    closeSync(fd);
  }
}

function message(i: number): Buffer {
  const ids = values.plain ? '' : `Message-ID: <m${i}.${process.pid}@bench.test>\r\n` + (i % 2 === 1 ? `In-Reply-To: <m${i - 1}.${process.pid}@bench.test>\r\n` : '');
  const head = `From: Bench <bench@bench.test>\r\nTo: user1@bench.test\r\nSubject: frames ${i % 7}\r\nDate: Sat, 05 Dec 2026 00:00:00 +0000\r\n${ids}X-N: ${i}\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789\r\n';
  return Buffer.from(head + line.repeat(Math.max(1, Math.ceil((SIZE - head.length) / line.length))));
}

// No checkpoint while appending: every commit's frames stay in the WAL, in order.
const store = await SqliteStore.open({ directory: data, checkpoints: { intervalMs: 3_600_000, growthPages: Number.POSITIVE_INFINITY } });
const user = await store.open('user1');
const inbox = await user.get('INBOX');
const others = [];
if (OTHER > 0) for (let k = 1; k <= 7; k++) others.push(await user.create(`Lists/list${k}`));
const perCommit: number[] = [];
const perOtherCommit: number[] = [];
let last: number[] = [];
let cpu = 0;
let offset = framesFrom(0).end;
for (let i = 0; i < COUNT; i++) {
  const content = message(i);
  const before = process.cpuUsage();
  const filed = OTHER > 0 && i % OTHER === 0;
  await user.append(filed ? others[(i / OTHER) % others.length]!.id : inbox.id, { content });
  const used = process.cpuUsage(before);
  const { pages, end } = framesFrom(offset);
  offset = end;
  if (i >= COUNT - MEASURED) {
    (filed ? perOtherCommit : perCommit).push(pages.length);
    cpu += used.user + used.system;
  }
  last = pages;
}
await store.close();

const db = new Database(join(data, 'mail.sqlite'), { readonly: true });
const names = new Map<number, string>();
for (const r of db.prepare('SELECT name, pageno, pagetype FROM dbstat').all() as Array<{ name: string; pageno: number; pagetype: string }>) {
  names.set(r.pageno, `${r.name} (${r.pagetype})`);
}
db.close();
const mean = perCommit.reduce((a, b) => a + b, 0) / perCommit.length;
console.log(`${SIZE} bytes, ${COUNT} appends${values.plain ? ' (no Message-ID)' : ''}: WAL frames per commit over the last ${MEASURED}: mean ${mean.toFixed(2)}, min ${Math.min(...perCommit)}, max ${Math.max(...perCommit)}; CPU ${(cpu / MEASURED).toFixed(0)} µs per append (NOISY)`);
if (perOtherCommit.length > 0) {
  const m = perOtherCommit.reduce((a, b) => a + b, 0) / perOtherCommit.length;
  console.log(`  of them into INBOX: ${perCommit.length}; into the other folders: ${perOtherCommit.length}, mean ${m.toFixed(2)} frames, min ${Math.min(...perOtherCommit)}, max ${Math.max(...perOtherCommit)}`);
}
const tally = new Map<string, number>();
for (const p of last) {
  const name = p === 1 ? 'page 1 (header)' : (names.get(p) ?? `page ${p} (free or gone)`);
  tally.set(name, (tally.get(name) ?? 0) + 1);
}
console.log(`the last commit's ${last.length} frames:`);
for (const [name, n] of [...tally].sort((a, b) => a[0].localeCompare(b[0]))) console.log(`  ${n} × ${name}`);
rmSync(dir, { recursive: true, force: true });
