/**
 * MULTIAPPEND (RFC 3502) with messages above STREAM_APPEND_ABOVE (64 KiB), which are streamed to
 * the store while they arrive (issue 18): the command goes on to the messages after a streamed one,
 * each further literal gets its own `+` (or its own refusal), and the store adds all of them or
 * none — a refused third message, a quota that allows each but not the sum, or a client that goes
 * away in the middle of the second message leave nothing stored and (SQLite) no body or temp file.
 * Over raw sockets, synchronising literals, on the memory and SQLite stores.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, run, until } from '../helpers/raw-client.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MailStore } from '../../src/store/types.js';

/** A message of `size` bytes of CRLF lines, its Subject naming it. */
function message(subject: string, size: number): Buffer {
  const head = Buffer.from(`Subject: ${subject}\r\nFrom: a@example.org\r\n\r\n`);
  const out = Buffer.alloc(size, 'x');
  head.copy(out, 0);
  for (let at = head.length + 78; at + 2 <= size; at += 80) out.write('\r\n', at);
  out.write('\r\n', size - 2);
  return out;
}

/** Every file under `dir`, recursively (relative names). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  // postroom-store-id ties blobs/ to its database (store-identity.ts): not a body.
  return entries.filter((e) => e.isFile() && e.name !== 'postroom-store-id').map((e) => join(e.parentPath, e.name));
}

interface Made {
  store: MailStore;
  /** Body and temp files the store holds outside its database (none for the memory store). */
  files: () => Promise<string[]>;
  cleanup: () => Promise<void>;
}

const factories: Record<string, () => Promise<Made>> = {
  memory: async () => {
    const store = new MemoryStore();
    return { store, files: async () => [], cleanup: () => store.close() };
  },
  sqlite: async () => {
    const directory = await mkdtemp(join(tmpdir(), 'postroom-multiappend-'));
    const store = await SqliteStore.open({ directory });
    return {
      store,
      files: async () => [...(await filesUnder(join(directory, 'blobs'))), ...(await filesUnder(join(directory, 'tmp')))],
      cleanup: async () => {
        await store.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
};

async function inbox(store: MailStore): Promise<Buffer[]> {
  const mail = await store.open('alice');
  try {
    const box = await mail.get('INBOX');
    const out: Buffer[] = [];
    for (const m of (await mail.snapshot(box.id)).messages) out.push(await mail.read(box.id, m.uid));
    return out;
  } finally {
    await mail.close();
  }
}

/**
 * Sends an APPEND of `parts` with synchronising literals, waiting for each `+`; stops when the
 * server answers the tag instead. Returns the tagged line.
 */
async function multiappend(c: RawClient, tag: string, parts: Array<{ flags?: string; body: Buffer }>): Promise<string> {
  for (const [i, part] of parts.entries()) {
    const head = `${i === 0 ? `${tag} APPEND INBOX` : ''} ${part.flags ? `${part.flags} ` : ''}{${part.body.length}}\r\n`;
    c.send(head);
    const answer = await c.expect(new RegExp(`^(\\+ |${tag} )`), 20_000);
    if (answer.startsWith(`${tag} `)) return answer;
    c.send(part.body);
  }
  c.send('\r\n');
  return c.expect(new RegExp(`^${tag} `), 20_000);
}

for (const [storeName, factory] of Object.entries(factories)) {
  describe(`MULTIAPPEND with streamed messages (${storeName})`, () => {
    it('small and large messages mixed: all stored, in order, byte for byte, one APPENDUID range', async (t) => {
      const made = await factory();
      const s = await startImapServer({ store: made.store });
      t.after(async () => { await s.close(); await made.cleanup(); });
      const c = new RawClient(s.port);
      await c.login();
      const bodies = [message('one', 300_000), message('two', 200), message('three', 150_000), message('four', 70_000), message('five', 100)];
      const tagged = await multiappend(c, 'a', bodies.map((body, i) => ({ body, flags: i === 1 ? '(\\Seen $Work)' : undefined })));
      assert.match(tagged, /^a OK \[APPENDUID \d+ 1:5\]/);
      const stored = await inbox(made.store);
      assert.equal(stored.length, 5);
      for (const [i, body] of bodies.entries()) assert.ok(stored[i]!.equals(body), `message ${i + 1} stored as sent`);
      await run(c, 's', 'EXAMINE INBOX');
      const flags = await run(c, 'f', 'UID FETCH 2 FLAGS');
      assert.match(flags.join('\n'), /FLAGS \(\\Seen \$Work( \\Recent)?\)/);
      assert.match((await run(c, 'n', 'NOOP')).at(-1)!, /^n OK/);
      c.destroy();
    });

    it('the third message refused (over APPENDLIMIT): NO [TOOBIG] instead of its "+", nothing stored, no file left', async (t) => {
      const made = await factory();
      const s = await startImapServer({ store: made.store, limits: { maxMessageSize: 500_000 } });
      t.after(async () => { await s.close(); await made.cleanup(); });
      const c = new RawClient(s.port);
      await c.login();
      const caps = (await run(c, 'c', 'CAPABILITY'))[0]!;
      assert.match(caps, / MULTIAPPEND( |$)/);
      assert.match(caps, / APPENDLIMIT=500000( |$)/);
      const tagged = await multiappend(c, 'a', [{ body: message('one', 200_000) }, { body: message('two', 300) }, { body: message('three', 600_000) }]);
      assert.match(tagged, /^a NO \[TOOBIG\]/);
      assert.equal((await inbox(made.store)).length, 0);
      assert.deepEqual(await made.files(), []);
      // The session goes on; the UIDs the refused command did not use are still free or skipped, never reused.
      assert.match((await run(c, 'n', 'NOOP')).at(-1)!, /^n OK/);
      assert.match(await multiappend(c, 'b', [{ body: message('again', 100_000) }]), /^b OK \[APPENDUID \d+ \d+\]/);
      c.destroy();
    });

    it('the third message empty: NO, nothing stored; garbage after a streamed message: BAD, nothing stored', async (t) => {
      const made = await factory();
      const s = await startImapServer({ store: made.store });
      t.after(async () => { await s.close(); await made.cleanup(); });
      const c = new RawClient(s.port);
      await c.login();
      c.send('a APPEND INBOX {100000}\r\n');
      await c.expect(/^\+ /);
      c.send(message('one', 100_000));
      c.send(' {5+}\r\nhello {0+}\r\n\r\n');
      assert.match(await c.expect(/^a /, 20_000), /^a NO Empty message/);
      c.send('b APPEND INBOX {100000}\r\n');
      await c.expect(/^\+ /);
      c.send(message('one', 100_000));
      c.send(' (\\Seen)\r\n');
      assert.match(await c.expect(/^b /, 20_000), /^b BAD/);
      assert.equal((await inbox(made.store)).length, 0);
      assert.deepEqual(await made.files(), []);
      assert.match((await run(c, 'n', 'NOOP')).at(-1)!, /^n OK/);
      c.destroy();
    });

    it('a quota that allows each message but not their sum: NO [OVERQUOTA], nothing stored, no file left', async (t) => {
      const made = await factory();
      const s = await startImapServer({ store: made.store });
      t.after(async () => { await s.close(); await made.cleanup(); });
      // STORAGE is counted in KiB (RFC 9208): 400 KiB, and two messages of 300,000 bytes.
      await made.store.setQuota!('alice', { storage: 400 * 1024 });
      const c = new RawClient(s.port);
      await c.login();
      const tagged = await multiappend(c, 'a', [{ body: message('one', 300_000) }, { body: message('two', 300_000) }]);
      assert.match(tagged, /^a NO \[OVERQUOTA\]/);
      assert.equal((await inbox(made.store)).length, 0);
      assert.deepEqual(await made.files(), []);
      assert.match(await multiappend(c, 'b', [{ body: message('one', 300_000) }]), /^b OK/);
      c.destroy();
    });

    it('a client that goes away in the middle of the second (streamed) message: nothing stored, no file left', async (t) => {
      const made = await factory();
      const s = await startImapServer({ store: made.store });
      t.after(async () => { await s.close(); await made.cleanup(); });
      const c = new RawClient(s.port);
      await c.login();
      c.send('a APPEND INBOX {200000}\r\n');
      await c.expect(/^\+ /);
      c.send(message('one', 200_000));
      c.send(' (\\Flagged) {2000000}\r\n');
      await c.expect(/^\+ /);
      c.send(message('two', 2_000_000).subarray(0, 1_000_000));
      // Let the store read into the second message, then hang up.
      await new Promise((r) => setTimeout(r, 200));
      c.destroy();
      await until('the session is gone', () => s.server.connections().length === 0, 10_000);
      // The store's clean-up runs as the aborted read unwinds; give it a moment, bounded.
      let left = await made.files();
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = await made.files();
      }
      assert.deepEqual(left, []);
      assert.equal((await inbox(made.store)).length, 0);
    });
  });
}
