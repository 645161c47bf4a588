/**
 * `postroom backup` while clients APPEND: the copy passes PRAGMA integrity_check, holds every
 * message acknowledged before the backup started (large bodies, kept as files by the store,
 * included), and restored as a data folder's mail.sqlite serves them. Without a server running
 * the same command copies the store directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { UserFile } from '../../src/auth/user-file.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { WireClient } from '../../bench/load/wire-client.js';
import { postroom } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';

const FAST = { scrypt: { log2N: 10, r: 8, p: 1 } };

/** Every 25th message is 300 KiB, above the store's 256 KiB inline limit: it lives in blobs/. */
function message(writer: number, i: number): Buffer {
  const body = i % 25 === 0 ? 'x'.repeat(76).concat('\r\n').repeat(4000) : `message ${i} of writer ${writer}\r\n`;
  return Buffer.from(`From: w${writer}@example.org\r\nSubject: ${writer}-${i}\r\nMessage-ID: <m-${writer}-${i}@backup.test>\r\n\r\n${body}`);
}

test('backup during an APPEND load restores every message acknowledged before it started', { timeout: 180_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'postroom-backup-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  await UserFile.inDataDir(data, FAST).add('ann', 'pw-ann');
  const s = await startServe(['--data', data, '--ephemeral-ports', '--allow-insecure-auth', '--log-level', 'warn']);
  t.after(() => s.stop());

  /** Message-IDs with the time their APPEND was acknowledged. */
  const acked: Array<{ id: string; at: number }> = [];
  let running = true;
  const writer = async (w: number): Promise<void> => {
    const { client } = await WireClient.connect('127.0.0.1', s.listening.imapPort!);
    try {
      assert.equal((await client.command('LOGIN ann pw-ann')).status, 'OK');
      for (let i = 0; running && i < 2000; i++) {
        const done = await client.append('INBOX', '\\Seen', message(w, i));
        assert.equal(done.status, 'OK', done.tagged);
        acked.push({ id: `<m-${w}-${i}@backup.test>`, at: Date.now() });
      }
    } finally {
      client.close();
    }
  };
  const writers = Promise.all([0, 1, 2, 3].map(writer));
  // Let the load build up, then back up while it goes on.
  while (acked.length < 60) await new Promise((r) => setTimeout(r, 50));
  const startedAt = Date.now();
  const before = new Set(acked.filter((a) => a.at < startedAt).map((a) => a.id));
  const file = join(work, 'backup.sqlite');
  const backup = await postroom(['backup', '--to', file, '--data', data, '--no-progress']);
  const countAtEnd = acked.length;
  running = false;
  await writers;
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stdout, /^backed up \d+ messages of 1 users \(\d+ mailboxes, [\d.]+ MiB\) to .* from the running server\n$/);
  assert.ok(countAtEnd > before.size, `the load went on during the backup (${before.size} before, ${countAtEnd} at its end)`);
  assert.equal(statSync(file).mode & 0o777, 0o600);

  const db = new BetterSqlite3(file, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal(db.pragma('journal_mode', { simple: true }), 'delete', 'one self-contained file');
    assert.equal(db.prepare('SELECT count(*) FROM contents WHERE body IS NULL').pluck().get(), 0, 'large bodies are inline');
    const ids = new Set(
      (db.prepare('SELECT c.body FROM messages m JOIN contents c ON c.id = m.content_id').pluck().all() as Buffer[]).map(
        (b) => /Message-ID: (<[^>]+>)/.exec(b.toString('latin1'))?.[1],
      ),
    );
    const missing = [...before].filter((id) => !ids.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${before.size} acknowledged messages missing`);
  } finally {
    db.close();
  }

  // Restored as a data folder's database, the store serves them, large ones included.
  const restored = join(work, 'restored');
  mkdirSync(restored, { mode: 0o700 });
  copyFileSync(file, join(restored, 'mail.sqlite'));
  const store = await SqliteStore.open({ directory: restored });
  try {
    const inbox = await store.open('ann');
    const box = await inbox.get('INBOX');
    const snap = await inbox.snapshot(box.id);
    assert.ok(snap.messages.length >= before.size);
    const big = (await inbox.records(box.id, snap.messages.map((m) => m.uid))).find((r) => r.size > 256 * 1024)!;
    assert.ok(big, 'a large message is in the restored store');
    const bytes = await inbox.read(box.id, big.uid);
    assert.equal(bytes.length, big.size);
    assert.match(bytes.toString('latin1', 0, 200), /Message-ID: <m-\d-0@backup\.test>/);
    await inbox.close();
  } finally {
    await store.close();
  }

  // With the server stopped the command opens the store itself.
  assert.equal(await s.stop(), 0);
  const offline = await postroom(['backup', '--to', join(work, 'offline.sqlite'), '--data', data, '--no-progress']);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stdout, /^backed up \d+ messages of 1 users/);
  assert.doesNotMatch(offline.stdout, /running server/);
  const check = new BetterSqlite3(join(work, 'offline.sqlite'), { readonly: true });
  assert.equal(check.prepare("SELECT count(*) FROM messages").pluck().get(), acked.length, "every acknowledged message");
  check.close();
});
