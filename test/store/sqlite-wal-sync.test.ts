/**
 * WalSync, the durability barrier of the SQLite store: a caller resolves only after a sync that
 * started after it called, syncs overlap but acknowledgements keep call order, and a failed sync
 * fails its callers unless a later sync already covered them; a background sync (syncSoon) may
 * wait a bounded delay for a durable caller's sync to cover it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WalSync } from '../../src/store/sqlite/wal-sync.js';

/** A syncer the test finishes by hand, one call at a time. */
function manualSyncer(): { syncer: () => Promise<void>; calls: Array<{ finish: () => void; fail: (e: Error) => void }> } {
  const calls: Array<{ finish: () => void; fail: (e: Error) => void }> = [];
  const syncer = (): Promise<void> => new Promise<void>((resolve, reject) => calls.push({ finish: resolve, fail: reject }));
  return { syncer, calls };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a later sync finishing first acknowledges the earlier callers too, in call order', async () => {
  const { syncer, calls } = manualSyncer();
  const wal = new WalSync('/nonexistent-wal', syncer);
  const order: string[] = [];
  const a = wal.sync().then(() => order.push('a'));
  const b = wal.sync().then(() => order.push('b'));
  await tick();
  assert.equal(calls.length, 2, 'the second caller did not wait for the first sync to finish');
  calls[1]!.finish();
  await Promise.all([a, b]);
  assert.deepEqual(order, ['a', 'b']);
  calls[0]!.finish(); // the older sync ending late changes nothing
  await tick();
  assert.equal(wal.syncs, 2);
});

test('beyond two syncs in flight, callers queue and share the next sync', async () => {
  const { syncer, calls } = manualSyncer();
  const wal = new WalSync('/nonexistent-wal', syncer);
  let done = 0;
  const all = [wal.sync(), wal.sync(), wal.sync(), wal.sync()].map((p) => p.then(() => done++));
  await tick();
  assert.equal(calls.length, 2);
  calls[0]!.finish();
  await tick();
  assert.equal(done, 1, 'only the first caller was covered');
  assert.equal(calls.length, 3, 'the two queued callers share one new sync');
  calls[2]!.finish();
  await Promise.all(all);
  assert.equal(done, 4);
  calls[1]!.finish();
});

test('a failed sync fails its callers, unless a later sync already covered them', async () => {
  const { syncer, calls } = manualSyncer();
  const wal = new WalSync('/nonexistent-wal', syncer);
  const first = wal.sync();
  const second = wal.sync();
  await tick();
  calls[0]!.fail(new Error('EIO'));
  await assert.rejects(first, /EIO/);
  calls[1]!.finish();
  await second;

  const third = wal.sync();
  const fourth = wal.sync();
  await tick();
  calls[3]!.finish(); // covers the third caller as well
  await Promise.all([third, fourth]);
  calls[2]!.fail(new Error('EIO, too late to matter'));
  await tick();
  await wal.close();
});

test('afterPending waits for the callers already waiting, in order, and asks for no sync itself', async () => {
  const { syncer, calls } = manualSyncer();
  const wal = new WalSync('/nonexistent-wal', syncer);
  await wal.afterPending(); // nothing pending: at once
  assert.equal(calls.length, 0);
  const order: string[] = [];
  const durable = wal.sync().then(() => order.push('durable'));
  const behind = wal.afterPending().then(() => order.push('behind'));
  await tick();
  assert.equal(calls.length, 1, 'afterPending started a sync');
  assert.deepEqual(order, []);
  calls[0]!.finish();
  await Promise.all([durable, behind]);
  assert.deepEqual(order, ['durable', 'behind']);
});

test('afterPending does not queue behind a background sync, and a failed earlier sync does not fail it', async () => {
  const { syncer, calls } = manualSyncer();
  const wal = new WalSync('/nonexistent-wal', syncer);
  const reported: unknown[] = [];
  wal.syncSoon((e) => reported.push(e));
  await tick();
  assert.equal(calls.length, 1, 'syncSoon starts a sync at once');
  let done = false;
  await wal.afterPending().then(() => (done = true));
  assert.equal(done, true, 'waited for a sync nobody needs');
  calls[0]!.fail(new Error('EIO'));
  await tick();
  assert.equal(reported.length, 1, 'a failed background sync is reported');

  const failing = wal.sync();
  const behind = wal.afterPending();
  await tick();
  calls[1]!.fail(new Error('EIO'));
  await assert.rejects(failing, /EIO/);
  await behind; // resolves: its own change is not the one the failed sync was for
});

test("with a delay, a background sync rides on the next durable caller's sync, or starts when the delay runs out", async () => {
  // A delay no loaded machine reaches, so that only the durable caller can start the sync.
  const { syncer, calls } = manualSyncer();
  const wal = new WalSync('/nonexistent-wal', syncer, undefined, 60_000);
  const reported: unknown[] = [];
  // A flag change, then the EXPUNGE that follows it: one sync covers both.
  wal.syncSoon((e) => reported.push(e));
  await tick();
  assert.equal(calls.length, 0, 'the background sync started before its delay ran out');
  const durable = wal.sync();
  await tick();
  assert.equal(calls.length, 1, 'the durable caller waited for the delay');
  calls[0]!.finish();
  await durable;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(calls.length, 1, 'the background sync ran again after the durable one took it along');
  assert.equal(wal.syncs, 1);
  await wal.close();

  // A flag change with no write after it is synced once its delay runs out — not before.
  const short = manualSyncer();
  const wal2 = new WalSync('/nonexistent-wal', short.syncer, undefined, 20);
  const asked = performance.now();
  wal2.syncSoon((e) => reported.push(e));
  wal2.syncSoon((e) => reported.push(e));
  while (short.calls.length === 0 && performance.now() - asked < 5_000) await new Promise((r) => setTimeout(r, 2));
  assert.equal(short.calls.length, 1, 'the delayed background sync never started, or started twice');
  // A timer counts from the loop's cached time: a few ms of slack for a loaded machine.
  assert.ok(performance.now() - asked >= 10, 'the background sync did not wait for its delay');
  short.calls[0]!.fail(new Error('EIO'));
  await tick();
  assert.equal(reported.length, 2, 'each background caller of the failed sync is told');
});

test('close() starts a delayed background sync and waits for it', async () => {
  const { syncer, calls } = manualSyncer();
  const wal = new WalSync('/nonexistent-wal', syncer, undefined, 60_000);
  wal.syncSoon(() => {});
  let closed = false;
  const closing = wal.close().then(() => (closed = true));
  await tick();
  assert.equal(calls.length, 1, 'close() left the delayed sync unstarted');
  assert.equal(closed, false, 'close() did not wait for the sync');
  calls[0]!.finish();
  await closing;
  assert.equal(wal.syncs, 1);
});
