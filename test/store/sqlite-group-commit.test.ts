/**
 * GroupCommit's promise per job (docs/sqlite.md, "What a tagged OK promises"): a durable job
 * resolves after the WAL sync that follows its COMMIT; a batch that changed no row resolves
 * without one; a 'soon' job resolves after its COMMIT, behind earlier durable jobs, while its own
 * sync runs in the background.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
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
