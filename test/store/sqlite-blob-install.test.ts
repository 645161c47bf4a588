/**
 * A large body's file is moved into blobs/, its data and its directory synced before the transaction
 * that references it, with the syncs on the store's sync threads rather than on the event loop
 * (after the rename and side by side for new bytes, data before the rename over an existing file); a pending
 * removal of the same bytes must not delete a file that is being installed.
 */
import { strict as assert } from 'node:assert';
import { existsSync, fstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
interface Call {
  kind: 'fsync' | 'fdatasync';
  directory: boolean;
  /** Whether no file was left in tmp/ when the sync was asked for (the rename had happened). */
  renamed: boolean;
}
function recordingThread(gate?: Promise<void>): { thread: SyncThread; calls: Call[] } {
  const calls: Call[] = [];
  const record = (kind: Call['kind'], fd: number): void => {
    const tmp = join(dirs[dirs.length - 1]!, 'tmp');
    calls.push({ kind, directory: fstatSync(fd).isDirectory(), renamed: readdirSync(tmp).length === 0 });
  };
  const thread = {
    fdatasync: async (fd: number) => (record('fdatasync', fd), await gate),
    fsync: async (fd: number) => (record('fsync', fd), await gate),
  } as unknown as SyncThread;
  return { thread, calls };
}

function tempBody(files: BlobFiles, bytes: Buffer): { path: string; sha256: Buffer } {
  const path = join(files.tmp, `t-${Math.random().toString(16).slice(2)}`);
  writeFileSync(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest() };
}

describe('SqliteStore body files: install', () => {
  it('moves a new file into place, then syncs its data and its directory side by side on the sync threads', async () => {
    let open!: () => void;
    const { thread, calls } = recordingThread(new Promise<void>((resolve) => (open = resolve)));
    const files = new BlobFiles(folder(), thread);
    const bytes = Buffer.from('x'.repeat(1000));
    const { path, sha256 } = tempBody(files, bytes);
    let done = false;
    const installing = files.install(path, sha256).then(() => (done = true));
    // The folder is made through the thread pool first: on a loaded machine that takes a while.
    for (const deadline = Date.now() + 5_000; calls.length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    assert.equal(calls.length, 2, 'the directory sync was asked for while the data sync was still running');
    assert.equal(done, false, 'install waits for the syncs');
    open();
    await installing;
    files.installed(sha256);
    assert.equal(existsSync(path), false);
    assert.deepEqual(readFileSync(files.pathFor(sha256)), bytes);
    // Both requested before either was awaited: both ran after the rename (the file synced is the
    // one in blobs/), and install resolved only once both had.
    assert.deepEqual(calls, [
      { kind: 'fdatasync', directory: false, renamed: true },
      { kind: 'fsync', directory: true, renamed: true },
    ]);
  });

  it('over a file already at the target, syncs the new bytes before the rename', async () => {
    const { thread, calls } = recordingThread();
    const files = new BlobFiles(folder(), thread);
    const bytes = Buffer.from('z'.repeat(1000));
    const first = tempBody(files, bytes);
    await files.install(first.path, first.sha256);
    files.installed(first.sha256);
    calls.length = 0;
    // The same bytes again (another session's identical body, or an orphan left by a crash).
    const second = tempBody(files, bytes);
    await files.install(second.path, second.sha256);
    files.installed(second.sha256);
    assert.equal(existsSync(second.path), false);
    assert.deepEqual(readFileSync(files.pathFor(second.sha256)), bytes);
    assert.deepEqual(calls, [
      { kind: 'fdatasync', directory: false, renamed: false },
      { kind: 'fsync', directory: true, renamed: true },
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

  it('a blobs/ subfolder removed after this process made it is made again at the next install', async () => {
    const { thread } = recordingThread();
    const files = new BlobFiles(folder(), thread);
    const bytes = Buffer.from('w'.repeat(1000));
    const first = tempBody(files, bytes);
    await files.install(first.path, first.sha256);
    files.installed(first.sha256);
    // An operator tidies up (the body's message is gone): the folder and its file are removed.
    rmSync(join(files.pathFor(first.sha256), '..'), { recursive: true });
    const second = tempBody(files, bytes);
    await files.install(second.path, second.sha256);
    files.installed(second.sha256);
    assert.deepEqual(readFileSync(files.pathFor(second.sha256)), bytes);
    assert.equal(existsSync(second.path), false);
  });

  it('into a folder seen before, the rename and both syncs are under way when install returns (the caller parses meanwhile)', async () => {
    let open!: () => void;
    const { thread, calls } = recordingThread(new Promise<void>((resolve) => (open = resolve)));
    const files = new BlobFiles(folder(), thread);
    // Two bodies with the same first hex digit pair: the second goes into a folder already made.
    const bodies: Buffer[] = [];
    for (let i = 0; bodies.length < 2; i++) {
      const b = Buffer.from(`body ${i} `.repeat(200));
      const hex = createHash('sha256').update(b).digest('hex');
      if (bodies.length === 0 || hex.slice(0, 2) === createHash('sha256').update(bodies[0]!).digest('hex').slice(0, 2)) bodies.push(b);
    }
    const first = tempBody(files, bodies[0]!);
    const installingFirst = files.install(first.path, first.sha256);
    open();
    await installingFirst;
    files.installed(first.sha256);
    calls.length = 0;
    const second = tempBody(files, bodies[1]!);
    const installing = files.install(second.path, second.sha256);
    // Synchronously, before anything awaited: what the caller runs next (the parse) overlaps them.
    assert.equal(existsSync(second.path), false, 'renamed before install returned');
    assert.deepEqual(calls, [
      { kind: 'fdatasync', directory: false, renamed: true },
      { kind: 'fsync', directory: true, renamed: true },
    ]);
    await installing;
    files.installed(second.sha256);
    assert.deepEqual(readFileSync(files.pathFor(second.sha256)), bodies[1]);
    // A folder made before this process (another BlobFiles on the same data: a restart) is found
    // by a stat, not awaited either.
    const later = recordingThread();
    const restarted = new BlobFiles(join(files.root, '..'), later.thread);
    const third = tempBody(restarted, Buffer.concat([bodies[1]!, Buffer.from('!')]));
    const thirdDir = join(restarted.pathFor(third.sha256), '..');
    mkdirSync(thirdDir, { recursive: true });
    const installingThird = restarted.install(third.path, third.sha256);
    assert.equal(later.calls.length, 2, 'both syncs asked for before install returned, in a folder this process had not seen');
    await installingThird;
    restarted.installed(third.sha256);
  });

  it("waits for the temp file's close and fails with it", async () => {
    const { thread } = recordingThread();
    const files = new BlobFiles(folder(), thread);
    const bytes = Buffer.from('v'.repeat(1000));
    const body = tempBody(files, bytes);
    let fail!: (err: Error) => void;
    const closed = new Promise<void>((_resolve, reject) => (fail = reject));
    let settled = false;
    const installing = files.install(body.path, body.sha256, closed).then(
      () => (settled = true),
      (err: Error) => err,
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, 'not done while the close is still under way');
    fail(new Error('EIO on close'));
    const err = await installing;
    assert.ok(err instanceof Error && /EIO on close/.test(err.message), 'the close failing fails the install');
  });
});
