/**
 * A large body's file is moved into blobs/ and its directory fsynced before the transaction that
 * references it, with the sync on the store's sync thread rather than on the event loop; a pending
 * removal of the same bytes must not delete a file that is being installed.
 */
import { strict as assert } from 'node:assert';
import { existsSync, fstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { BlobFiles } from '../../src/store/sqlite/blob-files.js';
import type { SyncThread } from '../../src/store/sqlite/sync-thread.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'postroom-blob-install-'));
  dirs.push(d);
  return d;
}

/** Records what it was asked to sync, and whether each descriptor was a directory. */
function recordingThread(): { thread: SyncThread; calls: Array<{ kind: 'fsync' | 'fdatasync'; directory: boolean }> } {
  const calls: Array<{ kind: 'fsync' | 'fdatasync'; directory: boolean }> = [];
  const thread = {
    fdatasync: async (fd: number) => void calls.push({ kind: 'fdatasync', directory: fstatSync(fd).isDirectory() }),
    fsync: async (fd: number) => void calls.push({ kind: 'fsync', directory: fstatSync(fd).isDirectory() }),
  } as unknown as SyncThread;
  return { thread, calls };
}

function tempBody(files: BlobFiles, bytes: Buffer): { path: string; sha256: Buffer } {
  const path = join(files.tmp, `t-${Math.random().toString(16).slice(2)}`);
  writeFileSync(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest() };
}

describe('SqliteStore body files: install', () => {
  it('moves the file into place and fsyncs its directory on the sync thread', async () => {
    const { thread, calls } = recordingThread();
    const files = new BlobFiles(folder(), thread);
    const bytes = Buffer.from('x'.repeat(1000));
    const { path, sha256 } = tempBody(files, bytes);
    await files.syncTemp(path);
    await files.install(path, sha256);
    files.installed(sha256);
    assert.equal(existsSync(path), false);
    assert.deepEqual(readFileSync(files.pathFor(sha256)), bytes);
    assert.deepEqual(calls, [
      { kind: 'fdatasync', directory: false },
      { kind: 'fsync', directory: true },
    ]);
  });

  it('a pending removal of the same bytes leaves a file that is being installed alone', async () => {
    const { thread } = recordingThread();
    const files = new BlobFiles(folder(), thread);
    const bytes = Buffer.from('y'.repeat(1000));
    const first = tempBody(files, bytes);
    await files.install(first.path, first.sha256);
    files.installed(first.sha256);
    // The message is expunged: its file waits out a grace period before it goes.
    files.removeLater(first.sha256, 60_000, () => false, (err) => assert.fail(String(err)));
    // The same bytes are appended again and moved into place; the grace period ends before the commit.
    const second = tempBody(files, bytes);
    await files.install(second.path, second.sha256);
    files.flushPendingRemovals();
    assert.equal(existsSync(files.pathFor(second.sha256)), true, 'the file the APPEND is about to reference is still there');
    files.installed(second.sha256);
    // Once nothing installs it, an unreferenced file goes as before.
    files.removeLater(second.sha256, 0, () => false, (err) => assert.fail(String(err)));
    assert.equal(existsSync(files.pathFor(second.sha256)), false);
  });
});
