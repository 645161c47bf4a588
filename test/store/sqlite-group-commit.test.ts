/**
 * GroupCommit's promise per job (docs/sqlite.md, "What a tagged OK promises"): a durable job
 * resolves after the WAL sync that follows its COMMIT; a batch that changed no row resolves
 * without one; a 'soon' job resolves after its COMMIT, behind earlier durable jobs, while its own
 * sync runs in the background.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { WalSync } from '../../src/store/sqlite/wal-sync.js';

function setup(): { group: GroupCommit; db: BetterSqlite3.Database; calls: Array<() => void> } {
  const calls: Array<() => void> = [];
  const wal = new WalSync('/nonexistent-wal', () => new Promise<void>((resolve) => calls.push(resolve)));
  const db = new BetterSqlite3(':memory:');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  db.prepare('INSERT INTO t VALUES (1, ?)').run('a');
  return { group: new GroupCommit(db, wal), db, calls };
}

const settledSoon = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
};

test('a durable write waits for its sync; a batch that changed nothing does not', async () => {
  const { group, db, calls } = setup();
  const write = group.run(() => db.prepare('UPDATE t SET v = ? WHERE k = 1').run('b'));
  assert.equal(await settledSoon(write), false);
  assert.equal(calls.length, 1);
  calls[0]!();
  await write;
  const nothing = group.run(() => db.prepare('UPDATE t SET v = ? WHERE k = 99').run('x'));
  assert.equal(await settledSoon(nothing), true, 'a batch without changes waited for a sync');
  assert.equal(calls.length, 1, 'a batch without changes asked for a sync');
});

test("a 'soon' write resolves behind an earlier durable one, without waiting for its own sync", async () => {
  const { group, db, calls } = setup();
  const order: string[] = [];
  const durable = group.run(() => db.prepare('UPDATE t SET v = ? WHERE k = 1').run('b')).then(() => order.push('durable'));
  await settledSoon(durable);
  const soon = group.run(() => db.prepare('UPDATE t SET v = ? WHERE k = 1').run('c'), 'soon').then(() => order.push('soon'));
  assert.equal(await settledSoon(soon), false, 'overtook the earlier durable write');
  assert.equal(calls.length, 2, "the 'soon' write's sync did not start");
  calls[0]!();
  await Promise.all([durable, soon]);
  assert.deepEqual(order, ['durable', 'soon']);
  const alone = group.run(() => db.prepare('UPDATE t SET v = ? WHERE k = 1').run('d'), 'soon');
  assert.equal(await settledSoon(alone), true, "a 'soon' write with nothing before it waited for a sync");
});

test('a failing job rolls back alone: in a batch its savepoint, alone its whole transaction', async () => {
  const { group, db, calls } = setup();
  const v = (): string => (db.prepare('SELECT v FROM t WHERE k = 1').pluck().get() as string);
  // Three jobs queued in one turn commit in one transaction; the middle one fails half-way.
  const first = group.run(() => db.prepare('INSERT INTO t VALUES (2, ?)').run('x'), 'soon');
  const failing = group.run(() => {
    db.prepare('UPDATE t SET v = ? WHERE k = 1').run('lost');
    throw new Error('job failed');
  }, 'soon');
  const third = group.run(() => db.prepare('INSERT INTO t VALUES (3, ?)').run('y'), 'soon');
  await assert.rejects(failing, /job failed/);
  await Promise.all([first, third]);
  assert.equal(v(), 'a', "the failed job's own change was kept");
  assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 3, 'the other jobs of the batch were lost');
  // Alone in its transaction: rolled back, and the next job commits normally.
  const alone = group.run(() => {
    db.prepare('UPDATE t SET v = ? WHERE k = 1').run('lost');
    throw new Error('alone failed');
  });
  await assert.rejects(alone, /alone failed/);
  assert.equal(v(), 'a');
  assert.equal(db.inTransaction, false, 'a transaction was left open');
  const next = group.run(() => db.prepare('UPDATE t SET v = ? WHERE k = 1').run('b'));
  let settled = false;
  void next.then(() => (settled = true));
  for (let i = 0; i < 20 && !settled; i++) {
    for (const c of calls.splice(0)) c();
    await new Promise((r) => setImmediate(r));
  }
  await next;
  assert.equal(v(), 'b');
  // A job returning a promise would run its rest after the COMMIT: refused, nothing kept.
  const promised = group.run(() => {
    db.prepare('UPDATE t SET v = ? WHERE k = 1').run('lost');
    return Promise.resolve(1);
  });
  await assert.rejects(promised, /cannot return a promise/);
  assert.equal(v(), 'b');
});

test("a batch's savepoints keep their sub-journal in memory: no temporary file under the exclusive lock, a big failing job still rolls back alone", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-group-subjournal-'));
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    // ~2 MB over ~500 pages: a job rewriting them all puts ~2 MB in its savepoint's sub-journal,
    // far past the 64 KiB at which SQLite would spill it to a temporary file.
    db.transaction(() => {
      for (let k = 1; k <= 2000; k++) insert.run(k, 'a'.repeat(1000));
    })();
    const calls: Array<() => void> = [];
    const group = new GroupCommit(db, new WalSync('/nonexistent-wal', () => new Promise<void>((resolve) => calls.push(resolve))));
    assert.equal(db.pragma('temp_store', { simple: true }), 2, 'temp_store is not MEMORY');
    const rewrite = (v: string) => () => db.prepare('UPDATE t SET v = ?').run(v.repeat(1000));
    const first = group.run(rewrite('b'), 'soon');
    const failing = group.run(() => {
      rewrite('c')();
      throw new Error('big job failed');
    }, 'soon');
    const third = group.run(() => db.prepare('UPDATE t SET v = ? WHERE k = 1').run('d'), 'soon');
    await assert.rejects(failing, /big job failed/);
    await Promise.all([first, third]);
    assert.equal(db.prepare("SELECT count(*) FROM t WHERE substr(v, 1, 1) = 'c'").pluck().get(), 0, "the failed job's changes were kept");
    assert.equal(db.prepare("SELECT count(*) FROM t WHERE substr(v, 1, 1) = 'b'").pluck().get(), 1999);
    assert.equal(db.prepare('SELECT v FROM t WHERE k = 1').pluck().get(), 'd');
    if (process.platform === 'linux') {
      const temporary = readdirSync('/proc/self/fd')
        .map((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .filter((target) => /etilqs_/.test(target));
      assert.deepEqual(temporary, [], 'a savepoint spilled its sub-journal to a temporary file');
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
