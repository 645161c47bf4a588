/**
 * RFC 4978 COMPRESS=DEFLATE over real sockets: a client driven with node:zlib (plain and TLS), the
 * RFC's examples, a large FETCH, IDLE and IDLE hibernation of a compressed session, a deflate bomb
 * (bounded memory, BYE), and `openssl s_client` with a Python raw-deflate helper.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { RawClient, run, sleep, until } from '../helpers/raw-client.js';
import { stallDuring } from '../helpers/stalled-reader.js';

async function withServer(fn: (s: TestServer) => Promise<void>, limits: Record<string, number> = {}): Promise<void> {
  const s = await startImapServer({ limits: { idleHibernateSeconds: 0, ...limits } });
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

/** Logs in, turns compression on and returns the client speaking deflate. */
async function compressed(port: number, options: { tls?: boolean } = {}): Promise<RawClient> {
  const c = new RawClient(port, options);
  await c.login();
  const lines = await run(c, 'z', 'COMPRESS DEFLATE');
  assert.equal(lines.at(-1), 'z OK DEFLATE active');
  c.startCompression();
  return c;
}

function message(subject: string, bodyLines: number): string {
  const lines: string[] = [];
  for (let i = 0; i < bodyLines; i++) lines.push(`Line ${i} of a long and rather repetitive message body, as mail often is.`);
  return `From: a@example.org\r\nTo: b@example.org\r\nSubject: ${subject}\r\n\r\n${lines.join('\r\n')}\r\n`;
}

async function append(c: RawClient, tag: string, mailbox: string, msg: string): Promise<void> {
  const lines = await run(c, tag, `APPEND ${mailbox} {${Buffer.byteLength(msg)}+}\r\n${msg}`);
  assert.match(lines.at(-1)!, new RegExp(`^${tag} OK`));
}

describe('COMPRESS=DEFLATE (RFC 4978)', () => {
  it('is offered after login only; bad mechanism is BAD; repeated COMPRESS is NO [COMPRESSIONACTIVE]', () =>
    withServer(async (s) => {
      const c = new RawClient(s.port);
      const greeting = await c.expect(/^\* OK/);
      assert.doesNotMatch(greeting, /COMPRESS=DEFLATE/);
      // command-auth (§5): not before login.
      assert.match((await run(c, 'a', 'COMPRESS DEFLATE')).at(-1)!, /^a BAD /);
      c.send('L LOGIN alice secret\r\n');
      assert.match(await c.expect(/^L OK/), /COMPRESS=DEFLATE/);
      const caps = await run(c, 'b', 'CAPABILITY');
      assert.match(caps[0]!, /^\* CAPABILITY .* COMPRESS=DEFLATE/);
      assert.match((await run(c, 'c', 'COMPRESS LZMA')).at(-1)!, /^c BAD /);
      assert.match((await run(c, 'd', 'COMPRESS')).at(-1)!, /^d BAD /);
      assert.equal((await run(c, 'e', 'COMPRESS deflate')).at(-1), 'e OK DEFLATE active');
      c.startCompression();
      // The RFC's second example: compression active already.
      assert.equal((await run(c, 'f', 'COMPRESS DEFLATE')).at(-1), 'f NO [COMPRESSIONACTIVE] DEFLATE active via COMPRESS');
      assert.equal((await run(c, 'g', 'NOOP')).at(-1), 'g OK NOOP completed');
      c.destroy();
    }));

  it('UNAUTHENTICATE under COMPRESS answers OK and ends the connection with BYE, compressed to the end', () =>
    withServer(async (s) => {
      const c = new RawClient(s.port);
      await c.expect(/^\* OK/);
      c.send('L LOGIN alice secret\r\n');
      assert.match(await c.expect(/^L OK/), /UNAUTHENTICATE/);
      assert.equal((await run(c, 'e', 'COMPRESS DEFLATE')).at(-1), 'e OK DEFLATE active');
      c.startCompression();
      const lines = await run(c, 'u', 'UNAUTHENTICATE');
      assert.match(lines[0]!, /^\* BYE /);
      assert.match(lines.at(-1)!, /^u OK /);
      await c.waitClosed();
      assert.equal(c.inflateError, null);
    }));

  it("runs the RFC's first example over STARTTLS: TLS, then LOGIN, then COMPRESS inside TLS", () =>
    withServer(async (s) => {
      const c = new RawClient(s.port);
      assert.match(await c.expect(/^\* OK/), /STARTTLS/);
      assert.match((await run(c, 'a', 'STARTTLS')).at(-1)!, /^a OK/);
      await c.upgrade();
      assert.match((await run(c, 'b', 'LOGIN alice secret')).at(-1)!, /^b OK/);
      assert.equal((await run(c, 'c', 'compress deflate')).at(-1), 'c OK DEFLATE active');
      c.startCompression();
      const list = await run(c, 'd', 'LIST "" INBOX');
      assert.deepEqual(list, ['* LIST (\\HasNoChildren) "/" INBOX', 'd OK LIST completed']);
      await run(c, 'e', 'LOGOUT');
      await c.waitClosed();
      assert.equal(c.inflateError, null);
    }));

  for (const tls of [false, true]) {
    it(`SELECT, FETCH of a large body and an IDLE wake-up, compressed (${tls ? 'TLS' : 'plaintext'})`, () =>
      withServer(async (s) => {
        const other = new RawClient(s.port);
        await other.login();
        const big = message('big', 40_000); // about 3 MB
        await append(other, 'a1', 'INBOX', big);
        const c = await compressed(tls ? s.tlsPort : s.port, { tls });
        const select = await run(c, 's', 'SELECT INBOX');
        assert.ok(select.includes('* 1 EXISTS'));
        const before = c.wireBytesIn;
        c.send('f FETCH 1 BODY.PEEK[]\r\n');
        const head = await c.expect(/^\* 1 FETCH/);
        assert.equal(head, `* 1 FETCH (BODY[] {${big.length}}`);
        // The literal's lines, then the closing parenthesis and the tagged OK.
        const lines: string[] = [];
        for (;;) {
          const line = await c.expect(/.*/, 20_000);
          if (line.startsWith('f ')) {
            assert.equal(line, 'f OK FETCH completed');
            break;
          }
          lines.push(line);
        }
        assert.equal(lines.at(-1), ')');
        assert.equal(`${lines.slice(0, -1).join('\r\n')}\r\n`, big);
        const wire = c.wireBytesIn - before;
        assert.ok(wire < big.length / 5, `compressed on the wire: ${wire} bytes for ${big.length}`);

        c.send('i IDLE\r\n');
        await c.expect(/^\+ /);
        await append(other, 'a2', 'INBOX', message('second', 3));
        await c.expect(/^\* 2 EXISTS$/);
        c.send('DONE\r\n');
        assert.equal(await c.expect(/^i /), 'i OK IDLE terminated');
        await run(c, 'l', 'LOGOUT');
        await c.waitClosed();
        assert.equal(c.inflateError, null);
        other.destroy();
      }));
  }

  for (const tls of [false, true]) {
    it(`an IDLE compressed session is hibernated with its inflater and wakes compressed (${tls ? 'TLS' : 'plaintext'})`, () =>
      withServer(
        async (s) => {
          const other = new RawClient(s.port);
          await other.login();
          await append(other, 'a1', 'INBOX', message('one', 3));
          const c = await compressed(tls ? s.tlsPort : s.port, { tls });
          await run(c, 's', 'SELECT INBOX');
          // Some history in both directions, so that the compressors refer back to it.
          for (let i = 0; i < 5; i++) await run(c, `n${i}`, 'FETCH 1 (FLAGS BODY.PEEK[HEADER])');
          c.send('i1 IDLE\r\n');
          await c.expect(/^\+ /);
          await until('parked', () => (s.server.hibernation?.size ?? 0) === 1);
          // Woken by a change: the EXISTS comes from a new compressor on the same stream.
          await append(other, 'a2', 'INBOX', message('two', 3));
          await c.expect(/^\* 2 EXISTS$/);
          await until('parked again', () => (s.server.hibernation?.size ?? 0) === 1);
          // Woken by the client: DONE goes through the kept inflater.
          c.send('DONE\r\n');
          assert.equal(await c.expect(/^i1 /), 'i1 OK IDLE terminated');
          assert.equal(s.server.hibernation?.size, 0);
          const fetch = await run(c, 'f', 'FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
          assert.equal(fetch.filter((l) => l.startsWith('Subject:')).join(','), 'Subject: one,Subject: two');
          assert.equal((await run(c, 'z', 'COMPRESS DEFLATE')).at(-1), 'z NO [COMPRESSIONACTIVE] DEFLATE active via COMPRESS');
          await run(c, 'l', 'LOGOUT');
          await c.waitClosed();
          assert.equal(c.inflateError, null);
          other.destroy();
        },
        { idleHibernateSeconds: 0.2 },
      ));
  }

  it('a compressed client that stops reading during a 40 MB FETCH does not grow server memory (backpressure through the transport)', () =>
    withServer(async (s) => {
      const c = new RawClient(s.port);
      await c.login();
      const MESSAGES = 20;
      for (let i = 0; i < MESSAGES; i++) {
        // Random base64: deflate saves only about a quarter, so the compressed answer is large too.
        const body = randomBytes(1536 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n');
        const msg = `Subject: m${i}\r\n\r\n${body}\r\n`;
        c.send(`a${i} APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`);
        await c.expect(new RegExp(`^a${i} OK`), 20_000);
      }
      assert.equal((await run(c, 'z', 'COMPRESS DEFLATE')).at(-1), 'z OK DEFLATE active');
      c.startCompression();
      await run(c, 's', 'SELECT INBOX');
      const { peak, written, watchedMs } = await stallDuring(s, c, 'f FETCH 1:* BODY.PEEK[]\r\n');
      console.log(`# compressed stall: live memory growth ${(peak / 2 ** 20).toFixed(1)} MB, ${(written / 2 ** 20).toFixed(1)} MB written, watched ${(watchedMs / 1000).toFixed(1)} s`);
      assert.ok(written < 16 * 1024 * 1024, `server produced ${written} bytes for a client that reads nothing`);
      assert.ok(peak < 24 * 1024 * 1024, `server memory grew by ${peak} bytes while the client was not reading`);
      c.socket.resume();
      await c.expect(/^f OK/, 180_000); // a hang guard: the rest of 40 MB deflated under load takes long
      assert.equal(c.inflateError, null);
      c.destroy();
    }));

  it('imapflow turns COMPRESS on by itself (over TLS) and syncs through it: large body, IDLE wake-up', () =>
    withServer(async (s) => {
      const other = new RawClient(s.port);
      await other.login();
      const big = message('big', 20_000);
      await append(other, 'a1', 'INBOX', big);
      const client = new ImapFlow({ host: '127.0.0.1', port: s.tlsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice', pass: 'secret' }, logger: false });
      await client.connect();
      try {
        // imapflow keeps its inflater here once the server said OK to COMPRESS.
        assert.ok((client as unknown as { _inflate?: unknown })._inflate, 'imapflow did not turn compression on');
        assert.ok(s.server.connections().length >= 2);
        const lock = await client.getMailboxLock('INBOX');
        try {
          const msg = await client.fetchOne('1', { source: true });
          assert.ok(msg);
          assert.equal(msg.source?.toString('latin1'), big);
          const exists = new Promise<number>((resolve) => client.once('exists', (e: { count: number }) => resolve(e.count)));
          const idle = client.idle();
          await append(other, 'a2', 'INBOX', message('second', 3));
          assert.equal(await exists, 2);
          await client.noop();
          await idle.catch(() => undefined);
        } finally {
          lock.release();
        }
      } finally {
        await client.logout();
        other.destroy();
      }
    }));

  it('a deflate bomb (1 GiB of one overlong line from about 1 MB) is refused with BYE, memory bounded', () =>
    withServer(async (s) => {
      const c = new RawClient(s.port);
      await c.login();
      assert.equal((await run(c, 'z', 'COMPRESS DEFLATE')).at(-1), 'z OK DEFLATE active');
      c.startCompression();
      // The same compressed block, over and over: 1 MiB of 'A' each once the window is all 'A'.
      const bomber = zlib.createDeflateRaw({ level: 9 });
      const out: Buffer[] = [];
      bomber.on('data', (b: Buffer) => out.push(b));
      const flush = (data: Buffer): Promise<Buffer> =>
        new Promise((resolve) => {
          bomber.write(data);
          bomber.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(out.splice(0))));
        });
      const mib = Buffer.alloc(1024 * 1024, 'A');
      const first = await flush(Buffer.concat([Buffer.from('b1 NOOP '), mib]));
      await flush(mib);
      const block = await flush(mib);
      const base = process.memoryUsage();
      let peak = 0;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.rss - base.rss, m.arrayBuffers + m.heapUsed - base.arrayBuffers - base.heapUsed);
      }, 2);
      try {
        c.sendRaw(first);
        let sent = first.length;
        for (let i = 0; i < 1024 && !c.closed; i++) {
          if (!c.sendRaw(block)) await new Promise((r) => c.socket.once('drain', r).once('close', r));
          sent += block.length;
        }
        const bye = await c.expect(/^\* BYE/, 20_000);
        assert.match(bye, /^\* BYE .*(long|line)/i);
        await c.waitClosed(10_000);
        assert.ok(sent < 4 * 1024 * 1024, `compressed bytes written: ${sent}`);
      } finally {
        clearInterval(sampler);
      }
      // The whole bomb would be 1 GiB; the session holds at most its read-ahead (1 MiB) of it.
      assert.ok(peak < 64 * 1024 * 1024, `memory grew by ${Math.round(peak / 1048576)} MiB`);
      // The server is still fine.
      const d = new RawClient(s.port);
      await d.login();
      assert.match((await run(d, 'n', 'NOOP')).at(-1)!, /^n OK/);
      d.destroy();
    }));

  it('garbage that is not deflate data ends the session, not the server', () =>
    withServer(async (s) => {
      const c = new RawClient(s.port);
      await c.login();
      assert.equal((await run(c, 'z', 'COMPRESS DEFLATE')).at(-1), 'z OK DEFLATE active');
      c.sendRaw(Buffer.from('this is not a deflate stream\r\n'.repeat(10)));
      await c.waitClosed(10_000);
      const d = new RawClient(s.port);
      await d.login();
      assert.match((await run(d, 'n', 'NOOP')).at(-1)!, /^n OK/);
      d.destroy();
    }));

  it('openssl s_client with a raw deflate stream (Python zlib, wbits -15)', () =>
    withServer(async (s) => {
      const other = new RawClient(s.port);
      await other.login();
      await append(other, 'a1', 'INBOX', message('over openssl', 2000));
      other.destroy();
      const script = fileURLToPath(new URL('./python/compress_openssl.py', import.meta.url));
      const stdout = await new Promise<string>((resolve, reject) => {
        // Asynchronous: a synchronous spawn would block the event loop this server runs on.
        execFile('python3', [script, '127.0.0.1', String(s.tlsPort)], { timeout: 60_000 }, (err, out, errOut) => {
          if (err) reject(new Error(`${err.message}\n${out}\n${errOut}`));
          else resolve(out);
        });
      });
      assert.match(stdout, /^COMPRESS: z OK DEFLATE active$/m);
      assert.match(stdout, /^SELECT: .*1 EXISTS/m);
      assert.match(stdout, /^FETCH: literal \d+ bytes, 2000 body lines, Subject: over openssl$/m);
      assert.match(stdout, /^LOGOUT: \* BYE/m);
    }));
});
