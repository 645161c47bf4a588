/**
 * `npx tsx bench/sqlite-locking-cpu.ts [--reads N] [--writes N] [--rounds R]`: CPU per SQLite
 * transaction with locking_mode=EXCLUSIVE (what the store uses: one process holds the database) and
 * NORMAL (what any design with a second process reading or writing the same data folder needs —
 * `serve --workers` on SQLite without forwarding every call). In WAL mode NORMAL takes and drops
 * fcntl locks on the database and the WAL index (-shm) around every transaction; EXCLUSIVE keeps
 * the WAL index in the process's heap. One small point read and one small update per transaction
 * (both autocommit, as most of the store's reads are), the modes alternated `--rounds` times on
 * fresh databases in a temporary folder; no fsync is timed (synchronous=NORMAL, as the store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sqliteDatabase } from '../src/store/sqlite/native.js';

const { values } = parseArgs({
  options: { reads: { type: 'string', default: '100000' }, writes: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' } },
});
const READS = Number(values.reads);
const WRITES = Number(values.writes);

const cpuUs = (c: NodeJS.CpuUsage): number => c.user + c.system;

function measure(mode: 'EXCLUSIVE' | 'NORMAL'): { read: number; write: number; writeSys: number } {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-locking-'));
  try {
    const db = new (sqliteDatabase())(join(dir, 'mail.sqlite'));
    db.pragma(`locking_mode = ${mode}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE m (id INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO m (v) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 1000; i++) insert.run('x'.repeat(100));
    })();
    const read = db.prepare('SELECT v FROM m WHERE id = ?');
    const update = db.prepare('UPDATE m SET v = ? WHERE id = ?');
    for (let i = 0; i < 5000; i++) read.get((i % 1000) + 1); // warm
    let t = process.cpuUsage();
    for (let i = 0; i < READS; i++) read.get((i % 1000) + 1);
    const r = cpuUs(process.cpuUsage(t)) / READS;
    t = process.cpuUsage();
    for (let i = 0; i < WRITES; i++) update.run('y'.repeat(100), (i % 1000) + 1);
    const w = process.cpuUsage(t);
    db.close();
    return { read: r, write: cpuUs(w) / WRITES, writeSys: w.system / WRITES };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (let round = 1; round <= Number(values.rounds); round++) {
  for (const mode of ['EXCLUSIVE', 'NORMAL'] as const) {
    const m = measure(mode);
    process.stdout.write(`round ${round} ${mode.padEnd(9)}: read transaction ${m.read.toFixed(2)} µs CPU, write transaction ${m.write.toFixed(2)} µs (system ${m.writeSys.toFixed(2)})\n`);
  }
}
