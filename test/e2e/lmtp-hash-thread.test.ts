/**
 * A large body's SHA-256 is computed on the SQLite store's hash thread (src/store/sqlite/hash-thread.ts)
 * while LMTP DATA arrives. Over real sockets: the digest stored names exactly the bytes stored (one
 * recipient, stored as it arrives; two, spooled first), and a thread that dies in the middle of a
 * message makes that delivery a temporary failure — 451 4.3.0, nothing stored, no temporary file —
 * never a body filed under the digest of other bytes; the next delivery is hashed on the event loop.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { LmtpClient } from '../../src/lmtp/client.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { StoreContext } from '../../src/store/sqlite/context.js';
import type { HashThread } from '../../src/store/sqlite/hash-thread.js';
import { dottedBody, startLmtpServer, storedMessages } from '../helpers/lmtp-server.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { RawClient, sleep } from '../helpers/raw-client.js';

const newDir = tempDirs('postroom-lmtp-hash-');

async function open(): Promise<{ dir: string; store: SqliteStore; lmtp: Awaited<ReturnType<typeof startLmtpServer>>; thread: HashThread }> {
  const dir = newDir();
  const store = await SqliteStore.open({ directory: dir });
  const lmtp = await startLmtpServer({ store, spoolDirectory: newDir() });
  const thread = (store as unknown as { ctx: StoreContext }).ctx.files.hashThread!;
  return { dir, store, lmtp, thread };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Every body file under blobs/: its name, and the SHA-256 of what it holds. */
function bodyFiles(dir: string): { name: string; digest: string }[] {
  const out: { name: string; digest: string }[] = [];
  for (const top of readdirSync(join(dir, 'blobs'), { withFileTypes: true })) {
    if (!top.isDirectory()) continue;
    for (const name of readdirSync(join(dir, 'blobs', top.name))) out.push({ name, digest: sha(readFileSync(join(dir, 'blobs', top.name, name))) });
  }
  return out;
}

/** The digests the contents table records (read after the store is closed). */
function storedDigests(dir: string): string[] {
  const db = new Database(join(dir, 'mail.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT sha256 FROM contents WHERE body IS NULL').all() as { sha256: Buffer }[]).map((r) => r.sha256.toString('hex')).sort();
  } finally {
    db.close();
  }
}

describe('LMTP on SQLite: body digests on the hash thread', () => {
  it('each body file is named by the SHA-256 of its bytes, and the row records it (one recipient live, two spooled)', async () => {
    const { dir, store, lmtp } = await open();
    try {
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      const one = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from(`Subject: one\r\n\r\n${dottedBody(1_500_000)}`));
      const two = await client.send('s@example.org', [{ address: 'ann@example.org' }, { address: 'bob@example.org' }], Buffer.from(`Subject: two\r\n\r\n${dottedBody(700_000)}`));
      await client.quit();
      assert.deepEqual([one, two].flatMap((r) => r.delivery.map((d) => d?.code)), [250, 250, 250]);
      const stored = [...(await storedMessages(store, 'ann')), ...(await storedMessages(store, 'bob'))];
      assert.equal(stored.length, 3);
      const files = bodyFiles(dir);
      assert.equal(files.length, 2, 'two bodies: the two recipients of one transaction share theirs');
      for (const f of files) assert.equal(f.name, f.digest, 'a file holds the bytes its name says');
      assert.deepEqual(files.map((f) => f.name).sort(), [...new Set(stored.map(sha))].sort(), 'the files are the messages read back');
    } finally {
      await lmtp.close();
      await store.close();
    }
    assert.deepEqual(storedDigests(dir), bodyFiles(dir).map((f) => f.name).sort());
  });

  it('the thread dies in the middle of DATA: 451 4.3.0, nothing stored, no temporary file; the next delivery is stored right', async () => {
    const { dir, store, lmtp, thread } = await open();
    try {
      const c = new RawClient(lmtp.port);
      await c.expect(/^220 /);
      c.send('LHLO mta.test\r\n');
      await c.expect(/^250 SIZE/);
      c.send('MAIL FROM:<s@example.org>\r\nRCPT TO:<ann@example.org>\r\nDATA\r\n');
      await c.expect(/^354 /);
      const text = `Subject: cut\r\n\r\n${dottedBody(2_000_000)}`.replace(/\r?\n\./g, '\r\n..');
      c.send(text.slice(0, 1_200_000));
      await sleep(300);
      assert.ok(thread.active > 0, 'the body is being hashed on the thread');
      thread.crashForTest();
      await sleep(200);
      c.send(`${text.slice(1_200_000)}\r\n.\r\n`);
      const reply = await c.expect(/^\d{3} /, 10_000);
      assert.match(reply, /^451 4\.3\.0 /);
      c.send('QUIT\r\n');
      await c.expect(/^221 /);
      c.destroy();
      assert.equal((await storedMessages(store, 'ann')).length, 0);
      assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      const next = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from(`Subject: next\r\n\r\n${dottedBody(1_200_000)}`));
      await client.quit();
      assert.equal(next.delivery[0]?.code, 250);
      const [stored] = await storedMessages(store, 'ann');
      assert.match(stored!.toString('latin1'), /\r\nSubject: next\r\n/);
      assert.deepEqual(bodyFiles(dir).map((f) => f.name), [sha(stored!)]);
    } finally {
      await lmtp.close();
      await store.close();
    }
  });
});
