/**
 * The cost of the i;unicode-casemap upgrade of stored search columns (SQLite v22, PostgreSQL v10)
 * on a large mailbox: N messages (default 100,000) written through the store's importer, the
 * database put back as the version before left it (columns renamed back, version lowered), then
 * the store opened again in a process of its own and the open timed — wall clock, that process's
 * CPU time and its peak RSS — and once more when there is nothing left to upgrade.
 *
 *   npx tsx bench/refold.ts [--messages N] [--store sqlite|postgres|both]
 *
 * PostgreSQL runs on a throwaway cluster of its own (test/helpers/pg-cluster.ts), stopped at exit.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { PostgresStore } from '../src/store/postgres/index.js';
import type { MigrationTarget } from '../src/store/migrate/types.js';
import { startPgCluster } from '../test/helpers/pg-cluster.js';
import { BENCH_TMP } from './servers/common.js';

const { values } = parseArgs({ options: { messages: { type: 'string' }, store: { type: 'string' }, open: { type: 'string' }, where: { type: 'string' } } });
const MESSAGES = Number(values.messages ?? 100_000);
const WHICH = values.store ?? 'both';
const HEADERS = ['from', 'to', 'cc', 'bcc', 'subject'];

const NAMES = ['=?utf-8?q?J=C3=BCrgen_M=C3=BCller?=', 'Anna Smith', '=?utf-8?b?0JjQstCw0L0g0J/QtdGC0YDQvtCy?=', 'Zoë', 'Bob'];
function message(i: number): Buffer {
  const name = NAMES[i % NAMES.length]!;
  return Buffer.from(
    `Return-Path: <p${i}@example.org>\r\nReceived: from mx.example.org by mail.example.net; Mon, 2 Dec 2024 10:00:00 +0000\r\n` +
      `From: ${name} <p${i % 997}@example.org>\r\nTo: alice@example.net, Team <team${i % 13}@example.net>\r\nCc: ${NAMES[(i + 1) % NAMES.length]} <c@example.org>\r\n` +
      `Subject: =?utf-8?q?R=C3=A9union_n=C2=B0${i}_=E2=80=93_Stra=C3=9Fe?= plan ${i}\r\nDate: Mon, 2 Dec 2024 10:00:00 +0000\r\n` +
      `Message-ID: <m${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
      `${'Body line of a typical message. '.repeat(40)}${i}\r\n`,
  );
}

async function seed(store: MigrationTarget): Promise<void> {
  const importer = await store.importUser('alice');
  const box = await importer.mailbox({ name: 'INBOX', noselect: false, uidValidity: 1, uidNext: MESSAGES + 1, highestModseq: MESSAGES + 1 });
  for (let first = 1; first <= MESSAGES; first += 1000) {
    const batch = [];
    for (let uid = first; uid < Math.min(first + 1000, MESSAGES + 1); uid++) {
      batch.push({ uid, flags: [], modseq: uid, internalDate: new Date(1_700_000_000_000 + uid * 1000), content: message(uid) });
    }
    await importer.messages(box, batch);
  }
}

interface Result {
  /** Opening the database left at the version before: the upgrade and everything else open does. */
  upgrade: Measured;
  /** Opening it again, nothing left to upgrade: what open costs anyway. */
  plainOpen: Measured;
}

interface Measured {
  ms: number;
  cpuMs: number;
  /**
   * The opening process's peak resident set (getrusage maxrss): it does nothing but the open. For
   * SQLite it includes the page cache (cache_size, 64 MiB) the steps fill.
   */
  maxRssMb: number;
  /** V8's committed heap right after the open: it grows to what the open needed and stays. */
  heapTotalMb: number;
}

/** Opens the store in a process of its own (`--open`), so its peak RSS is the open's alone. */
function timed(kind: 'sqlite' | 'postgres', where: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--open', kind, '--where', where], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Measured) : reject(new Error(`open failed (${code}): ${out}`))));
  });
}

/** The child: open, close, report. */
async function openOnce(kind: string, where: string): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const store = kind === 'sqlite' ? await SqliteStore.open({ directory: where }) : await PostgresStore.open({ connectionString: where });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const heapTotalMb = Math.round(process.memoryUsage().heapTotal / 2 ** 20);
  await store.close();
  const measured: Measured = {
    ms: Math.round(ms),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapTotalMb,
  };
  process.stdout.write(JSON.stringify(measured));
}

async function sqlite(): Promise<Result> {
  const dir = join(BENCH_TMP, 'refold-sqlite');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = await SqliteStore.open({ directory: dir });
  await seed(store);
  await store.close();
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
  db.exec(HEADERS.map((h) => `ALTER TABLE content_search RENAME COLUMN cm_${h} TO hdr_${h};`).join('') + 'UPDATE schema_version SET version = 21;');
  db.close();
  const upgrade = await timed('sqlite', dir);
  const plainOpen = await timed('sqlite', dir);
  rmSync(dir, { recursive: true, force: true });
  return { upgrade, plainOpen };
}

async function postgres(): Promise<Result> {
  const cluster = await startPgCluster();
  try {
    const admin = new pg.Client({ connectionString: cluster.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_refold');
    await admin.end();
    const url = cluster.adminUrl.replace(/\/postgres$/, '/bench_refold');
    const store = await PostgresStore.open({ connectionString: url });
    await seed(store);
    await store.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    for (const h of HEADERS) await c.query(`ALTER TABLE contents RENAME COLUMN cm_${h} TO hdr_${h}`);
    await c.query('DELETE FROM postroom_schema WHERE version >= 10');
    await c.end();
    const upgrade = await timed('postgres', url);
    const plainOpen = await timed('postgres', url);
    return { upgrade, plainOpen };
  } finally {
    cluster.stop();
  }
}

async function main(): Promise<void> {
  const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
  const out: Record<string, Result> = {};
  if (WHICH !== 'postgres') out.sqlite = await sqlite();
  if (WHICH !== 'sqlite') out.postgres = await postgres();
  console.log(JSON.stringify({ messages: MESSAGES, loadAtStart: load, loadAtEnd: (await import('node:os')).loadavg()[0]!.toFixed(1), ...out }, null, 2));
}

if (values.open) await openOnce(values.open, values.where!);
else await main();
