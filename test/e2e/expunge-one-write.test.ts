/**
 * EXPUNGE in a mailbox of more than 1,000 messages names them to the store in chunks (chunks.ts);
 * the chunks without a \Deleted message are answered by a read (sqlite/message-writes.ts
 * anyDeleted), without a write transaction and the group commit's turn of the event loop — which
 * used to send the untagged EXPUNGE in one write and the tagged OK in another, right before the
 * LIST that starts a client's next sync (bench/RESULTS.md, "LIST p99 after the list cache").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { StoreError } from '../../src/store/errors.js';
import { startImapServer } from '../helpers/imap-server.js';
import { loggedIn, run } from '../helpers/raw-client.js';

const message = (i: number): Buffer => Buffer.from(`From: a@example.org\r\nSubject: ${i}\r\n\r\nbody ${i}\r\n`);

test('an EXPUNGE of 1,001 messages answers in one write; chunks with nothing \\Deleted write nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-expunge-write-'));
  const store = await SqliteStore.open({ directory: dir });
  const srv = await startImapServer({ store });
  // Every write the server makes to a socket that carries an EXPUNGE response.
  const writes: string[] = [];
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]): boolean {
    const data = args[0];
    const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('latin1') : '';
    if (/EXPUNGE/.test(text) && this.localPort === srv.port) writes.push(text);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof write;
  try {
    const mail = await store.open('alice');
    const inbox = await mail.get('INBOX');
    await mail.appendMany!(inbox.id, Array.from({ length: 1_001 }, (_, i) => ({ content: message(i), flags: [] })));
    const c = await loggedIn(srv.port, 'alice', 'secret');
    await run(c, 's', 'SELECT INBOX');
    const changes = (): number => (store as unknown as { ctx: { db: { prepare(s: string): { pluck(): { get(): number } } } } }).ctx.db.prepare('SELECT total_changes()').pluck().get();
    const before0 = changes();
    // Nothing \Deleted: no chunk writes.
    assert.deepEqual(await run(c, 'e0', 'EXPUNGE'), ['e0 OK EXPUNGE completed']);
    assert.equal(changes(), before0, 'an EXPUNGE with nothing \\Deleted wrote');
    await run(c, 'f', 'UID STORE 1001 +FLAGS.SILENT (\\Deleted)');
    writes.length = 0;
    assert.deepEqual(await run(c, 'e1', 'EXPUNGE'), ['* 1001 EXPUNGE', 'e1 OK EXPUNGE completed']);
    assert.deepEqual(writes, ['* 1001 EXPUNGE\r\ne1 OK EXPUNGE completed\r\n'], 'the untagged EXPUNGE and the tagged OK in one write');
    // The lowest and the highest (two chunks, one \Deleted each): both removed.
    await run(c, 'f2', 'UID STORE 1,1000 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await run(c, 'e2', 'EXPUNGE'), ['* 1000 EXPUNGE', '* 1 EXPUNGE', 'e2 OK EXPUNGE completed']);
    c.destroy();

    // The store's answers themselves: none among the candidates, or none at all, is [] and no write;
    // a missing mailbox is still an error; \Deleted outside the candidates stays.
    await mail.updateFlags(inbox.id, [5], 'add', ['\\Deleted']);
    const before = changes();
    assert.deepEqual(await mail.expunge(inbox.id, [6, 7]), []);
    assert.deepEqual(await mail.expunge(inbox.id, []), []);
    assert.equal(changes(), before, 'an expunge that removes nothing wrote');
    await assert.rejects(mail.expunge('999999', [1]), (err: unknown) => err instanceof StoreError && err.kind === 'nonexistent');
    assert.deepEqual(await mail.expunge(inbox.id, [4, 5, 6]), [5]);
  } finally {
    net.Socket.prototype.write = write;
    await srv.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
