/**
 * kill -9 inside a WAL checkpoint (src/store/sqlite/checkpointer.ts): while its WAL sync runs,
 * writes go on and are acknowledged — they must survive; while the database file is fdatasynced
 * (the pages are copied, the WAL not yet started over) writes are held — the acknowledged ones must
 * survive, the held ones must not appear, and the database must open clean (its startup check).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const CHILD = fileURLToPath(new URL('./fixtures/checkpoint-window.ts', import.meta.url));
const tempDir = tempDirs('postroom-ckpt-kill-');

/** Runs the child to `ready`, kills it with SIGKILL, and returns how many APPENDs it acknowledged. */
function killInWindow(dir: string, phase: 'wal' | 'database'): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, phase], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`child never got ready: ${err}`))), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('ready\n')) return;
      child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`child exited by itself (${code}): ${err}`));
      const acked = out.split('\n').filter((l) => l.startsWith('{')).length;
      resolve(acked);
    });
  });
}

async function messagesAfterRestart(dir: string): Promise<number> {
  const store = await SqliteStore.open({ directory: dir });
  assert.equal(store.integrity().ok, true, 'the database opens clean');
  const u = await store.open('alice');
  const n = (await u.status((await u.get('INBOX')).id)).messages;
  await store.close();
  return n;
}

describe('kill -9 inside a WAL checkpoint', () => {
  it('keeps every write acknowledged while the checkpoint synced the WAL', async () => {
    const dir = tempDir();
    const acked = await killInWindow(dir, 'wal');
    assert.equal(acked, 25, 'the five APPENDs made during the checkpoint were acknowledged without it');
    assert.equal(await messagesAfterRestart(dir), 25);
  });

  it('keeps every acknowledged write and none of the held ones when killed during the database sync', async () => {
    const dir = tempDir();
    const acked = await killInWindow(dir, 'database');
    assert.equal(acked, 20, 'the APPENDs made during the database sync were held');
    assert.equal(await messagesAfterRestart(dir), 20);
  });
});
