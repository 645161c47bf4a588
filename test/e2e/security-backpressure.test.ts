/**
 * Output backpressure: a client that asks for a big FETCH and stops reading pauses the server's
 * writing; server memory does not grow with the size of the answer. Reading again finishes it.
 * Two shapes, on every store: a few large messages, and many medium ones (64–256 KiB: above the
 * size FETCH streams, small enough for the SQLite store to keep inline and pin when asked).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient } from '../helpers/raw-client.js';
import { stallDuring } from '../helpers/stalled-reader.js';

const SHAPES = [
  { MESSAGES: 30, SIZE: 2 * 1024 * 1024 },
  { MESSAGES: 240, SIZE: 200 * 1024 },
];

for (const [storeName, makeStore] of Object.entries(storeFactories())) for (const { MESSAGES, SIZE } of SHAPES) it(`${storeName}: a client that stops reading during a FETCH of ${MESSAGES} × ${SIZE / 1024} KiB does not grow server memory`, async (t) => {
  const made = await makeStore();
  const s = await startImapServer({ store: made.store });
  t.after(async () => {
    await s.close();
    await made.cleanup();
  });
  const c = new RawClient(s.port);
  await c.expect(/^\* OK/);
  c.send('l LOGIN alice secret\r\n');
  await c.expect(/^l OK/);
  const body = Buffer.alloc(SIZE, 'x'.charCodeAt(0));
  for (let i = 0; i < SIZE; i += 100) body[i + 98] = 13, body[i + 99] = 10;
  const message = Buffer.concat([Buffer.from(`Subject: big\r\n\r\n`), body]);
  for (let i = 0; i < MESSAGES; i++) {
    // Each message different, so a store that keeps one copy of identical bodies still holds them all.
    const unique = Buffer.concat([Buffer.from(`X-N: ${i}\r\n`), message]);
    c.send(Buffer.concat([Buffer.from(`a${i} APPEND INBOX {${unique.length}+}\r\n`), unique, Buffer.from('\r\n')]));
    await c.expect(new RegExp(`^a${i} OK`), 20_000);
  }
  c.send('s SELECT INBOX\r\n');
  await c.expect(/^s OK/);

  const { peak, written, watchedMs, rssGrowth } = await stallDuring(s, c, 'f FETCH 1:* BODY.PEEK[]\r\n');
  const total = MESSAGES * (message.length + 8);
  // What the server handed to its socket while nobody read is bounded by kernel buffers and the
  // output queue's high-water mark, not by the answer.
  const sentBeforeFetch = c.transcript.join('\r\n').length;
  assert.ok(written - sentBeforeFetch < 16 * 1024 * 1024, `server wrote ${written} bytes to a client that reads nothing`);
  assert.ok(peak < 24 * 1024 * 1024, `server memory grew by ${peak} bytes for a ${total}-byte answer while the client was not reading`);
  console.log(
    `# live memory growth while the client stalled: ${(peak / 2 ** 20).toFixed(1)} MB for a ${(total / 2 ** 20).toFixed(0)} MB FETCH ` +
      `(${((written - sentBeforeFetch) / 2 ** 20).toFixed(1)} MB written, watched ${(watchedMs / 1000).toFixed(1)} s; RSS ${(rssGrowth / 2 ** 20).toFixed(1)} MB, not asserted)`,
  );

  c.socket.resume();
  // A hang guard, not a speed bound: at a load of 19 the postgres case (52 s in all) failed after
  // its memory checks, most likely on the old 30 s here.
  await c.expect(/^f OK/, 180_000);
  c.destroy();
});
