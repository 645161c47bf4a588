import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { RemoteStore } from '../../src/store/remote/remote-store.js';
import { serveStore } from '../../src/store/remote/store-server.js';
import { isStoreRequest, isStoreResponse } from '../../src/store/remote/messages.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StoreError } from '../../src/store/errors.js';

test("a remote stream says whether the owner could pin the message: it rejects for one expunged before the read arrived", async (t) => {
  const owner = new MemoryStore();
  const { port1, port2 } = new MessageChannel();
  const peer = serveStore(owner, {
    send: (m) => port1.postMessage(m),
    onMessage: (listener) => port1.on('message', (m: unknown) => isStoreRequest(m) && listener(m)),
  });
  t.after(() => {
    peer.release();
    port1.close();
  });
  const remote = new RemoteStore({
    send: (m) => port2.postMessage(m),
    onMessage: (listener) => port2.on('message', (m: unknown) => isStoreResponse(m) && listener(m)),
  });
  const mail = await remote.open('alice');
  const inbox = await mail.get('INBOX');
  const body = Buffer.from(`Subject: big\r\n\r\n${'z'.repeat(150_000)}`);
  const kept = await mail.append(inbox.id, { content: body });
  const gone = await mail.append(inbox.id, { content: Buffer.from('Subject: gone\r\n\r\nbye') });
  await mail.updateFlags(inbox.id, [gone.uid], 'add', ['\\Deleted']);
  await mail.expunge(inbox.id);

  const missing = mail.stream(inbox.id, gone.uid);
  await assert.rejects(missing.pinned!, (err: unknown) => err instanceof StoreError && err.kind === 'nonexistent');

  const present = mail.stream(inbox.id, kept.uid);
  await present.pinned;
  const chunks: Buffer[] = [];
  for await (const c of present) chunks.push(c);
  assert.ok(chunks.length > 1, 'handed on in pieces');
  assert.ok(chunks.every((c) => Buffer.isBuffer(c)));
  assert.deepEqual(Buffer.concat(chunks), body);
});
