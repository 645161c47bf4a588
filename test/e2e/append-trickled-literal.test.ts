/**
 * A streamed APPEND literal the SQLite store keeps inline (64 KiB < size <= inlineMax), sent one byte
 * per TCP segment, must not hold a Buffer per byte until its last one (src/store/sqlite/content.ts
 * copies small chunks together). Kept as they came (b4cf3ac, found by review) a 70 KB literal held
 * ~14 MB, ~200 bytes of heap per byte; a 256 KiB one would have held ~50 MB, per connection. Default
 * limits: the minimum literal rate allows 60 s + size / 16 KiB/s; this sends at ~8 KB/s, a 70 KB
 * literal within its 64 s. Over a real socket, SqliteStore, startImapServer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImapServer } from '../helpers/imap-server.js';
import { liveBytes } from '../helpers/live-memory.js';
import { RawClient, until } from '../helpers/raw-client.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { AppendInput, MailStore } from '../../src/store/types.js';
import { spyOnAppends } from '../helpers/append-spy.js';

/** Counts the chunks and bytes the store's append reads (passing the size on). */
function chunkSpy(store: MailStore, seen: { chunks: number; bytes: number }): MailStore {
  const note = (input: AppendInput): AppendInput => {
    if (Buffer.isBuffer(input.content)) return input;
    const inner = input.content;
    const size = (inner as { size?: unknown }).size as number | undefined;
    const content = {
      ...(size === undefined ? {} : { size }),
      async *[Symbol.asyncIterator]() {
        for await (const c of inner) {
          seen.chunks++;
          seen.bytes += c.length;
          yield c;
        }
      },
    };
    return { ...input, content };
  };
  return spyOnAppends(store, note);
}

describe('a trickled streamed literal kept inline', () => {
  it('holds about the literal\'s bytes, not one Buffer per TCP segment, before its last byte', async (t) => {
    const directory = await mkdtemp(join(tmpdir(), 'postroom-rv13b-'));
    const store = await SqliteStore.open({ directory });
    const seen = { chunks: 0, bytes: 0 };
    const s = await startImapServer({ store: chunkSpy(store, seen) });
    t.after(async () => { await s.close(); await store.close(); await rm(directory, { recursive: true, force: true }); });
    const c = new RawClient(s.port);
    c.socket.setNoDelay(true);
    await c.login();
    const size = 70_000;
    const started = Date.now();
    const body = Buffer.alloc(size, 'x');
    body.write('Subject: t\r\n\r\n');
    c.send(`a APPEND INBOX {${size}}\r\n`);
    await c.expect(/^\+ /);
    const before = liveBytes();
    // One byte per write, each on its own segment (Nagle off), the loop turning between them.
    for (let i = 0; i < size - 1; i++) {
      c.socket.write(body.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
    // crlfContent passes small chunks on 16 KiB at a time (gatherSmallChunks): up to that much of what
    // the server has read may not have reached the store yet.
    await until('the store has read all but the last 16 KiB', () => seen.bytes >= size - 1 - 16_384, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${seen.bytes} bytes in ${seen.chunks} chunks, connection closed: ${c.closed}, server said ${JSON.stringify(c.buf.slice(0, 200))}`);
    });
    const grown = liveBytes() - before;
    t.diagnostic(`sent in ${Date.now() - started} ms`);
    t.diagnostic(`chunks read by the store: ${seen.chunks} for ${seen.bytes} bytes; live bytes grown ${grown}`);
    c.socket.write(body.subarray(size - 1));
    c.send('\r\n');
    assert.match(await c.expect(/^a /, 30_000), /^a OK/);
    c.destroy();
    // Measured at load ~13 (NOISY): 14.2 MB with content.ts as merged (b4cf3ac); 0.84 MB with the
    // first part's content.ts (efc0dfc), which copied each chunk into one Buffer.
    assert.ok(grown < 3_000_000, `a ${size}-byte literal in ${seen.chunks} chunks holds ${grown} bytes before its last byte`);
  });
});
