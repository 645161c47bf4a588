/**
 * SyncThread, where the store's fdatasyncs run: no request waits for a thread to start (a Node
 * worker's start takes tens of milliseconds; the first large body after a start used to wait for
 * its second thread), the first thread starts when asked to (the store does at open), and
 * overlapping requests never start more than the threads allowed; requests and answers pass through
 * shared memory (more than the ring holds settle too, and a failure keeps its errno).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncThread } from '../../src/store/sqlite/sync-thread.js';
import { resolveSqliteLimits } from '../../src/store/sqlite/limits.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'postroom-sync-thread-'));
const fds: number[] = [];
after(() => {
  for (const fd of fds) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

function fileWithBytes(name: string): number {
  const fd = openSync(join(dir, name), 'w');
  writeSync(fd, Buffer.alloc(4096, 1));
  fds.push(fd);
  return fd;
}

test('a request made while no thread is up runs on the thread pool instead of waiting for one to start', async () => {
  const threads = new SyncThread();
  try {
    const fd = fileWithBytes('a');
    await threads.fdatasync(fd);
    assert.equal(threads.pooled, 1, 'the first request waited for a thread to start');
    assert.equal(threads.started, 1, 'no thread was started for later requests');
    await threads.ready();
    await threads.fdatasync(fd);
    await threads.fsync(fd);
    assert.equal(threads.pooled, 1, 'a request went to the pool although a thread was up');
  } finally {
    await threads.close();
  }
});

test('prestart starts one thread at once; overlapping requests start at most maxThreads, none waiting for a start', async () => {
  const threads = new SyncThread(undefined, 2);
  try {
    threads.prestart();
    assert.equal(threads.started, 1);
    await threads.ready();
    const fd = fileWithBytes('b');
    for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? threads.fsync(fd) : threads.fdatasync(fd))));
    assert.equal(threads.pooled, 0, 'a request ran on the pool although a thread was up');
    assert.ok(threads.started <= 2, `${threads.started} threads started, at most 2 allowed`);
    assert.equal(threads.inFlight, 0);
  } finally {
    await threads.close();
  }
});

test('prestart(n) starts n threads at once (serve: all of them at open), never more than allowed; the store takes it as a limit', async () => {
  const threads = new SyncThread(undefined, 3);
  try {
    threads.prestart(3);
    assert.equal(threads.started, 3);
    threads.prestart(5);
    assert.equal(threads.started, 3, 'no more than maxThreads');
    const fd = fileWithBytes('c');
    // Overlapping requests start none beyond them.
    await threads.ready();
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 6 }, () => threads.fdatasync(fd)));
    assert.equal(threads.started, 3);
  } finally {
    await threads.close();
  }
  assert.deepEqual(resolveSqliteLimits({}).syncThreadsAtOpen, 1);
  assert.equal(resolveSqliteLimits({ syncThreadsAtOpen: 3 }).syncThreadsAtOpen, 3);
  assert.throws(() => resolveSqliteLimits({ syncThreadsAtOpen: 4 }), /syncThreadsAtOpen must be a whole number from 0 to 3/);
  const store = await SqliteStore.open({ directory: join(dir, 'store'), limits: { syncThreadsAtOpen: 3 } });
  try {
    assert.equal((store as unknown as { ctx: { syncThread: SyncThread } }).ctx.syncThread?.started, 3);
  } finally {
    await store.close();
  }
});

test('requests and answers pass through shared memory: more than a ring holds at once all settle, and a failed sync rejects with its errno', async () => {
  const threads = new SyncThread(undefined, 1);
  try {
    await threads.ready();
    const fd = fileWithBytes('c');
    // 200 at once on one thread: the ring holds 64, the rest wait in the loop's queue.
    let settled = 0;
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 3 ? threads.fdatasync(fd) : threads.fsync(fd)).then(() => settled++)));
    assert.equal(settled, 200);
    assert.equal(threads.inFlight, 0);
    assert.equal(threads.pooled, 0);
    // A descriptor that is not open: the thread's EBADF comes back as the error's code, and the
    // requests around it still succeed.
    const closed = openSync(join(dir, 'd'), 'w');
    closeSync(closed);
    const results = await Promise.allSettled([threads.fdatasync(fd), threads.fdatasync(closed), threads.fsync(closed), threads.fsync(fd)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.equal(((results[1] as PromiseRejectedResult).reason as NodeJS.ErrnoException).code, 'EBADF');
    assert.equal(((results[1] as PromiseRejectedResult).reason as NodeJS.ErrnoException).syscall, 'fdatasync');
    assert.equal(((results[2] as PromiseRejectedResult).reason as NodeJS.ErrnoException).syscall, 'fsync');
    assert.equal(threads.started, 1);
  } finally {
    await threads.close();
  }
});

test('the request counts wrap at 2^31 without losing or mixing up a request', async () => {
  // Counts started just below the wrap: 300 requests (some failing) cross it, ring slots and all.
  const threads = new SyncThread(undefined, 1, 2 ** 31 - 100);
  try {
    await threads.ready();
    const fd = fileWithBytes('e');
    const closed = openSync(join(dir, 'f'), 'w');
    closeSync(closed);
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => threads.fdatasync(i % 7 === 3 ? closed : fd)));
    results.forEach((r, i) => assert.equal(r.status, i % 7 === 3 ? 'rejected' : 'fulfilled', `request ${i}`));
    for (let i = 0; i < 150; i++) await threads.fsync(fd);
    assert.equal(threads.inFlight, 0);
    assert.equal(threads.pooled, 0);
  } finally {
    await threads.close();
  }
});
