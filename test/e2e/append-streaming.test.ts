/**
 * APPEND of a large message streams it to the store while the client is still sending it (issue 18):
 * the store sees the first bytes before the literal ends, the session never holds the whole
 * message (a 50 MB APPEND on SQLite), a client that goes away half way leaves nothing stored, bytes
 * after the literal are BAD, a refusal before the store took the message is answered only after the
 * rest has been read (and none of it runs as a command), and size limit and quota still apply.
 * Over real sockets, on the memory and SQLite stores.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImapServer } from '../helpers/imap-server.js';
import { liveBytes } from '../helpers/live-memory.js';
import { RawClient, run, until, sleep } from '../helpers/raw-client.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { KEEP_FOR_PARSE_MAX } from '../../src/store/sqlite/blob-files.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';
import type { MailStore, AppendInput } from '../../src/store/types.js';
import { spyOnAppends } from '../helpers/append-spy.js';

/** Counts what the store's append has read of a streamed message, as it reads it. */
interface Seen {
  bytes: number;
  /** Calls of append() that got a stream (not a Buffer). */
  streamed: number;
}

function observed(store: MailStore, seen: Seen): MailStore {
  const counted = (input: AppendInput): AppendInput => {
    if (Buffer.isBuffer(input.content)) return input;
    seen.streamed++;
    const source = input.content;
    const content = (async function* () {
      for await (const chunk of source) {
        seen.bytes += chunk.length;
        yield chunk;
      }
    })();
    return { ...input, content };
  };
  // A streamed APPEND goes to appendMany (its client may send more messages after it, RFC 3502).
  return spyOnAppends(store, counted);
}

/** A message of `size` bytes of CRLF lines (so no normalisation changes its size). */
function message(size: number): Buffer {
  const head = Buffer.from('Subject: big\r\nFrom: a@example.org\r\n\r\n');
  const line = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklm\r\n');
  const out = Buffer.alloc(size, 'x');
  head.copy(out, 0);
  for (let at = head.length; at + line.length <= size; at += line.length) line.copy(out, at);
  out.write('\r\n', size - 2);
  return out;
}

async function messagesIn(store: MailStore, mailbox = 'INBOX'): Promise<number> {
  const mail = await store.open('alice');
  try {
    return (await mail.snapshot((await mail.get(mailbox)).id)).messages.length;
  } finally {
    await mail.close();
  }
}

async function sqliteStore(): Promise<{ store: MailStore; directory: string; cleanup: () => Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'postroom-append-stream-'));
  const store = await SqliteStore.open({ directory });
  return { store, directory, cleanup: async () => { await store.close(); await rm(directory, { recursive: true, force: true }); } };
}

const factories: Record<string, () => Promise<{ store: MailStore; cleanup: () => Promise<void> }>> = {
  memory: async () => {
    const store = new MemoryStore();
    return { store, cleanup: () => store.close() };
  },
  sqlite: sqliteStore,
};

for (const [storeName, factory] of Object.entries(factories)) {
  describe(`APPEND streaming (${storeName})`, () => {
    it('the store gets the first bytes before the literal ends; OK only after the end; bytes kept exactly', async (t) => {
      const made = await factory();
      const seen: Seen = { bytes: 0, streamed: 0 };
      const s = await startImapServer({ store: observed(made.store, seen) });
      t.after(async () => { await s.close(); await made.cleanup(); });
      const c = new RawClient(s.port);
      await c.login();
      const body = message(1_000_000);
      c.send(`a APPEND INBOX (\\Seen) {${body.length}}\r\n`);
      await c.expect(/^\+ /);
      c.send(body.subarray(0, 400_000));
      await until('the store has read some of the message', () => seen.bytes > 0);
      assert.equal(seen.streamed, 1);
      assert.ok(seen.bytes <= 400_000, `the store read ${seen.bytes} bytes, more than was sent`);
      await sleep(100);
      assert.doesNotMatch(c.buf, /^a /m, 'no tagged reply before the literal is complete');
      c.send(body.subarray(400_000));
      c.send('\r\n');
      assert.match(await c.expect(/^a /, 20_000), /^a OK \[APPENDUID \d+ 1\]/);
      assert.equal(seen.bytes, body.length);
      const mail = await made.store.open('alice');
      const inbox = await mail.get('INBOX');
      const got = await mail.read(inbox.id, 1);
      await mail.close();
      assert.ok(Buffer.compare(got, body) === 0, 'the stored message is the bytes sent');
      // The session reads its next command normally.
      assert.match((await run(c, 'b', 'NOOP')).at(-1)!, /^b OK/);
      c.destroy();
    });

    it('a client that disconnects half way through the literal leaves nothing stored', async (t) => {
      const made = await factory();
      const seen: Seen = { bytes: 0, streamed: 0 };
      const s = await startImapServer({ store: observed(made.store, seen) });
      t.after(async () => { await s.close(); await made.cleanup(); });
      const c = new RawClient(s.port);
      await c.login();
      const body = message(2_000_000);
      c.send(`a APPEND INBOX {${body.length}}\r\n`);
      await c.expect(/^\+ /);
      c.send(body.subarray(0, 1_000_000));
      await until('the store has read some of the message', () => seen.bytes > 0);
      c.destroy();
      await until('the session is gone', () => s.server.connections().length === 0);
      assert.equal(await messagesIn(made.store), 0);
      if ('directory' in made) {
        // No half-written body file is left behind either (SQLite's temp files live in tmp/).
        const temp = join(made.directory as string, 'tmp');
        assert.deepEqual(await readdir(temp).catch(() => []), []);
      }
    });

    it('bytes after the literal: BAD, nothing stored, the session goes on', async (t) => {
      const made = await factory();
      const s = await startImapServer({ store: made.store });
      t.after(async () => { await s.close(); await made.cleanup(); });
      const c = new RawClient(s.port);
      await c.login();
      const body = message(300_000);
      c.send(`a APPEND INBOX {${body.length}}\r\n`);
      await c.expect(/^\+ /);
      c.send(Buffer.concat([body, Buffer.from(' junk\r\n')]));
      assert.match(await c.expect(/^a /, 20_000), /^a BAD Unexpected data after the message literal/);
      assert.equal(await messagesIn(made.store), 0);
      assert.match((await run(c, 'b', 'NOOP')).at(-1)!, /^b OK/);
      c.destroy();
    });

    it('a refusal before the store reads (no such mailbox) comes after the literal, and none of it runs as a command', async (t) => {
      const made = await factory();
      const s = await startImapServer({ store: made.store });
      t.after(async () => { await s.close(); await made.cleanup(); });
      const c = new RawClient(s.port);
      await c.login();
      // A message whose lines look like commands: were any of them read as one, LOGOUT would end the session.
      const lines = Buffer.from('z1 LOGOUT\r\n'.repeat(20_000));
      const body = Buffer.concat([Buffer.from('Subject: x\r\n\r\n'), lines]);
      c.send(`a APPEND Nowhere {${body.length}}\r\n`);
      await c.expect(/^\+ /);
      c.send(body.subarray(0, 100_000));
      await sleep(200);
      assert.doesNotMatch(c.buf, /^a /m, 'no tagged reply before the literal is complete');
      c.send(body.subarray(100_000));
      c.send('\r\n');
      assert.match(await c.expect(/^a /, 20_000), /^a NO \[TRYCREATE\]/);
      const after = await run(c, 'b', 'NOOP');
      assert.match(after.at(-1)!, /^b OK/);
      assert.doesNotMatch(after.join('\n'), /BYE/);
      c.destroy();
    });

    it('maxMessageSize is refused before the continuation, and the quota still applies to a streamed message', async (t) => {
      const made = await factory();
      const s = await startImapServer({ store: made.store, limits: { maxMessageSize: 500_000 } });
      t.after(async () => { await s.close(); await made.cleanup(); });
      const c = new RawClient(s.port);
      await c.login();
      c.send('a APPEND INBOX {600000}\r\n');
      assert.match(await c.expect(/^a /), /^a NO \[TOOBIG\]/);
      await made.store.setQuota!('alice', { storage: 100 });
      const body = message(300_000);
      c.send(`b APPEND INBOX {${body.length}}\r\n`);
      await c.expect(/^\+ /);
      c.send(body);
      c.send('\r\n');
      assert.match(await c.expect(/^b /, 20_000), /^b NO \[OVERQUOTA\]/);
      assert.equal(await messagesIn(made.store), 0);
      assert.match((await run(c, 'c', 'NOOP')).at(-1)!, /^c OK/);
      c.destroy();
    });
  });
}

describe('APPEND streaming: memory stays bounded', () => {
  it('50 MB to SQLite: the store keeps up with the client and the process does not hold the message', async (t) => {
    const made = await sqliteStore();
    const seen: Seen = { bytes: 0, streamed: 0 };
    const s = await startImapServer({ store: observed(made.store, seen) });
    t.after(async () => { await s.close(); await made.cleanup(); });
    const size = 50 * 1024 * 1024;
    const socket = net.connect(s.port, '127.0.0.1');
    let input = '';
    socket.on('data', (d: Buffer) => { input += d.toString('latin1'); });
    const waitFor = (re: RegExp) => until(`the server says ${re}`, () => re.test(input), 60_000);
    await waitFor(/^\* OK/m);
    socket.write('L LOGIN alice secret\r\n');
    await waitFor(/^L OK/m);
    socket.write(`a APPEND INBOX {${size}}\r\n`);
    await waitFor(/^\+ /m);

    // Live memory, measured after a full collection (garbage of already-stored chunks is not held,
    // nor counted while V8 frees it on another thread: live-memory.ts).
    const usage = liveBytes;
    const baseline = usage();
    let nextSample = 0;
    let peak = 0;
    /** Most bytes the client had handed to its socket that the store had not read yet. */
    let maxLag = 0;
    const header = Buffer.from('Subject: fifty\r\n\r\n');
    const chunk = Buffer.alloc(64 * 1024, 'y');
    // Line ends every 64 KiB so the message is CRLF text; the chunk is reused, never 50 MB at once.
    chunk.write('\r\n', chunk.length - 2);
    let sent = 0;
    socket.write(header);
    sent += header.length;
    while (sent < size) {
      const n = Math.min(chunk.length, size - sent);
      const ok = socket.write(n === chunk.length ? chunk : chunk.subarray(chunk.length - n));
      sent += n;
      const written = sent - socket.writableLength;
      maxLag = Math.max(maxLag, written - seen.bytes);
      if (sent >= nextSample) {
        peak = Math.max(peak, usage() - baseline);
        nextSample += 2 * 1024 * 1024;
      }
      if (!ok) await new Promise((r) => socket.once('drain', r));
    }
    socket.write('\r\n');
    await waitFor(/^a (OK|NO|BAD)/m);
    console.log(`# 50 MB APPEND: peak growth ${(peak / 1048576).toFixed(1)} MB (heap + buffers after GC, sampled every 2 MB), store lag at most ${(maxLag / 1048576).toFixed(1)} MB`);
    assert.match(input, /^a OK \[APPENDUID \d+ 1\]/m);
    assert.equal(seen.bytes, size);
    // The store is behind the client by at most the session's read-ahead (maxPipelinedBytes, 1 MiB)
    // plus what the kernel's socket buffers have accepted (not process memory: 8 MB here); the old
    // path held the whole 50 MB before the store saw a byte.
    assert.ok(maxLag < 16 * 1024 * 1024, `the store fell ${maxLag} bytes behind the client`);
    // What the process holds: the read-ahead, and the buffer the body was kept in for the parse
    // while it was within KEEP_FOR_PARSE_MAX (4 MiB), which goes to the store's free list for the
    // next body (kept-bytes.ts; a one-off: a second such APPEND reuses it) — 5.3-5.4 MB measured.
    // That buffer's doubling once overshot to 8 MB and left 2 + 4 + 8 MB on the free list: 14-15 MB.
    const bound = KEEP_FOR_PARSE_MAX + DEFAULT_IMAP_LIMITS.maxPipelinedBytes + 3 * 1024 * 1024;
    assert.ok(peak < bound, `memory grew by ${peak} bytes during a 50 MB APPEND (bound ${bound})`);
    socket.destroy();
  });
});
