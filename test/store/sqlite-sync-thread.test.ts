/**
 * SyncThread, where the store's fdatasyncs run: no request waits for a thread to start (a Node
 * worker's start takes tens of milliseconds; the first large body after a start used to wait for
 * its second thread), the first thread starts when asked to (the store does at open), and
 * overlapping requests never start more than the threads allowed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncThread } from '../../src/store/sqlite/sync-thread.js';

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
