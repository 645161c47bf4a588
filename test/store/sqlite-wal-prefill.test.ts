/**
 * The WAL made long in advance at open (src/store/sqlite/wal-prefill.ts, limit
 * walPrefillMegabytes): the file has that length from the start and keeps it across a checkpoint,
 * and the zeros past SQLite's frames never read as data — every write acknowledged before a
 * kill -9, before and after the WAL started over, is there after the restart.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { resolveSqliteLimits } from '../../src/store/sqlite/limits.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const CHILD = fileURLToPath(new URL('./fixtures/wal-prefill-child.ts', import.meta.url));
const tempDir = tempDirs('postroom-wal-prefill-');
const MiB = 1024 * 1024;

describe('the WAL made long in advance', () => {
  it('has the configured length from the open on, and keeps it through a checkpoint', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir, limits: { walPrefillMegabytes: 2 }, checkpoints: { intervalMs: 3_600_000 } });
    const wal = join(dir, 'mail.sqlite-wal');
    assert.equal(statSync(wal).size, 2 * MiB, 'the WAL was not made long at open');
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    for (let i = 0; i < 5; i++) await u.append(inbox.id, { content: Buffer.from(`Subject: ${i}\r\n\r\nhello ${i}\r\n`) });
    await store.checkpoint();
    await u.append(inbox.id, { content: Buffer.from('Subject: after\r\n\r\nafter the restart\r\n') });
    assert.equal(statSync(wal).size, 2 * MiB, 'the WAL was cut back or grown past its prefilled length');
    await store.close();
    const again = await SqliteStore.open({ directory: dir });
    const v = await again.open('alice');
    assert.equal((await v.status((await v.get('INBOX')).id)).messages, 6);
    await again.close();
  });

  it('loses no acknowledged write to a kill -9, before or after the WAL started over', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const acked = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`child never got ready: ${err}`))), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) child.kill('SIGKILL');
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (signal !== 'SIGKILL') return reject(new Error(`child exited by itself (${code}): ${err}`));
        resolve(out.split('\n').filter((l) => l.startsWith('{')).length);
      });
    });
    assert.equal(acked, 30);
    assert.ok(statSync(join(dir, 'mail.sqlite-wal')).size >= 4 * MiB, 'the killed store left no prefilled WAL behind');
    const store = await SqliteStore.open({ directory: dir });
    assert.equal(store.integrity().ok, true, 'the database opens clean');
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    assert.equal((await u.status(inbox.id)).messages, 30, 'an acknowledged APPEND is missing after the restart');
    await store.close();
  });

  it('refuses a prefill beyond the WAL size limit, and is off unless asked for', () => {
    assert.equal(resolveSqliteLimits().walPrefillMegabytes, 0);
    assert.throws(() => resolveSqliteLimits({ walPrefillMegabytes: 65 }), /at most 64/);
  });
});
