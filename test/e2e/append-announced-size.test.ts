/**
 * The size an APPEND literal announces (`{n}`) reaches the SQLite store through the server's CRLF
 * wrapper (src/store/crlf-store.ts, crlfContent), so collectContent can plan by it (issue 23): a
 * literal announced above inlineMax has its temp file created once 64 KiB of it have come, not
 * after inlineMax of them. And nothing is allocated or opened for a literal before its bytes come:
 * 40 clients that each send `APPEND INBOX {262000}` and then nothing hold no buffer of that size,
 * and a stalled `{400000}` opens no temp file. Over real sockets, SqliteStore, startImapServer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImapServer } from '../helpers/imap-server.js';
import { liveBytes } from '../helpers/live-memory.js';
import { RawClient, run, sleep, until } from '../helpers/raw-client.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { AppendInput, MailStore } from '../../src/store/types.js';
import { spyOnAppends } from '../helpers/append-spy.js';

/**
 * Notes the `size` each content the store's append gets announces (undefined: none), and counts in
 * `reading` the contents the store has begun to iterate; the content is passed on with its size.
 */
function sizeSpy(store: MailStore, sizes: Array<number | undefined>, reading = { count: 0 }): MailStore {
  const note = (input: AppendInput): AppendInput => {
    if (Buffer.isBuffer(input.content)) {
      sizes.push(undefined);
      return input;
    }
    const inner = input.content;
    const size = (inner as { size?: unknown }).size as number | undefined;
    sizes.push(size);
    const content = {
      ...(size === undefined ? {} : { size }),
      [Symbol.asyncIterator]: () => {
        reading.count++;
        return inner[Symbol.asyncIterator]();
      },
    };
    return { ...input, content };
  };
  return spyOnAppends(store, note);
}

/** A message of `size` bytes with bare LF line ends (the CRLF wrapper makes it longer). */
function lfMessage(size: number): Buffer {
  const out = Buffer.alloc(size, 'x');
  out.write('Subject: big\n\n');
  for (let at = 100; at < size; at += 100) out[at] = 0x0a;
  return out;
}

async function sqlite(): Promise<{ store: SqliteStore; directory: string; cleanup: () => Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'postroom-append-size-'));
  const store = await SqliteStore.open({ directory });
  return { store, directory, cleanup: async () => { await store.close(); await rm(directory, { recursive: true, force: true }); } };
}

describe('APPEND literal size reaches the SQLite store (issue 23)', () => {
  it('the announced size reaches the store through the CRLF wrapper, for APPEND and MULTIAPPEND; a literal above inlineMax gets its temp file after its first 64 KiB', async (t) => {
    const made = await sqlite();
    const sizes: Array<number | undefined> = [];
    const s = await startImapServer({ store: sizeSpy(made.store, sizes) });
    t.after(async () => { await s.close(); await made.cleanup(); });
    const c = new RawClient(s.port);
    await c.login();

    // 100 KB, streamed (above STREAM_APPEND_ABOVE) and kept inline (at or below inlineMax).
    const small = lfMessage(100_000);
    c.send(`a APPEND INBOX {${small.length}}\r\n`);
    await c.expect(/^\+ /);
    c.send(small);
    c.send('\r\n');
    assert.match(await c.expect(/^a /, 20_000), /^a OK/);
    assert.deepEqual(sizes, [small.length]);

    // 400 KB: after 70 KB of it the temp file exists (opened past 64 KiB; before, only after inlineMax, 256 KiB).
    const large = lfMessage(400_000);
    const temp = join(made.directory, 'tmp');
    c.send(`b APPEND INBOX {${large.length}}\r\n`);
    await c.expect(/^\+ /);
    c.send(large.subarray(0, 70_000));
    let files = 0;
    for (let i = 0; i < 200 && files === 0; i++) {
      files = (await readdir(temp)).length;
      if (files === 0) await sleep(25);
    }
    assert.equal(files, 1, 'the temp file was created while the first 70 KB of 400 KB were in');
    c.send(large.subarray(70_000));
    c.send('\r\n');
    assert.match(await c.expect(/^b /, 20_000), /^b OK/);
    assert.deepEqual(sizes, [small.length, large.length]);

    // MULTIAPPEND: each streamed message announces its own size.
    const one = lfMessage(120_000);
    const two = lfMessage(300_000);
    c.send(`c APPEND INBOX {${one.length}}\r\n`);
    await c.expect(/^\+ /);
    c.send(one);
    c.send(` {${two.length}}\r\n`);
    await c.expect(/^\+ /);
    c.send(two);
    c.send('\r\n');
    assert.match(await c.expect(/^c /, 20_000), /^c OK/);
    assert.deepEqual(sizes.slice(2), [one.length, two.length]);

    // What was stored is the CRLF form of what was sent.
    const mail = await made.store.open('alice');
    const inbox = await mail.get('INBOX');
    const stored = await mail.read(inbox.id, 2);
    await mail.close();
    assert.equal(stored.toString('latin1'), large.toString('latin1').replace(/\n/g, '\r\n'));
    assert.match((await run(c, 'd', 'NOOP')).at(-1)!, /^d OK/);
    c.destroy();
  });

  it('stalled literals hold no buffer or file before their bytes: 40 x `APPEND INBOX {262000}` and one `{400000}`', async (t) => {
    const made = await sqlite();
    const reading = { count: 0 };
    const s = await startImapServer({ store: sizeSpy(made.store, [], reading) });
    t.after(async () => { await s.close(); await made.cleanup(); });
    const clients: RawClient[] = [];
    t.after(() => { for (const c of clients) c.destroy(); });
    for (let i = 0; i < 41; i++) {
      const c = new RawClient(s.port);
      clients.push(c);
      await c.login();
    }
    const before = liveBytes();
    for (const [i, c] of clients.entries()) {
      c.send(`a APPEND INBOX {${i === 40 ? 400_000 : 262_000}}\r\n`);
      await c.expect(/^\+ /);
    }
    // The store has begun reading every literal (collectContent's loop waits for a first byte).
    await until('the store reads all 41 literals', () => reading.count === 41);
    await sleep(50);
    const grown = liveBytes() - before;
    // Before the fix: 40 x 262,000 bytes (10.5 MB) allocated up front.
    assert.ok(grown < 2_000_000, `40 stalled literals hold ${grown} bytes more`);
    assert.deepEqual(await readdir(join(made.directory, 'tmp')), [], 'no temp file for the stalled {400000}');
    t.diagnostic(`live bytes grown across 41 stalled literals: ${grown}`);
  });
});
